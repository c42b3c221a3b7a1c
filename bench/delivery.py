"""Benchmark of candidate delivery: autosave under 200 concurrent candidates, next to a bare upsert.

    python bench/delivery.py [--candidates 200] [--paced-seconds 30] [--burst-seconds 12]
                             [--burst-rounds 3] [--postgresql-url URL | --no-postgresql]

For each database (a fresh SQLite file in WAL mode; PostgreSQL when reachable, in a throwaway
schema `bench_delivery` that is dropped afterwards):

1. `examsys db upgrade`, then one filed batch open now (window 3 h, 60 min duration) with N
   roster entries, built from tests/delivery/world.py plus N-3 more candidates. Where PostgreSQL
   runs with autovacuum off, the schema is then analyzed by hand, as autovacuum would have done
   long before an exam (`Autovacuum`).
2. The app under gunicorn (`-w 4 --threads 2 -k examsys.serving.FreeThreadWorker`, as `make run`
   serves it; fixed
   EXAMSYS_SECRET_KEY/EXAMSYS_DATA_KEY so the seeding process and the server agree on the
   ID-number blind index, login and autosave rate limits lifted, rate-limit storage in Redis as in production:
   BENCH_REDIS_URL, default redis://127.0.0.1:6379/14; set it empty for in-memory limits).
3. A load process (bench/_delivery_load.py: one event loop on uvloop, a keep-alive connection per
   candidate) drives N candidates: login, start, paper (spread over a ramp), then the *paced*
   phase (each candidate saves a random item every U(1, 2) s with per-item increasing seq), then
   *burst* windows (back-to-back saves: the server's capacity), then submit (every 5th candidate
   submits twice at once) and read the attempt back. A ledger keeps the last acknowledged
   (seq, answer) per item.
4. The baseline: bench/_bare_app.py (Flask, one upsert into a table of the responses' shape) on
   the same gunicorn settings and the same database, driven by a second load process with the
   same paced and burst load, running beside the app's, on one clock: the app's paced phase,
   then the bare endpoint's, then the burst windows alternating A B B A A B
   (--burst-rounds windows each, --burst-seconds in all each, --burst-gap apart). This shared
   machine's speed drifts by tens of percent within minutes; measuring the two capacities in
   alternating windows, instead of one after the other, keeps that drift out of their ratio.
5. From the database: every acknowledged save is stored (lost = missing, older seq, or other
   answer at the acknowledged seq), and every attempt has exactly one `attempt.submitted` event.

Prints per database: saves/s, p50/p95/p99 save latency, errors (non-2xx other than a 409 stale
seq, plus transport failures), lost acknowledged saves, and the ratios to the bare endpoint, then
ONE line of JSON (with `cpu.burst_ms_per_save`: the workers' and the whole machine's CPU per
save in the burst windows alone, app and bare -- what decides the burst ratio -- and the rest of
the machine's split into PostgreSQL, Redis, the load processes and everything else). "targets_met"
(issue 5): 0 errors, 0 lost acknowledged saves, one submission per attempt, paced-phase save
p99 < 100 ms, and throughput >= 60% of the bare endpoint's in both
phases (paced: same offered load; burst: capacity) -- on every database, PostgreSQL included
unless --no-postgresql is given.

Only loopback traffic; everything is bounded (a watchdog ends the run after --max-seconds) and
the gunicorn process groups, the load process, the temp directory and the schema are cleaned up
even on error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from _delivery_load import schedule, slot_of  # noqa: E402  (bench/_delivery_load.py: the load processes' windows)

from examsys.serving import WORKER_CLASS  # noqa: E402  (as `make run` serves the app; the bare endpoint too)

VENV_BIN = Path(sys.executable).parent
GUNICORN = VENV_BIN / "gunicorn" if (VENV_BIN / "gunicorn").exists() else ROOT / ".venv/bin/gunicorn"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_delivery"
SECRET_KEY = "bench-delivery-secret-key"
DATA_KEY = "bench-delivery-data-key"
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.6


def log(msg: str) -> None:
    print(f"[delivery] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return round(values[k], 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cleanup:
    """Process groups, schemas and directories to release, newest first, whatever happens."""

    def __init__(self):
        self.actions: list[tuple[str, object]] = []

    def add(self, label: str, fn) -> None:
        self.actions.append((label, fn))

    def run(self) -> None:
        while self.actions:
            label, fn = self.actions.pop()
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup {label}: {type(exc).__name__}: {exc}")


def kill_group(proc: subprocess.Popen, grace: float = 8.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# --- database set-up ---------------------------------------------------------------------------


def pg_connect(url: str, timeout: int = 5):
    """A psycopg connection (autocommit) to the database of a SQLAlchemy PostgreSQL URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                           dbname=u.database, connect_timeout=timeout, autocommit=True)


class Autovacuum:
    """What PostgreSQL's autovacuum does on a deployed server, done by hand where it is off (the
    development and CI server here turns it off so that tests do not race it): without it the
    exam's tables are never analyzed, and with no statistics PostgreSQL finds no generic plan
    cheaper than a custom one, so every prepared statement of the app is planned again at each
    execution. Measured on a day's database (5,000 candidates): the save's read ran 0 generic and
    50 custom plans, 0.48 ms each; after ANALYZE 45 and 5, 0.25 ms. A deployed server analyzes
    growing tables within its naptime (one minute); so does this: ANALYZE of the exam's schema
    after the seeding and every minute of the exam, VACUUM (ANALYZE) after it (bench/load.py),
    ANALYZE after the seeding (`run_database`: a run of under two minutes). Does nothing on
    SQLite or where autovacuum is on."""

    EVERY = 60.0

    def __init__(self, kind: str, url: str, schema: str):
        self.url, self.schema, self.runs, self.next_at = url, schema, [], 0.0
        self.active = kind == "postgresql" and self._setting() == "off"

    def _setting(self) -> str:
        with pg_connect(self.url) as conn:
            return conn.execute("SHOW autovacuum").fetchone()[0]

    def run(self, vacuum: bool = False) -> None:
        if not self.active:
            return
        t = time.monotonic()
        with pg_connect(self.url) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = %s", (self.schema,))]
            if tables:
                conn.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {', '.join(tables)}")
        self.runs.append(round(time.monotonic() - t, 2))
        self.next_at = time.monotonic() + self.EVERY

    def tick(self) -> None:
        if self.active and time.monotonic() >= self.next_at:
            self.run()

    def figures(self) -> dict:
        if not self.active:
            return {"emulated": False}
        return {"emulated": True, "every_s": self.EVERY, "runs": len(self.runs),
                "max_s": max(self.runs, default=None)}


def schema_url(base: str, schema: str) -> str:
    """`base` with its connections' search_path set to `schema` (what `schema_of` reads back)."""
    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"


def fresh_schema(base: str, schema: str, cleanup: Cleanup) -> str:
    """A new, empty `schema` (one left over is dropped first; it is dropped again at cleanup);
    the URL of `base` working in it."""
    pg_admin(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    pg_admin(base, f"CREATE SCHEMA {schema}")
    cleanup.add(f"schema {schema}", lambda: pg_admin(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    return schema_url(base, schema)


def schema_of(url: str) -> str:
    """The schema a PostgreSQL URL's search_path option names ("public" when none)."""
    from sqlalchemy.engine import make_url

    options = make_url(url).query.get("options") or ""
    found = re.search(r"search_path=([A-Za-z0-9_]+)", options if isinstance(options, str) else " ".join(options))
    return found.group(1) if found else "public"


def pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        with pg_connect(url, timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"


def pg_admin(url: str, sql: str) -> None:
    with pg_connect(url) as conn:
        conn.execute(sql)


REDIS_DEFAULT = "redis://127.0.0.1:6379/14"


def server_env(url: str) -> dict:
    env = dict(os.environ)
    env.update({"EXAMSYS_DATABASE_URL": url, "EXAMSYS_SECRET_KEY": SECRET_KEY, "EXAMSYS_DATA_KEY": DATA_KEY,
                "EXAMSYS_LOGIN_RATE": "1000000 per minute",
                "EXAMSYS_CANDIDATE_LOGIN_RATE": "1000000 per minute", "EXAMSYS_ENV": "development",
                # The burst saves back-to-back, hundreds a minute per candidate: far above a real
                # autosave's rate. Still counted, in Redis leases of the production size (10 hits).
                "EXAMSYS_AUTOSAVE_RATE": "600 per second",
                "EXAMSYS_DEBUG": "0", "BENCH_BARE_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"})
    # Production keeps rate-limit state in Redis (DESIGN: scale-out); so does the app under test.
    # The in-memory storage of `limits` starts a timer thread per hit and would skew the figures.
    # BENCH_REDIS_URL="" falls back to in-memory limits. The bare app has no limiter either way.
    redis_url = os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT)
    if redis_url:
        env["EXAMSYS_REDIS_URL"] = redis_url
    else:
        env.pop("EXAMSYS_REDIS_URL", None)
    return env


def upgrade(url: str, tmp: Path) -> None:
    env = server_env(url)
    env["EXAMSYS_UPLOAD_DIR"] = str(tmp / "uploads")
    out = subprocess.run([str(VENV_BIN / "examsys"), "db", "upgrade"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"examsys db upgrade failed: {out.stderr[-2000:]}")


def bench_id_number(k: int) -> str:
    """The k-th (0-based) seeded candidate's ID number: checksum-valid and different for every k
    (a made-up district code of its own, then one birth date per 999 candidates from 1970-01-01
    and the sequence number 001-999 within it; the check digit computed), so a roster of any
    size seeds without duplicates and never meets tests/delivery/world.py's numbers."""
    from datetime import date, timedelta

    from examsys.accounts import idnumber

    born = date(1970, 1, 1) + timedelta(days=k // 999)
    return idnumber.make_valid(f"440106{born:%Y%m%d}{k % 999 + 1:03d}")


def seed(url: str, n: int, tmp: Path, *, duration_minutes: int | None = None) -> dict:
    """One filed batch open now with n roster entries; the bare table. Returns the logins.

    The candidates beyond the world's three are written in bulk (one multi-row INSERT of
    candidates with their encrypted ID numbers, blind indexes and masked copies; one of roster
    entries), each candidate's `candidate.created` event appended to the organisation's chain
    and one `batch.roster_imported` event for the batch, as a roster import records it: 5,000
    candidates take seconds, not one request each. `duration_minutes` replaces the batch's."""
    os.environ.update({k: v for k, v in server_env(url).items() if k.startswith("EXAMSYS_")})
    import _bare_app
    from sqlalchemy import insert

    from examsys import audit, create_app, crypto
    from examsys.accounts import idnumber
    from examsys.accounts.candidates import ID_PURPOSE, id_index
    from examsys.accounts.models import Candidate
    from examsys.audit.actions import AuditAction
    from examsys.delivery.models import RosterEntry
    from examsys.extensions import db
    from tests.delivery.world import build_world

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"),
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        world = build_world(db)
        if duration_minutes is not None:
            world.batch.duration_minutes = duration_minutes
        org_id, batch_id, room_id = world.org.id, world.batch.id, world.room.id
        logins = [{"ticket_no": t, "id_number": i} for t, i in zip(world.tickets, world.id_numbers, strict=True)]
        extra = range(len(logins), n)
        keys = crypto.current_keys()
        numbers = [bench_id_number(k) for k in extra]
        rows = [{"organisation_id": org_id, "name": f"压测考生{k + 1}",
                 "id_number_ciphertext": crypto.encrypt(keys, number, purpose=ID_PURPOSE),
                 "id_number_index": id_index(number), "id_number_masked": idnumber.mask(number), "version": 1}
                for k, number in zip(extra, numbers, strict=True)]
        ids = list(db.session.scalars(insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True),
                                      rows)) if rows else []
        for cand_id, row in zip(ids, rows, strict=True):
            audit.record(AuditAction.CANDIDATE_CREATED, object_type="candidate", object_id=cand_id,
                         organisation_id=org_id, data={"name": row["name"], "id_number": row["id_number_masked"]})
        entries = []
        for k, cand_id, number in zip(extra, ids, numbers, strict=True):
            ticket = f"B{batch_id:04d}{k + 1:05d}"
            entries.append({"batch_id": batch_id, "candidate_id": cand_id, "ticket_no": ticket, "room_id": room_id,
                            "seat_no": k + 1, "order_seed": 5000 + k, "start_delay_seconds": 0})
            logins.append({"ticket_no": ticket, "id_number": number})
        if entries:
            db.session.execute(insert(RosterEntry), entries)
            audit.record(AuditAction.BATCH_ROSTER_IMPORTED, obj=world.batch,
                         data={"file": None, "candidates": len(entries)})
        db.session.commit()
        _bare_app.create_table(db.engine)
        db.session.remove()
        db.engine.dispose()
    return {"batch_id": batch_id, "logins": logins[:n]}


# --- servers and load --------------------------------------------------------------------------


def wait_healthz(port: int, proc: subprocess.Popen, log_path: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no /healthz on port {port} after {timeout}s: {log_path.read_text()[-2000:]}")


def start_server(target: str, url: str, args, tmp: Path, name: str, cleanup: Cleanup) -> tuple[int, subprocess.Popen]:
    port = free_port()
    log_path = tmp / f"{name}.log"
    env = server_env(url)
    env["EXAMSYS_UPLOAD_DIR"] = str(tmp / "uploads")
    cmd = [str(GUNICORN), "-w", str(args.workers), "--threads", str(args.threads), "-k", WORKER_CLASS,
           "-b", f"127.0.0.1:{port}",
           "--pythonpath", str(BENCH), target]
    with open(log_path, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    cleanup.add(f"gunicorn {name}", lambda: kill_group(proc))
    wait_healthz(port, proc, log_path)
    return port, proc


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / hz, sum(fields[:8]) / hz


def worker_pids(server: subprocess.Popen) -> list[str]:
    return subprocess.run(["ps", "--ppid", str(server.pid), "-o", "pid="], capture_output=True,
                          text=True).stdout.split()


def cpu_seconds(stat: str) -> float:
    """User + system CPU seconds of a process, from its /proc/<pid>/stat line."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu(server: subprocess.Popen) -> float:
    """CPU seconds used so far by the gunicorn master's workers."""
    total = 0.0
    pids = worker_pids(server)
    for pid in [str(server.pid), *pids]:
        with contextlib.suppress(OSError, IndexError, ValueError):  # a worker gone meanwhile
            total += cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    return total


def _process_kind(pid: str) -> tuple[str, float] | None:
    """(kind, CPU seconds so far) of a process other than the servers: "database" (postgres),
    "redis", "load" (bench/_delivery_load.py) or "other"; None when it is gone or a server's."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    comm = raw[raw.find("(") + 1:raw.rfind(")")]
    if b"gunicorn" in cmdline:
        return None  # the servers' workers: counted per server (workers_cpu)
    kind = ("database" if comm.startswith("postgres") else "redis" if comm.startswith("redis")
            else "load" if b"_delivery_load.py" in cmdline else "other")
    return kind, cpu_seconds(raw)


def others_cpu() -> dict[str, tuple[str, float]]:
    """pid -> (kind, CPU seconds so far) of every process on this machine but the servers'."""
    out = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (found := _process_kind(pid)) is not None:
            out[pid] = found
    return out


def others_delta(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per kind between two `others_cpu` samples (processes alive at both)."""
    kinds = {"database": 0.0, "redis": 0.0, "load": 0.0, "other": 0.0}
    for pid, (kind, cpu) in after.items():
        if pid in before:
            kinds[kind] += cpu - before[pid][1]
    return {k: round(v, 3) for k, v in kinds.items()}


def run_loads(runs: list[tuple[dict, str, subprocess.Popen]], tmp: Path, cleanup: Cleanup) -> list[dict]:
    """Run load processes side by side (one per (spec, name, server)), on one clock: each spec
    gets the same `t0` a moment ahead, so their windows (bench/_delivery_load.py `schedule`)
    line up. Returns each process's output with `cpu`: its server's worker CPU over the whole
    run and the load process's own; the machine's busy share and what is neither servers nor
    load processes (the database, anything else on the box) are for the whole run."""
    t0 = time.monotonic() + 1.0
    procs = []
    busy0, total0 = machine_cpu()
    servers0 = [workers_cpu(server) for _, _, server in runs]
    for spec, name, _server in runs:
        spec_path, out_path = tmp / f"{name}.spec.json", tmp / f"{name}.out.json"
        spec_path.write_text(json.dumps({**spec, "t0": t0}, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.Popen([sys.executable, str(BENCH / "_delivery_load.py"), str(spec_path), str(out_path)],
                                cwd=ROOT, start_new_session=True)
        cleanup.add(f"load {name}", lambda proc=proc: kill_group(proc, 2))
        procs.append((proc, name, out_path))
    spec = runs[0][0]  # the windows' end, as the load processes schedule them, and a margin
    t_paced = spec["ramp_seconds"] + spec.get("setup_margin_seconds", 4.0)
    budget = max(windows[-1][2] for windows in schedule(spec, t_paced).values()) + 60
    deadline = time.monotonic() + budget
    sampler = WindowCpu(runs, t0 + t_paced)
    sampler.start()
    for proc, name, _ in procs:
        try:
            rc = proc.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"load process {name} still running after {budget}s") from exc
        if rc != 0:
            raise RuntimeError(f"load process {name} failed ({rc})")
    busy1, total1 = machine_cpu()
    sampler.stop()
    outs = [json.loads(out_path.read_text(encoding="utf-8")) for _, _, out_path in procs]
    servers_s = [workers_cpu(server) - c0 for (_, _, server), c0 in zip(runs, servers0, strict=True)]
    loads_s = sum(out.get("cpu_seconds") or 0 for out in outs)
    for out, server_s in zip(outs, servers_s, strict=True):
        # The box is shared: whatever is neither the servers' workers nor the load processes is
        # the database plus anything else running on the machine at the time.
        out["cpu"] = {"machine_busy_pct": round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1),
                      "wall_s": round((total1 - total0) / (os.cpu_count() or 1), 1),
                      "server_workers_s": round(server_s, 1), "load_process_s": out.get("cpu_seconds"),
                      "database_and_other_s": round((busy1 - busy0) - sum(servers_s) - loads_s, 1)}
    for (spec, _name, _server), out in zip(runs, outs, strict=True):
        out["cpu"]["windows"] = sampler.windows.get(slot_of(spec), [])
    return outs


class WindowCpu:
    """CPU used in each load window, sampled at the windows' edges (the load processes keep the
    same schedule on the same monotonic clock): per window, [phase, start (s after the paced
    start), its server's worker CPU seconds, the whole machine's busy CPU seconds, the CPU
    seconds of this machine's other processes by kind (`others_cpu`)]. The run's totals mix the
    phases; a burst window's figures are what one save costs at full load."""

    def __init__(self, runs: list[tuple[dict, str, subprocess.Popen]], t_paced: float):
        self.servers = {slot_of(spec): server for spec, _, server in runs}
        self.t_paced = t_paced
        sched = {}
        for spec, _, _ in runs:
            sched.update({m: w for m, w in schedule(spec, t_paced).items() if m == slot_of(spec)})
        self.sched = sched
        self.windows: dict[str, list] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _sample(self) -> tuple[dict, float, dict]:
        return {m: workers_cpu(s) for m, s in self.servers.items()}, machine_cpu()[0], others_cpu()

    def _run(self) -> None:
        edges = sorted({t for ws in self.sched.values() for _, a, b in ws for t in (a, b)})
        at: dict[float, tuple[dict, float]] = {}
        for t in edges:
            if self._stop.wait(max(0.0, t - time.monotonic())):
                return
            at[t] = self._sample()
            for mode, ws in self.sched.items():
                for phase, a, b in ws:
                    if b == t and a in at:
                        self.windows.setdefault(mode, []).append(
                            [phase, round(a - self.t_paced, 1), round(at[b][0][mode] - at[a][0][mode], 3),
                             round(at[b][1] - at[a][1], 3), others_delta(at[a][2], at[b][2])])


def run_load(spec: dict, tmp: Path, name: str, cleanup: Cleanup, server: subprocess.Popen) -> dict:
    """One load process alone: its paced window, then one burst window."""
    return run_loads([({**spec, "alone": True}, name, server)], tmp, cleanup)[0]


def profiler_start(server: subprocess.Popen, out_dir: str, kind: str, cleanup: Cleanup) -> list:
    """py-spy (if installed) on every gunicorn worker of the app for the whole load: collapsed
    stacks of on-CPU samples, one file per worker, for finding where a save spends its time."""
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    pids = worker_pids(server)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    procs = []
    for pid in pids:
        out = Path(out_dir) / f"{kind}-worker-{pid}.txt"
        extra = os.environ.get("BENCH_PY_SPY_ARGS", "").split()  # e.g. "--gil": only the thread holding it
        p = subprocess.Popen([spy, "record", "-p", pid, "-r", "200", "-f", "raw", "-o", str(out), "--nonblocking",
                              *extra],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        cleanup.add(f"py-spy {pid}", lambda p=p: kill_group(p, 10))
        procs.append(p)
    return procs


def profiler_stop(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            kill_group(p, 2)


# --- checks and figures ------------------------------------------------------------------------


def check_ledger(conn, table: str, ledger: dict) -> dict:
    from sqlalchemy import text

    rows = {f"{a}:{i}": (s, ans) for a, i, s, ans in conn.execute(
        text(f"SELECT attempt_id, form_item_id, seq, answer FROM {table}"))}  # noqa: S608 - fixed names
    sqlite = conn.dialect.name == "sqlite"
    missing = older = other_answer = newer_unacked = 0
    for key, (seq, answer) in ledger.items():
        stored = rows.get(key)
        if stored is None:
            missing += 1
            continue
        s, ans = stored
        if sqlite and ans is not None:  # a text query gets SQLite's JSON as text
            ans = json.loads(ans)
        if s < seq:
            older += 1
        elif s == seq and ans != answer:
            other_answer += 1
        elif s > seq:
            newer_unacked += 1
    return {"acknowledged_items": len(ledger), "lost": missing + older + other_answer, "missing": missing,
            "older_overwrote_newer": older, "other_answer_at_acked_seq": other_answer,
            "stored_newer_than_acked": newer_unacked}


def check_history(conn, acked) -> dict:
    """Every acknowledged save, given as (attempt_id, form_item_id, seq, answer), against
    `answer_history`: there must be a row of that attempt, item and seq holding that answer (an
    acknowledged save belongs in the history, not only in the current answer). missing = no such
    row; other_answer = the row holds another answer."""
    from sqlalchemy import text

    sqlite = conn.dialect.name == "sqlite"
    rows = {(a, i, s): ans for a, i, s, ans in conn.execute(
        text("SELECT attempt_id, form_item_id, seq, answer FROM answer_history"))}
    missing = other_answer = 0
    samples = []
    for attempt_id, item, seq, answer in acked:
        key = (attempt_id, item, seq)
        if key not in rows:
            missing += 1
            samples.append(f"history {attempt_id}:{item} seq {seq}: acknowledged, no history row")
            continue
        stored = rows[key]
        if sqlite and isinstance(stored, str):  # a text query gets SQLite's JSON as text
            stored = json.loads(stored)
        if stored != answer:
            other_answer += 1
            samples.append(f"history {attempt_id}:{item} seq {seq}: acknowledged {answer!r}, holds {stored!r}")
    return {"checked": len(acked), "lost": missing + other_answer, "missing": missing, "other_answer": other_answer,
            "samples": samples[:10]}


def check_submits(conn, batch_id: int) -> dict:
    from sqlalchemy import text

    attempts = dict(conn.execute(text("SELECT id, status FROM attempts WHERE batch_id = :b"), {"b": batch_id}).all())
    events = dict(conn.execute(text(
        "SELECT object_id, count(*) FROM audit_events WHERE action = 'attempt.submitted' AND object_type = 'attempt' "
        "GROUP BY object_id")).all())
    counts = [int(events.get(str(a), 0)) for a in attempts]
    return {"attempts": len(attempts), "submitted": sum(1 for s in attempts.values() if s == "submitted"),
            "submit_events": sum(counts), "attempts_with_one_submit_event": sum(1 for c in counts if c == 1),
            "attempts_with_several_submit_events": sum(1 for c in counts if c > 1)}


def errors_of(out: dict, phases) -> int:
    bad = 0
    for phase in phases:
        for status, count in out["status"][phase].items():
            expected_stale = status == "409" and phase in ("paced", "burst")
            if status.startswith("exc:") or (not 200 <= int(status) < 300 and not expected_stale):
                bad += count
    return bad


def ok_count(out: dict, phase: str) -> int:
    return sum(c for s, c in out["status"][phase].items() if not s.startswith("exc:") and 200 <= int(s) < 300)


def burst_cpu(out: dict) -> dict:
    """{workers, machine, database, redis, load, other}: CPU ms per acknowledged save over the
    run's burst windows -- the servers' workers, the whole machine, and of the machine's rest
    PostgreSQL's processes, Redis, the load processes and everything else."""
    windows = [w for w in out["cpu"].get("windows", []) if w[0] == "burst"]
    saves = ok_count(out, "burst")
    if not windows or not saves:
        return {}
    per_save = {"workers": sum(w[2] for w in windows), "machine": sum(w[3] for w in windows)}
    for kind in ("database", "redis", "load", "other"):
        per_save[kind] = sum(w[4][kind] for w in windows)
    return {k: round(1000 * v / saves, 3) for k, v in per_save.items()}


def lat(values: list[float]) -> dict:
    return {"p50_ms": pct(values, 50), "p95_ms": pct(values, 95), "p99_ms": pct(values, 99),
            "max_ms": round(max(values), 2) if values else None}


def run_database(kind: str, url: str, args, tmp: Path, cleanup: Cleanup) -> dict:
    from sqlalchemy import create_engine

    t_db = time.monotonic()
    log(f"{kind}: migrating")
    upgrade(url, tmp)
    log(f"{kind}: seeding {args.candidates} candidates")
    seeded = seed(url, args.candidates, tmp)
    Autovacuum(kind, url, schema_of(url)).run()  # a deployed server's autovacuum analyzes a roster's rows
    common = {"host": "127.0.0.1", "paced_seconds": args.paced_seconds, "burst_seconds": args.burst_seconds,
              "burst_rounds": args.burst_rounds, "burst_gap_seconds": args.burst_gap,
              "ramp_seconds": args.ramp_seconds, "setup_margin_seconds": 4.0,
              "interval": [args.interval_min, args.interval_max], "seed": 7}

    log(f"{kind}: app and bare endpoint under gunicorn -w {args.workers} --threads {args.threads}, "
        f"same database; paced one after the other, then {args.burst_rounds} alternating burst windows each")
    port, proc = start_server(args.app_target, url, args, tmp, f"{kind}-app", cleanup)
    bare_port, bare_proc = start_server("_bare_app:app", url, args, tmp, f"{kind}-bare", cleanup)
    ready_file = str(tmp / f"{kind}-ready.json")
    profiler = profiler_start(proc, args.py_spy, kind, cleanup) if args.py_spy else None
    app_out, bare_out = run_loads([
        ({**common, "mode": "app", "port": port, "double_submit_every": 5,
          "ready_file": ready_file, "candidates": [dict(c) for c in seeded["logins"]]}, f"{kind}-app", proc),
        ({**common, "mode": "bare", "port": bare_port, "ready_file": ready_file,
          "candidates": []}, f"{kind}-bare", bare_proc)], tmp, cleanup)
    if profiler is not None:
        profiler_stop(profiler)
    kill_group(proc)
    kill_group(bare_proc)

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            app_ledger = check_ledger(conn, "responses", app_out["ledger"])
            bare_ledger = check_ledger(conn, "bench_bare_responses", bare_out["ledger"])
            submits = check_submits(conn, seeded["batch_id"])
    finally:
        engine.dispose()

    paced_s, burst_s = args.paced_seconds, args.burst_seconds
    app_paced = ok_count(app_out, "paced") / paced_s
    bare_paced = ok_count(bare_out, "paced") / paced_s
    app_burst = ok_count(app_out, "burst") / burst_s
    bare_burst = ok_count(bare_out, "burst") / burst_s
    app_lat, bare_lat = lat(app_out["latencies_ms"]["paced"]), lat(bare_out["latencies_ms"]["paced"])
    errors = errors_of(app_out, app_out["status"].keys())
    final_ok = sum(1 for s in app_out["final_states"].values() if s == "submitted")
    n = args.candidates
    fig = {
        "saves_per_s": round(app_paced, 1), **app_lat,
        "errors": errors, "stale_409": app_out["stale_409"],
        "lost_acknowledged_saves": app_ledger["lost"],
        "older_overwrote_newer": app_ledger["older_overwrote_newer"],
        "bare_saves_per_s": round(bare_paced, 1), "bare_p50_ms": bare_lat["p50_ms"],
        "bare_p95_ms": bare_lat["p95_ms"], "bare_p99_ms": bare_lat["p99_ms"],
        "throughput_ratio": round(app_paced / bare_paced, 3) if bare_paced else None,
        "burst": {"saves_per_s": round(app_burst, 1), "bare_saves_per_s": round(bare_burst, 1),
                  "throughput_ratio": round(app_burst / bare_burst, 3) if bare_burst else None,
                  **lat(app_out["latencies_ms"]["burst"]),
                  # each burst window's saves/s, in the order they ran (app and bare alternate)
                  "windows": sorted([[round(a, 1), mode, round(n / max(b - a, 1e-9), 1)]
                                     for mode, out in (("app", app_out), ("bare", bare_out))
                                     for p, a, b, n in out["window"].get("windows", []) if p == "burst"]),
                  "bare": lat(bare_out["latencies_ms"]["burst"])},
        "setup_ms": {k: lat(app_out["latencies_ms"][k]) for k in ("login", "start", "paper", "submit")},
        "attempts_submitted_once": submits["attempts_with_one_submit_event"],
        "submits": submits, "ledger": app_ledger, "bare_ledger": bare_ledger,
        "bare_errors": errors_of(bare_out, ("paced", "burst")), "bare_stale_409": bare_out["stale_409"],
        "status_counts": app_out["status"], "bare_status_counts": bare_out["status"],
        "load_loop_lag_ms": {"p99": pct(app_out["loop_lag_ms"], 99),
                             "max": round(max(app_out["loop_lag_ms"] or [0]), 1),
                             "bare_p99": pct(bare_out["loop_lag_ms"], 99)},
        "reconnect_retries": app_out["reconnect_retries"] + bare_out["reconnect_retries"],
        "cpu": {"app_run": app_out["cpu"], "bare_run": bare_out["cpu"],
                "app_cpu_ms_per_request": round(1000 * app_out["cpu"]["server_workers_s"] / max(
                    sum(ok_count(app_out, k) for k in app_out["status"]), 1), 2),
                "bare_cpu_ms_per_request": round(1000 * bare_out["cpu"]["server_workers_s"] / max(
                    ok_count(bare_out, "paced") + ok_count(bare_out, "burst"), 1), 2),
                # In the burst windows only (full load, saves alone): the workers' and the whole
                # machine's CPU per acknowledged save.
                "burst_ms_per_save": {"app": burst_cpu(app_out), "bare": burst_cpu(bare_out)}},
        "error_samples": app_out["errors"][:10] + bare_out["errors"][:5],
        "seconds": round(time.monotonic() - t_db, 1),
    }
    fig["targets_met"] = bool(
        errors == 0 and fig["bare_errors"] == 0 and fig["bare_stale_409"] == 0
        and app_ledger["lost"] == 0 and bare_ledger["lost"] == 0
        and submits["attempts"] == n and submits["attempts_with_one_submit_event"] == n and final_ok == n
        and app_lat["p99_ms"] is not None and app_lat["p99_ms"] < TARGET_P99_MS
        and (fig["throughput_ratio"] or 0) >= TARGET_RATIO
        and (fig["burst"]["throughput_ratio"] or 0) >= TARGET_RATIO)
    return fig


def summary_line(kind: str, f: dict) -> str:
    b = f["burst"]
    return (f"{kind:<10} saves/s {f['saves_per_s']:>6} (bare {f['bare_saves_per_s']}, ratio {f['throughput_ratio']})"
            f"  p50/p95/p99 {f['p50_ms']}/{f['p95_ms']}/{f['p99_ms']} ms (bare {f['bare_p50_ms']}/{f['bare_p95_ms']}/"
            f"{f['bare_p99_ms']})  errors {f['errors']}  lost {f['lost_acknowledged_saves']}"
            f"  older>newer {f['older_overwrote_newer']}  submitted once {f['attempts_submitted_once']}"
            f"  | burst saves/s {b['saves_per_s']} vs bare {b['bare_saves_per_s']} (ratio {b['throughput_ratio']},"
            f" p99 {b['p99_ms']} vs {b['bare']['p99_ms']} ms)  targets_met {f['targets_met']}")


class Watchdog(Exception):
    pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--paced-seconds", type=float, default=30.0)
    ap.add_argument("--burst-seconds", type=float, default=12.0,
                    help="each mode's burst, in all (split over --burst-rounds windows)")
    ap.add_argument("--burst-rounds", type=int, default=3,
                    help="burst windows per mode, alternating app and bare (A B B A A B ...)")
    ap.add_argument("--burst-gap", type=float, default=1.0, help="seconds between burst windows")
    ap.add_argument("--ramp-seconds", type=float, default=8.0, help="logins spread over this many seconds")
    ap.add_argument("--interval-min", type=float, default=1.0)
    ap.add_argument("--interval-max", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (make run: 2)")
    ap.add_argument("--postgresql-url", default=os.environ.get("BENCH_POSTGRESQL_URL", PG_DEFAULT))
    ap.add_argument("--no-postgresql", action="store_true")
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    ap.add_argument("--max-seconds", type=int, default=420, help="watchdog for the whole run")
    ap.add_argument("--app-target", default="wsgi:app",
                    help="gunicorn app to measure (another module only to diagnose, e.g. with PYTHONPATH)")
    ap.add_argument("--py-spy", metavar="DIR",
                    help="profile the app's workers with py-spy into DIR (more py-spy options: BENCH_PY_SPY_ARGS)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory (logs, load output)")
    args = ap.parse_args()

    def on_signal(signum, _frame):
        raise Watchdog(f"signal {signum}")

    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(args.max_seconds)
    cleanup = Cleanup()
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    if not args.keep:
        cleanup.add("tempdir", lambda: shutil.rmtree(tmp, ignore_errors=True))
    else:
        log(f"keeping {tmp}")
    diag = {"app_target": args.app_target} if args.app_target != "wsgi:app" else {}
    out = {"bench": "delivery", "candidates": args.candidates, **diag, "workers": args.workers, "threads": args.threads,
           "paced_seconds": args.paced_seconds, "burst_seconds": args.burst_seconds,
           "save_interval_s": [args.interval_min, args.interval_max], "cpus": os.cpu_count(),
           "loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "databases": {}}
    complete = True
    try:
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{tmp}/delivery.db"
            try:
                out["databases"]["sqlite"] = run_database("sqlite", url, args, tmp, cleanup)
            except Watchdog:
                raise
            except Exception as exc:  # noqa: BLE001 - report it, go on with the next database
                out["databases"]["sqlite"] = {"failed": f"{type(exc).__name__}: {exc}"[:1500], "targets_met": False}
        if args.only in (None, "postgresql") and not args.no_postgresql:
            base = args.postgresql_url
            reason = pg_reachable(base)
            if reason:
                out["databases"]["postgresql"] = {"skipped": f"unreachable: {reason}", "targets_met": False}
                complete = False
            else:
                url = fresh_schema(base, SCHEMA, cleanup)
                try:
                    out["databases"]["postgresql"] = run_database("postgresql", url, args, tmp, cleanup)
                except Watchdog:
                    raise
                except Exception as exc:  # noqa: BLE001
                    out["databases"]["postgresql"] = {"failed": f"{type(exc).__name__}: {exc}"[:1500],
                                                      "targets_met": False}
    except Watchdog as exc:
        complete = False
        out["aborted"] = str(exc)
    finally:
        signal.alarm(0)
        cleanup.run()
    dbs = out["databases"]
    out["targets_met"] = bool(dbs and complete and all(d.get("targets_met") for d in dbs.values()))
    for kind, fig in dbs.items():
        print(summary_line(kind, fig) if "saves_per_s" in fig else f"{kind:<10} {fig}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
