"""The fault tests' load: N virtual candidates autosaving with a client-side ledger of
acknowledgements, and the checks after a fault: that ledger against the `responses` table (lost
saves, older overwriting newer, as bench/delivery.py defines them), every acknowledged save
against the `answer_history` table (an acknowledged save must be in the history, not only in the
current answer), and the whole process record through `examsys audit verify` (every chain link
by link, the history against the saves' links, the seals)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import threading
import time
from collections import Counter

from tests.faults.harness import (
    ROOT,
    VENV_BIN,
    Cleanup,
    Gunicorn,
    bench_delivery,
    bench_load,
    free_port,
    log,
    prepare_database,
    server_env,
)

# --- the load --------------------------------------------------------------------------------------


class Candidate:
    def __init__(self, index: int, login: dict):
        self.index = index
        self.login = login
        self.token: str | None = None
        self.attempt_id: int | None = None
        self.items: list[dict] = []
        self.ready = False


class Load:
    """N virtual candidates on one asyncio loop in a thread of its own (one keep-alive connection
    each, bench's client): log in, list exams, start, fetch the paper; then save continuously — a
    random item, an answer valid for its type, seq increasing per item, a pause of U(pause)
    between saves (below the per-session save limit). A save is resent with the same seq and
    answer after a transport error, a 5xx or a 429, until it gets an answer (what a client must
    do: the seq makes a resend harmless). Every 200 goes into the ledger: (attempt, item) →
    (seq, answer) of the last one.

    `oks` logs (sent, answered) monotonic times of every 200, for recovery times; `acked` every
    acknowledged (attempt, item, seq, answer), for the answer history's check. `quiesce()`
    holds new saves back until `resume()`, so that the record can be verified at rest."""

    def __init__(self, port: int, logins: list[dict], *, seed: int = 1, pause=(0.08, 0.2)):
        self.port = port
        self.cands = [Candidate(i, login) for i, login in enumerate(logins)]
        self.seed, self.pause = seed, pause
        self.ledger: dict[tuple[int, int], tuple[int, object]] = {}
        self.acked: list[tuple[int, int, int, object]] = []
        self._go = threading.Event()
        self._go.set()
        self.acks = self.retries = self.stale = 0
        self.inflight = 0  # requests sent and not answered yet
        self.clients: list = []
        self.status: Counter = Counter()
        self.unexpected: list[str] = []
        self.oks: list[tuple[float, float, int]] = []  # (sent, answered, candidate index)
        self.crashed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # The controller's side (test thread).

    def start(self, cleanup: Cleanup) -> None:
        self._thread = threading.Thread(target=self._run, name="faults-load", daemon=True)
        self._thread.start()
        cleanup.add("load", self.stop)
        if not self._started.wait(10):
            raise AssertionError("load loop did not start")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(c.ready for c in self.cands):
            self._check_alive()
            if time.monotonic() > deadline:
                ready = sum(c.ready for c in self.cands)
                raise AssertionError(f"{ready}/{len(self.cands)} candidates ready after {timeout}s; "
                                     f"status {dict(self.status)}; {self.unexpected[:5]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        if self._thread.is_alive():
            log("load thread still running after stop")

    def _check_alive(self) -> None:
        if self.crashed is not None:
            raise AssertionError(f"load crashed: {type(self.crashed).__name__}: {self.crashed}")
        if self._thread is None or not self._thread.is_alive():
            raise AssertionError("load thread is not running")

    def first_ok_after(self, mark: float) -> tuple[float | None, dict[int, float]]:
        """(answer time of the first 200 sent at or after `mark`, {candidate: its first such})."""
        first, per = None, {}
        oks = self.oks  # appended (by the loop's thread) in answer order
        for k in range(len(oks) - 1, -1, -1):
            sent, done, who = oks[k]
            if done < mark:
                break
            if sent >= mark:
                first = done if first is None else min(first, done)
                per[who] = min(per.get(who, done), done)
        return first, per

    def wait_recovered(self, mark: float, cap: float) -> tuple[float, float]:
        """Seconds from `mark` to the first 200 sent after it, and until every candidate has had
        one; AssertionError after `cap` seconds."""
        while True:
            self._check_alive()
            first, per = self.first_ok_after(mark)
            if first is not None and len(per) == len(self.cands):
                return first - mark, max(per.values()) - mark
            if time.monotonic() - mark > cap:
                raise AssertionError(
                    f"not recovered {cap}s after the fault: {len(per)}/{len(self.cands)} candidates saved since; "
                    f"status {dict(self.status)}; {self.unexpected[:5]}")
            time.sleep(0.02)

    def wait_busy(self, n: int, timeout: float) -> int:
        """Until at least n requests are in flight (so that a fault lands on work in progress), at
        most `timeout` seconds. Returns how many were in flight."""
        deadline = time.monotonic() + timeout
        while self.inflight < n and time.monotonic() < deadline:
            time.sleep(0.001)
        return self.inflight

    def quiesce(self, timeout: float) -> None:
        """No new save is sent from now on, and none is in flight when this returns."""
        self._go.clear()
        deadline = time.monotonic() + timeout
        while self.inflight:
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.inflight} requests still in flight {timeout}s after quiescing")
            time.sleep(0.01)

    def resume(self) -> None:
        self._go.set()

    def figures(self) -> dict:
        return {"acks": self.acks, "retries": self.retries + sum(c.retries for c in self.clients),
                "stale_409": self.stale,
                "status": dict(self.status), "unexpected": list(self.unexpected[:10])}

    # The loop's side.

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the controller
            self.crashed = exc

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._started.set()
        clients = self.clients = [bench_load.Client("127.0.0.1", self.port) for _ in self.cands]
        tasks = [asyncio.create_task(self._candidate(c, cl)) for c, cl in zip(self.cands, clients, strict=True)]
        stopper = asyncio.create_task(self._stop.wait())
        await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        stopper.cancel()
        for cl in clients:
            cl.close()
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                raise r

    def _note(self, text: str) -> None:
        if len(self.unexpected) < 50:
            self.unexpected.append(text[:300])

    async def _call(self, client, method: str, path: str, body=None, token=None, *, done=(200, 201)):
        """Send until the answer is not a transport error, a 5xx or a 429 (same request each
        time). Returns (status, data, sent) of the final answer; `sent`: when it was sent."""
        backoff = 0.05
        while True:
            sent = time.monotonic()
            self.inflight += 1
            try:
                status, data = await client.request(method, path, body, token)
            except Exception as exc:  # noqa: BLE001 - refused, reset, timed out, cut off: resend
                self.status[f"exc:{type(exc).__name__}"] += 1
                status = data = None
            else:
                self.status[str(status)] += 1
            finally:
                self.inflight -= 1
            if status is not None and status < 500 and status != 429:
                return status, data, sent
            self.retries += 1
            delay = backoff
            if status == 429:
                with contextlib.suppress(TypeError, ValueError, AttributeError):
                    delay = float((data or {}).get("error", {}).get("details", {}).get("retry_after", 1))
                delay = min(max(delay, 0.2), 2.0)
            await asyncio.sleep(delay)
            backoff = min(backoff * 2, 0.4)

    async def _setup(self, c: Candidate, client) -> None:
        status, data, _ = await self._call(client, "POST", "/api/v1/candidate/session", c.login)
        if status != 201:
            raise AssertionError(f"candidate {c.index} login: {status} {data}")
        c.token = data["token"]
        status, data, _ = await self._call(client, "GET", "/api/v1/candidate/exams", token=c.token)
        if status != 200 or not data["exams"] or not data["exams"][0]["can_start"]:
            raise AssertionError(f"candidate {c.index} exams: {status} {data}")
        exam_id = data["exams"][0]["exam_id"]
        status, data, _ = await self._call(client, "POST", f"/api/v1/exams/{exam_id}/attempt", {}, c.token)
        if status not in (200, 201):
            raise AssertionError(f"candidate {c.index} start: {status} {data}")
        c.attempt_id = data["attempt_id"]
        status, data, _ = await self._call(client, "GET", f"/api/v1/attempts/{c.attempt_id}/paper", token=c.token)
        if status != 200:
            raise AssertionError(f"candidate {c.index} paper: {status} {data}")
        c.items = [{"item_ref": it["item_ref"], "qtype": it["qtype"], "blanks": it.get("blanks"),
                    "options": [{"value": o["value"]} for o in it.get("options") or []]} for it in data["items"]]
        c.ready = True

    async def _candidate(self, c: Candidate, client) -> None:
        rng = random.Random(self.seed * 100_003 + c.index)
        await asyncio.sleep(rng.uniform(0, 0.5))
        await self._setup(c, client)
        seqs = {it["item_ref"]: 0 for it in c.items}
        while True:
            while not self._go.is_set():
                await asyncio.sleep(0.02)
            item = rng.choice(c.items)
            ref = item["item_ref"]
            seqs[ref] += 1
            seq = seqs[ref]
            answer = bench_load.make_answer(rng, item, seq)
            path = f"/api/v1/attempts/{c.attempt_id}/responses/{ref}"
            status, data, sent = await self._call(client, "PUT", path, {"answer": answer, "seq": seq}, c.token)
            if status == 200:
                if not isinstance(data, dict) or data.get("seq") != seq:
                    self._note(f"{c.attempt_id}:{ref} seq {seq}: 200 with {data}")
                self.ledger[(c.attempt_id, ref)] = (seq, answer)
                self.acked.append((c.attempt_id, ref, seq, answer))
                self.acks += 1
                self.oks.append((sent, time.monotonic(), c.index))
            elif status == 409:  # one save in flight per candidate: a stale seq is never expected
                self.stale += 1
                self._note(f"{c.attempt_id}:{ref} seq {seq}: 409 {json.dumps(data, ensure_ascii=False)[:200]}")
            else:
                self._note(f"{c.attempt_id}:{ref} seq {seq}: {status} {json.dumps(data, ensure_ascii=False)[:200]}")
            await asyncio.sleep(rng.uniform(*self.pause))


# --- the check ----------------------------------------------------------------------------------


def database_engine(url: str, cleanup: Cleanup):
    """An engine for the checks (pre-ping: it outlives database restarts)."""
    from sqlalchemy import create_engine

    engine = create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0)
    cleanup.add("check engine", engine.dispose)
    return engine


def check_ledger(engine, ledger: dict) -> dict:
    """The ledger against the `responses` table (bench/delivery.py's check_ledger, on a ledger
    keyed by (attempt_id, item_ref)): lost = an acknowledged save that is missing, stored at a
    lower seq, or stored at its seq with another answer; older_overwrote_newer = stored at a
    lower seq than acknowledged. Valid at any moment, load running or not, as long as the ledger
    is copied before the table is read: a stored seq only ever grows."""
    from sqlalchemy import text

    ledger = dict(ledger)  # one C-level copy: atomic against the load thread's updates
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        rows = {(a, i): (s, ans) for a, i, s, ans in conn.execute(
            text("SELECT attempt_id, form_item_id, seq, answer FROM responses"))}
    missing = older = other_answer = newer = 0
    samples = []
    for key, (seq, answer) in ledger.items():
        stored = rows.get(key)
        if stored is None:
            missing += 1
            samples.append(f"{key}: acknowledged seq {seq}, nothing stored")
            continue
        s, ans = stored
        if sqlite and isinstance(ans, str):  # a text query gets SQLite's JSON as text
            ans = json.loads(ans)
        if s < seq:
            older += 1
            samples.append(f"{key}: acknowledged seq {seq}, stored seq {s}")
        elif s == seq and ans != answer:
            other_answer += 1
            samples.append(f"{key}: seq {seq} acknowledged {answer!r}, stored {ans!r}")
        elif s > seq:
            newer += 1
    return {"checked": len(ledger), "lost": missing + older + other_answer, "missing": missing,
            "older_overwrote_newer": older, "other_answer_at_acked_seq": other_answer,
            "stored_newer_than_acked": newer, "samples": samples[:10]}


def check_history(engine, acked: list) -> dict:
    """Every acknowledged (attempt, item, seq, answer) against `answer_history` (bench's
    check_history). Valid at any moment (the history is append-only) once `acked` is copied."""
    acked = list(acked)
    with engine.connect() as conn:
        return bench_delivery.check_history(conn, acked)


def verify_record(env: dict) -> dict:
    """`examsys audit verify --json` against the database of `env` (as an operator runs it):
    {"ok", "scopes", "events", "history_rows", "failures" (the first few)}."""
    done = subprocess.run([str(VENV_BIN / "examsys"), "audit", "verify", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return {"ok": False, "scopes": 0, "events": 0, "history_rows": 0,
                "failures": [f"examsys audit verify exited {done.returncode}: {done.stderr[-1500:]}"]}
    ok = bool(report.get("ok")) and done.returncode == 0
    return {"ok": ok, "scopes": report.get("scopes", 0), "events": report.get("events", 0),
            "history_rows": report.get("history_rows", 0), "failures": (report.get("failures") or [])[:5]}


class LedgerChecks:
    """`check_ledger` run at several points of a test, totalled; with `env` (the server's
    environment), `verify(when)` checks the answer history against every acknowledged save and
    runs `examsys audit verify` over the whole record (the load quiesced meanwhile)."""

    def __init__(self, engine, load: Load, env: dict | None = None):
        self.engine, self.load, self.env = engine, load, env
        self.points = self.checked = self.lost = self.regressed = 0
        self.verifications = self.chains_broken = self.history_checked = self.history_lost = 0
        self.events_verified = self.scopes_verified = 0
        self.samples: list[str] = []

    def __call__(self, when: str) -> None:
        result = check_ledger(self.engine, self.load.ledger)
        self.points += 1
        self.checked += result["checked"]
        self.lost += result["lost"]
        self.regressed += result["older_overwrote_newer"]
        self.samples = (self.samples + [f"{when}: {s}" for s in result["samples"]])[:20]

    def verify(self, when: str, *, quiesce: bool = True) -> None:
        """The history holds every acknowledged save, and every chain verifies."""
        if quiesce:
            self.load.quiesce(30)
        try:
            history = check_history(self.engine, self.load.acked)
            record = verify_record(self.env)
        finally:
            if quiesce:
                self.load.resume()
        self.verifications += 1
        self.history_checked += history["checked"]
        self.history_lost += history["missing"] + history["other_answer"]
        self.events_verified, self.scopes_verified = record["events"], record["scopes"]
        if not record["ok"]:
            self.chains_broken += 1
        notes = [f"{when}: {s}" for s in history["samples"]]
        notes += [f"{when}: audit verify: {json.dumps(f, ensure_ascii=False)[:300]}" for f in record["failures"]]
        self.samples = (self.samples + notes)[:20]

    def summary(self) -> str:
        return (f"history: {self.history_checked} acknowledged saves checked at {self.verifications} points, "
                f"missing or other answer {self.history_lost}; audit verify: {self.verifications} runs, failed "
                f"{self.chains_broken} (last: {self.scopes_verified} chains, {self.events_verified} events)")


def app_under_load(url: str, tmp, cleanup: Cleanup, *, candidates: int, seed: int, settle: float):
    """The database prepared, gunicorn serving it, `candidates` saving: (server, load, engine)."""
    seeded = prepare_database(url, candidates, tmp)
    engine = database_engine(url, cleanup)
    server = Gunicorn(free_port(), server_env(url, tmp), tmp / "gunicorn.log", cleanup)
    server.start()
    server.wait_healthy()
    load = Load(server.port, seeded["logins"], seed=seed)
    load.start(cleanup)
    load.wait_ready(60)
    time.sleep(settle)
    return server, load, engine
