"""The load process of bench/load.py (run by it as a subprocess; not a benchmark by itself).

    python bench/_load_client.py SPEC.json OUT.json

One event loop (uvloop, as bench/_delivery_load.py runs it), one keep-alive connection per
virtual candidate (bench/_delivery_load.py's client and answers), through a compressed exam day
whose deadline `deadline` (epoch seconds) is
the batch's window end, shared by every attempt:

- start storm: each candidate signs in, starts and loads the paper at a random moment of the
  first `storm_seconds`;
- autosave: a random item every U(think) seconds (think time), seq increasing per item;
- deadline spike: all but `stragglers` of the candidates submit at a random moment of the last
  `spike_seconds` (one last save first); the stragglers keep saving up to the deadline, then
  half of them send one save inside the grace and one after deadline + grace (the first may be
  accepted, the second must be refused), the other half just stop (their browser closed): the
  sweeper has to finalise them.

Every request is timed by kind (login, start, paper, save, spike_save, submit, late_save). Every
2xx save is acknowledged: (attempt_id, item_ref, seq, answer, server saved_at) goes into `acked`.
Expected refusals are not errors: `attempt_closed` for a save sent after the deadline. Anything
else that is not 2xx, and every transport failure, is.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _delivery_load as base  # noqa: E402  (bench/_delivery_load.py)

KINDS = ("login", "start", "paper", "save", "spike_save", "submit", "late_save")


class Run:
    def __init__(self, spec: dict):
        self.spec = spec
        self.lat = {k: [] for k in KINDS}
        self.done_at = {k: [] for k in KINDS}  # epoch second each latency of `lat` ended, same order
        self.status = {k: Counter() for k in KINDS}
        self.codes: Counter = Counter()  # error codes of non-2xx answers, by kind
        self.errors: list[str] = []
        self.acked: list[list] = []  # [attempt_id, item_ref, seq, answer, saved_at]
        self.ack_times: list[float] = []  # epoch seconds of each acknowledgement
        self.late = Counter()  # late saves: sent within grace / after cutoff x accepted / refused
        self.unexpected = 0
        self.ready = 0
        self.submitted = 0
        self.clients: list = []
        self.lag: list[float] = []

    def note(self, text: str) -> None:
        if len(self.errors) < 40:
            self.errors.append(text[:300])

    async def call(self, client, kind: str, method: str, path: str, body=None, token=None, *, expected=()):
        """(status, data); a status in `expected` (with its error code) is not an error."""
        t0 = time.perf_counter()
        try:
            status, data = await client.request(method, path, body, token)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none is fatal
            self.lat[kind].append((time.perf_counter() - t0) * 1000)
            self.done_at[kind].append(time.time())
            self.status[kind][f"exc:{type(exc).__name__}"] += 1
            self.unexpected += 1
            self.note(f"{kind} {method} {path}: {type(exc).__name__} {exc}")
            return None, None
        self.lat[kind].append((time.perf_counter() - t0) * 1000)
        self.done_at[kind].append(time.time())
        self.status[kind][str(status)] += 1
        if not 200 <= status < 300:
            code = ((data or {}).get("error") or {}).get("code") if isinstance(data, dict) else None
            self.codes[f"{kind}:{status}:{code}"] += 1
            if (status, code) not in expected:
                self.unexpected += 1
                self.note(f"{kind} {method} {path}: {status} {json.dumps(data, ensure_ascii=False)[:200]}")
        return status, data

    async def ticker(self, stop_at: float):
        loop = asyncio.get_running_loop()
        n = 0
        while loop.time() < stop_at:
            t = loop.time()
            await asyncio.sleep(0.1)
            self.lag.append((loop.time() - t - 0.1) * 1000)
            n += 1
            if n % 10 == 0:
                gc.freeze()  # see main(): what a second has kept is not walked again

    async def save(self, client, cand, token, rng, seqs, kind: str, *, expected=()):
        item = rng.choice(cand["items"])
        ref = item["item_ref"]
        seqs[ref] += 1
        seq = seqs[ref]
        answer = base.make_answer(rng, item, seq)
        status, data = await self.call(client, kind, "PUT", f"/api/v1/attempts/{cand['attempt_id']}/responses/{ref}",
                                       {"answer": answer, "seq": seq}, token, expected=expected)
        if status is not None and 200 <= status < 300:
            self.acked.append([cand["attempt_id"], ref, seq, answer, (data or {}).get("saved_at")])
            self.ack_times.append(time.time())
            if not isinstance(data, dict) or data.get("seq") != seq:
                self.unexpected += 1
                self.note(f"{kind} {cand['attempt_id']}:{ref} seq {seq}: 2xx with {data}")
        return status

    async def candidate(self, i: int, cand: dict, at) -> None:
        """`at(epoch)`: the loop time of an epoch second."""
        s = self.spec
        loop = asyncio.get_running_loop()
        rng = random.Random(s.get("seed", 1) * 100_003 + i)
        client = base.Client(s["host"], s["port"])
        self.clients.append(client)
        deadline, grace = s["deadline"], s["grace_seconds"]
        lo, hi = s["think"]
        straggler = rng.random() < s["stragglers"]
        await asyncio.sleep(max(0.0, at(s["t0"] + rng.uniform(0, s["storm_seconds"])) - loop.time()))

        status, data = await self.call(client, "login", "POST", "/api/v1/candidate/session",
                                       {"ticket_no": cand["ticket_no"], "id_number": cand["id_number"]})
        if status != 201:
            return
        token = data["token"]
        exam_id = data["candidate"]["exam_id"]
        status, data = await self.call(client, "start", "POST", f"/api/v1/exams/{exam_id}/attempt", {}, token)
        if status not in (200, 201):
            return
        cand["attempt_id"] = data["attempt_id"]
        status, data = await self.call(client, "paper", "GET", f"/api/v1/attempts/{cand['attempt_id']}/paper",
                                       None, token)
        if status != 200:
            return
        cand["items"] = [{"item_ref": it["item_ref"], "qtype": it["qtype"], "blanks": it.get("blanks"),
                          "options": [{"value": o["value"]} for o in it.get("options") or []]}
                         for it in data["items"]]
        self.ready += 1
        seqs = {it["item_ref"]: 0 for it in cand["items"]}

        # Autosave with think time, up to the submit (or, for a straggler, the deadline).
        stop = deadline - 0.5 if straggler else deadline - rng.uniform(2.0, s["spike_seconds"])
        spike_from = deadline - s["spike_seconds"]
        while True:
            nxt = time.time() + rng.uniform(lo, hi)
            if nxt >= stop:
                break
            await asyncio.sleep(max(0.0, at(nxt) - loop.time()))
            await self.save(client, cand, token, rng, seqs, "spike_save" if nxt >= spike_from else "save")
        await asyncio.sleep(max(0.0, at(stop) - loop.time()))
        if not straggler:
            await self.save(client, cand, token, rng, seqs, "spike_save")
            path = f"/api/v1/attempts/{cand['attempt_id']}/submit"
            status, _ = await self.call(client, "submit", "POST", path, {}, token)
            if status == 200:
                self.submitted += 1
            client.close()
            return
        if rng.random() < 0.5:
            client.close()
            return  # the browser closed: only the sweeper finalises this attempt
        closed = {(409, "attempt_closed")}
        for late_at, where in ((deadline + rng.uniform(0.5, max(1.0, grace - 5)), "within_grace"),
                               (deadline + grace + rng.uniform(2.0, 6.0), "after_cutoff")):
            await asyncio.sleep(max(0.0, at(late_at) - loop.time()))
            status = await self.save(client, cand, token, rng, seqs, "late_save", expected=closed)
            ok = status is not None and 200 <= status < 300
            self.late[f"{where}_{'accepted' if ok else 'refused'}"] += 1
        client.close()

    async def main(self) -> dict:
        loop = asyncio.get_running_loop()
        offset = loop.time() - time.time()

        def at(epoch: float) -> float:
            return epoch + offset

        s = self.spec
        end = s["deadline"] + s["grace_seconds"] + 10
        tick = asyncio.create_task(self.ticker(at(end)))
        await asyncio.gather(*(self.candidate(i, c, at) for i, c in enumerate(s["candidates"])))
        tick.cancel()
        for c in self.clients:
            c.close()
        return {"latencies_ms": self.lat, "done_at": self.done_at,
                "status": {k: dict(v) for k, v in self.status.items()},
                "codes": dict(self.codes), "errors": self.errors, "unexpected": self.unexpected,
                "acked": self.acked, "ack_times": self.ack_times, "late": dict(self.late),
                "ready": self.ready, "submitted": self.submitted, "cpu_seconds": round(time.process_time(), 2),
                "reconnect_retries": sum(c.retries for c in self.clients), "loop_lag_ms": self.lag,
                "attempts": [c.get("attempt_id") for c in s["candidates"]]}


GC_MS: dict[int, list] = {0: [0, 0.0, 0.0], 1: [0, 0.0, 0.0], 2: [0, 0.0, 0.0]}  # count, total, max
_gc_start = [0.0]


def _gc_timer(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _gc_start[0]) * 1000
    entry = GC_MS[info["generation"]]
    entry[0] += 1
    entry[1] += ms
    entry[2] = max(entry[2], ms)


def main() -> int:
    spec_path, out_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    base.IDLE_RECONNECT = spec.get("idle_reconnect", base.IDLE_RECONNECT)
    base.TIMEOUT = spec.get("timeout", base.TIMEOUT)
    # This process is the candidates' browsers, not the server under test: its own collector's
    # pauses must not count as the server's latency. What it keeps (the acknowledged saves, the
    # latencies, a coroutine per candidate) grows to millions of objects, and a full collection
    # stops the loop for as long as it walks them. They are frozen each second (`ticker`), so
    # collections walk only what is new; the pauses that remain are in the output (`gc_ms`).
    gc.freeze()
    gc.callbacks.append(_gc_timer)
    result = base.run_loop(Run(spec).main())
    result["gc_ms"] = {str(g): {"collections": n, "total": round(t, 1), "max": round(m, 1)}
                       for g, (n, t, m) in GC_MS.items()}
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("bench/_load_client.py is the load process of bench/load.py, not a benchmark; nothing to do")
        sys.exit(0)
    sys.exit(main())
