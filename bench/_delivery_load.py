"""The load process of bench/delivery.py (run by it as a subprocess; not a benchmark by itself).

    python bench/_delivery_load.py SPEC.json OUT.json

One event loop (uvloop: `run_loop` says why), one keep-alive HTTP/1.1 connection per virtual
candidate, over a minimal client written on asyncio streams (no third-party HTTP library: at a few
hundred requests per second it costs far less CPU than requests/httpx, which matters on a 2-core
box shared with the server). A connection idle for longer than IDLE_RECONNECT (below gunicorn's 2 s keep-alive) is
replaced before use; a reused connection that the server closed before answering is retried
once on a fresh one (counted as `reconnect_retries`; every request here is idempotent).

Modes (SPEC["mode"]):
- "app": each candidate logs in, starts the attempt, fetches the paper (logins spread over
  `ramp_seconds`), then saves answers at a random item every U(interval) seconds in the paced
  window, then back-to-back in each of its burst windows (saturation), then submits (every
  `double_submit_every`-th candidate sends two submits at once) and reads the attempt back.
- "bare": the same paced phase and burst windows as PUTs to the bare endpoint, no
  login/paper/submit; its candidates (attempt and items) are those the app's load process
  wrote to `ready_file` once its candidates were set up.

The schedule (`schedule()`): both processes run at the same time, on one clock (asyncio's is
the system-wide CLOCK_MONOTONIC) from `t0`: the app's paced window, then the bare endpoint's,
then `burst_rounds` burst windows for each, in the order A B B A A B … (each mode's windows
sit symmetrically around the middle, so a machine that speeds up or slows down during the
bursts shifts both alike), `burst_gap_seconds` apart so that one mode's requests still in
flight when its window ends do not run in the other's window. A save belongs to the window in
which it was sent; a mode's burst throughput is its acknowledged burst saves over its windows'
total length (`burst_seconds`).
Every 2xx save goes into the ledger: (attempt_id, item_ref) → (seq, answer) of the last
acknowledged save. OUT.json gets latencies per phase, status counts, the ledger and the loop's
own lag (how late its timers fired: the load generator's share of any latency).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter

IDLE_RECONNECT = 1.5
TIMEOUT = 15.0


def run_loop(main):
    """Run the load's coroutine on uvloop: the load process shares the machine with the server
    under test, and uvloop's event loop (libuv) costs it about 40 % less CPU per request than
    asyncio's own (measured against gunicorn on this 2-core machine: 0.44 -> 0.25-0.29 ms per
    request on a new connection, 0.19 -> 0.13 on a kept-alive one), CPU the server gets instead."""
    import uvloop

    return uvloop.run(main)


class ConnectionGone(Exception):
    pass


class Client:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.last_used = 0.0
        self.retries = 0

    async def _connect(self):
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body=None, token: str | None = None):
        """(status, parsed JSON or None)."""
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUser-Agent: examsys-bench/1\r\n"
                f"Accept: application/json\r\nContent-Length: {len(payload)}\r\n")
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        raw = head.encode() + b"\r\n" + payload
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            fresh = self.writer is None or loop.time() - self.last_used > IDLE_RECONNECT
            if fresh:
                await self._connect()
            try:
                async with asyncio.timeout(TIMEOUT):  # no task per request, as wait_for made
                    return await self._exchange(raw)
            except ConnectionGone:
                self.close()
                if fresh or attempt == 2:
                    raise
                self.retries += 1  # the server closed an idle keep-alive connection: resend once
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    async def _exchange(self, raw: bytes):
        self.writer.write(raw)
        try:
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")  # the status line and headers at once
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            raise ConnectionGone() from exc  # e.g. the server closed an idle keep-alive connection
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            self.close()
        else:
            self.last_used = asyncio.get_running_loop().time()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        return status, data


# --- answers -----------------------------------------------------------------------------------


def make_answer(rng: random.Random, item: dict, seq: int):
    """A valid answer of the item's type, already in its stored (normalised) form."""
    qtype = item["qtype"]
    values = [o["value"] for o in item.get("options") or []]
    if qtype == "judge":
        return seq % 2 == 0
    if qtype == "single":
        return rng.choice(values)
    if qtype == "multi":
        return sorted(rng.sample(values, rng.randint(1, len(values))))
    if qtype == "fill":
        return [f"答案{seq}-{b}" for b in range(max(1, item.get("blanks") or 1))]
    return f"第{seq}稿：" + "安全用电要注意绝缘、接地与漏电保护，" * rng.randint(2, 12)


# --- the run -----------------------------------------------------------------------------------


def schedule(spec: dict, t_paced: float) -> dict[str, list[tuple[str, float, float]]]:
    """Each mode's windows [(phase, start, end)] from the app's paced start `t_paced`. A spec
    `alone` (one mode, no other load process): its paced window, then one burst window."""
    paced = spec["paced_seconds"]
    if spec.get("alone"):
        burst = (t_paced + paced, t_paced + paced + spec["burst_seconds"])
        return {slot_of(spec): [("paced", t_paced, t_paced + paced), ("burst", *burst)]}
    gap = spec.get("burst_gap_seconds", 1.0)
    windows: dict[str, list] = {"app": [], "bare": []}
    t = t_paced
    for phase, total, rounds in (("paced", paced, spec.get("paced_rounds", 1)),
                                 ("burst", spec["burst_seconds"], spec.get("burst_rounds", 1))):
        rounds = max(1, int(rounds))
        width = total / rounds
        for k in range(rounds):
            for slot in (("app", "bare") if k % 2 == 0 else ("bare", "app")):
                windows[slot].append((phase, t, t + width))
                t += width + gap
    return windows


def slot_of(spec: dict) -> str:
    """The schedule's slot a load process takes ("app" or "bare"): its mode, unless the spec names
    another (bench/audit.py runs two apps side by side, one in each slot)."""
    return spec.get("slot", spec["mode"])


class Run:
    def __init__(self, spec: dict):
        self.spec = spec
        self.mode = spec["mode"]
        self.rng = random.Random(spec.get("seed", 1))
        self.lat = {"login": [], "start": [], "paper": [], "paced": [], "burst": [], "submit": [], "state": []}
        self.status = {k: Counter() for k in self.lat}
        self.errors: list[str] = []
        self.ledger: dict[str, list] = {}  # "attempt:item" → [seq, answer]
        self.stale = 0
        self.per_window: Counter = Counter()  # window index -> acknowledged saves sent in it
        self.window = {}
        self.final_states: dict[str, str] = {}
        self.clients: list[Client] = []
        self.lag: list[float] = []

    def note_error(self, phase: str, text: str):
        if len(self.errors) < 30:
            self.errors.append(f"{phase}: {text}"[:300])

    async def call(self, client, phase, method, path, body=None, token=None, ok=(200, 201)):
        t0 = time.perf_counter()
        try:
            status, data = await client.request(method, path, body, token)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none is fatal
            self.lat[phase].append((time.perf_counter() - t0) * 1000)
            self.status[phase][f"exc:{type(exc).__name__}"] += 1
            self.note_error(phase, f"{method} {path}: {type(exc).__name__} {exc}")
            return None, None
        self.lat[phase].append((time.perf_counter() - t0) * 1000)
        self.status[phase][str(status)] += 1
        if status not in ok and not (status == 409 and phase in ("paced", "burst")):
            self.note_error(phase, f"{method} {path}: {status} {json.dumps(data, ensure_ascii=False)[:200]}")
        return status, data

    async def ticker(self, stop_at: float):
        loop = asyncio.get_running_loop()
        while loop.time() < stop_at:
            t = loop.time()
            await asyncio.sleep(0.05)
            self.lag.append((loop.time() - t - 0.05) * 1000)

    async def save_loop(self, client, cand, token, rng, windows):
        loop = asyncio.get_running_loop()
        items = cand["items"]
        seqs = {it["item_ref"]: 0 for it in items}
        lo, hi = self.spec["interval"]
        for k, (phase, start, end) in enumerate(windows):
            next_at = start + (rng.uniform(0, hi) if phase == "paced" else 0.0)
            while True:
                if phase == "paced":
                    if next_at >= end:
                        break
                    await asyncio.sleep(max(0.0, next_at - loop.time()))
                    # The next change U(lo, hi) later; a save slower than that delays the next
                    # one (no backlog of catch-up saves, like a debounced autosave).
                    next_at = max(next_at + rng.uniform(lo, hi), loop.time())
                else:
                    now = loop.time()
                    if now >= end:
                        break
                    if now < start:
                        await asyncio.sleep(start - now)
                item = rng.choice(items)
                ref = item["item_ref"]
                seqs[ref] += 1
                seq = seqs[ref]
                answer = make_answer(rng, item, seq)
                if self.mode == "app":
                    path = f"/api/v1/attempts/{cand['attempt_id']}/responses/{ref}"
                else:
                    path = f"/bare/{cand['attempt_id']}/{ref}"
                status, data = await self.call(client, phase, "PUT", path, {"answer": answer, "seq": seq}, token)
                if status is not None and 200 <= status < 300:
                    self.per_window[k] += 1
                    key = f"{cand['attempt_id']}:{ref}"
                    prev = self.ledger.get(key)
                    if prev is None or seq > prev[0]:
                        self.ledger[key] = [seq, answer]
                elif status == 409:
                    self.stale += 1
                elif status == 429 and not cand.get("limited"):  # how many it had sent: for the diagnosis
                    cand["limited"] = True
                    self.note_error(phase, f"attempt {cand['attempt_id']}: first 429 after {sum(seqs.values())} "
                                           f"saves, {loop.time() - windows[0][1]:.1f}s after its first window")

    async def candidate(self, i: int, cand: dict, t0: float, t_paced: float, windows: list):
        loop = asyncio.get_running_loop()
        rng = random.Random(self.spec.get("seed", 1) * 100_003 + i)
        client = Client(self.spec["host"], self.spec["port"])
        self.clients.append(client)
        token = None
        if self.mode == "app":
            await asyncio.sleep(max(0.0, t0 + rng.uniform(0, self.spec["ramp_seconds"]) - loop.time()))
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
            if loop.time() > t_paced:
                self.note_error("setup", f"candidate {i} ready {loop.time() - t_paced:.1f}s after the paced start")
        await self.save_loop(client, cand, token, rng, windows)
        if self.mode != "app":
            return
        # Submits after the burst's backlog has drained (every mode's last window: submits in the
        # bare endpoint's window would take its CPU), spread over a few seconds.
        spread = self.spec.get("submit_spread_seconds", 2.0)
        submit_at = self.t_done + self.spec.get("drain_seconds", 3.0) + rng.uniform(0, spread)
        await asyncio.sleep(max(0.0, submit_at - loop.time()))
        path = f"/api/v1/attempts/{cand['attempt_id']}/submit"
        every = self.spec.get("double_submit_every") or 0
        if every and i % every == 0:
            other = Client(self.spec["host"], self.spec["port"])
            self.clients.append(other)
            await asyncio.gather(self.call(client, "submit", "POST", path, {}, token),
                                 self.call(other, "submit", "POST", path, {}, token))
            other.close()
        else:
            await self.call(client, "submit", "POST", path, {}, token)
        status, data = await self.call(client, "state", "GET", f"/api/v1/attempts/{cand['attempt_id']}", None, token)
        if status == 200:
            self.final_states[str(cand["attempt_id"])] = data["status"]
            for r in data.get("responses") or []:  # the attempt read back must hold the ledger too
                key = f"{cand['attempt_id']}:{r['item_ref']}"
                acked = self.ledger.get(key)
                if acked and (r["seq"] < acked[0] or (r["seq"] == acked[0] and r["answer"] != acked[1])):
                    self.note_error("state", f"{key}: read back seq {r['seq']} vs acked {acked[0]}")
        client.close()

    async def write_ready(self, at: float):
        """At the paced start: the candidates set up, for the bare endpoint's load process."""
        await asyncio.sleep(max(0.0, at - asyncio.get_running_loop().time()))
        ready = [{"attempt_id": c["attempt_id"], "items": c["items"]} for c in self.spec["candidates"]
                 if c.get("attempt_id") and c.get("items")]
        path = self.spec["ready_file"]
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(ready, fh)
        os.replace(path + ".tmp", path)

    async def read_ready(self, deadline: float) -> list:
        loop = asyncio.get_running_loop()
        path = self.spec["ready_file"]
        while not os.path.exists(path):
            if loop.time() > deadline:
                raise RuntimeError(f"the app's load process wrote no {path}")
            await asyncio.sleep(0.1)
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)

    async def main(self) -> dict:
        loop = asyncio.get_running_loop()
        s = self.spec
        t0 = s.get("t0") or loop.time()  # shared with the other load process
        t_paced = t0 + s["ramp_seconds"] + s.get("setup_margin_seconds", 4.0)
        every = schedule(s, t_paced)
        windows = every[slot_of(s)]
        t_end = windows[-1][2]
        self.t_done = max(ws[-1][2] for ws in every.values())
        tick = asyncio.create_task(self.ticker(t_end + 5))
        if self.mode == "app":
            side = [self.write_ready(t_paced)] if s.get("ready_file") else []
            candidates = s["candidates"]
        else:
            side = []
            candidates = s["candidates"] if not s.get("ready_file") else await self.read_ready(windows[0][1])
            s["candidates"] = candidates
        await asyncio.gather(*side, *(self.candidate(i, c, t0, t_paced, windows)
                                      for i, c in enumerate(candidates)))
        tick.cancel()
        for c in self.clients:
            c.close()
        self.window = {"paced_seconds": s["paced_seconds"], "burst_seconds": s["burst_seconds"],
                       "windows": [[p, round(a - t0, 2), round(b - t0, 2), self.per_window[k]]
                                   for k, (p, a, b) in enumerate(windows)],
                       "total_seconds": round(loop.time() - t0, 2)}
        return {"mode": self.mode, "latencies_ms": self.lat, "cpu_seconds": round(time.process_time(), 2),
                "status": {k: dict(v) for k, v in self.status.items()}, "errors": self.errors,
                "stale_409": self.stale, "ledger": self.ledger, "window": self.window,
                "final_states": self.final_states,
                "reconnect_retries": sum(c.retries for c in self.clients), "loop_lag_ms": self.lag,
                "candidates": [{"attempt_id": c.get("attempt_id"), "items": c.get("items")}
                               for c in s["candidates"]]}


def main() -> int:
    spec_path, out_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    result = run_loop(Run(spec).main())
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("bench/_delivery_load.py is the load process of bench/delivery.py, not a benchmark; nothing to do")
        sys.exit(0)
    sys.exit(main())
