"""What the fault tests share: free ports, a gunicorn that can be killed piecemeal or whole, a
private throwaway PostgreSQL cluster, the database set-up (bench/delivery.py's `upgrade()` and
`seed()`). The candidates' load and the ledger check are in tests/faults/load.py.

Everything started here is registered with a `Cleanup` (newest first, errors logged, never
raised) so a failing test leaves no process, cluster or directory behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from examsys.serving import WORKER_CLASS

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SEED_SCRIPT = Path(__file__).resolve().parent / "_seed.py"


def _load_bench(name: str, filename: str):
    """A bench module loaded from its file under a private name, leaving sys.path as it was
    (bench/delivery.py puts bench/ first on sys.path at import)."""
    path = ROOT / "bench" / filename
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


bench_delivery = _load_bench("_examsys_faults_bench_delivery", "delivery.py")
bench_load = _load_bench("_examsys_faults_bench_load", "_delivery_load.py")
bench_nginx = _load_bench("_examsys_faults_bench_nginx", "_nginx.py")
bench_load.TIMEOUT = 10.0  # per request; a hang shows as a timeout (then a retry), well inside the caps


def log(msg: str) -> None:
    print(f"[faults] {msg}", file=sys.stderr, flush=True)


# Release actions, run newest first whatever happens (each error logged, none raised): bench's.
Cleanup = bench_delivery.Cleanup


# --- ports -----------------------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port BELOW the kernel's ephemeral range. A server that is restarted on the
    same port must not find it taken meanwhile, and a client connecting in a loop to a port
    inside the ephemeral range while nothing listens can be handed that very port as its own
    source port: a TCP self-connection that "succeeds" and then blocks the server's bind."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.SystemRandom()
    if low > 12000:
        for _ in range(500):
            port = rng.randrange(low - 10000, low)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:  # an unusual range: take what the kernel gives
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_tempdir(prefix: str, cleanup: Cleanup) -> Path:
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    cleanup.add(f"rmtree {tmp}", lambda: shutil.rmtree(tmp, ignore_errors=True))
    return tmp


# --- the app -------------------------------------------------------------------------------------


def server_env(url: str, tmp: Path) -> dict:
    """bench's server environment (fixed keys shared with the seeding process, login limit
    lifted), with rate-limit state in memory (no Redis needed) and no coverage hooks."""
    env = bench_delivery.server_env(url)
    env.pop("EXAMSYS_REDIS_URL", None)
    env["EXAMSYS_UPLOAD_DIR"] = str(tmp / "uploads")
    for key in [k for k in env if k.startswith("COV_CORE_")]:
        env.pop(key)
    return env


def prepare_database(url: str, n: int, tmp: Path) -> dict:
    """`examsys db upgrade` and one filed open batch with n roster entries (bench's seed(), run
    in a process of its own). Returns {"batch_id", "logins"}."""
    bench_delivery.upgrade(url, tmp)
    out = tmp / "seed.json"
    env = server_env(url, tmp)
    done = subprocess.run([sys.executable, str(SEED_SCRIPT), url, str(n), str(tmp), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed ({done.returncode}): {done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            kids.append(int(entry))
    return sorted(kids)


class Gunicorn:
    """`gunicorn -w 2 --threads 4 -k examsys.serving.FreeThreadWorker wsgi:app` (the worker class as
    deployed) on a fixed port, in a process group of its own; every group ever started is
    SIGKILLed at cleanup (a master killed alone can leave workers behind)."""

    def __init__(self, port: int, env: dict, log_path: Path, cleanup: Cleanup, workers: int = 2, threads: int = 4):
        self.port, self.env, self.log_path = port, env, log_path
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._groups: list[subprocess.Popen] = []
        cleanup.add("gunicorn", self.close)

    def start(self) -> None:
        gunicorn = VENV_BIN / "gunicorn"
        if not gunicorn.exists():
            gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        # EXAMSYS_FAULTS_APP: another WSGI target (with PYTHONPATH), only to check that these
        # tests catch a deliberately broken app; the suite always runs wsgi:app.
        target = os.environ.get("EXAMSYS_FAULTS_APP") or "wsgi:app"
        cmd = [str(gunicorn), "-w", str(self.workers), "--threads", str(self.threads),
               "-k", WORKER_CLASS, "-b", f"127.0.0.1:{self.port}", target]
        setpriv = shutil.which("setpriv")
        if setpriv:  # should the test process itself be killed, the master goes too (workers follow it)
            cmd = [setpriv, "--pdeathsig", "KILL", "--", *cmd]
        with open(self.log_path, "ab") as fh:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._groups.append(self.proc)
        self.starts += 1

    def wait_healthy(self, timeout: float = 60.0) -> None:
        bench_delivery.wait_healthz(self.port, self.proc, self.log_path, timeout)

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def wait_workers(self, n: int, exclude: set[int], timeout: float) -> list[int]:
        """Until the master has n workers, none of them in `exclude` (e.g. a killed one)."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.worker_pids()
            if len(pids) == n and not exclude & set(pids):
                return pids
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn master exited ({self.proc.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gunicorn workers {pids} after {timeout}s (wanted {n} new): {self.log_tail()}")
            time.sleep(0.02)

    def kill_worker(self, rng: random.Random) -> int:
        pid = rng.choice(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_all(self) -> None:
        """SIGKILL the master and its workers at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(15)

    def close(self) -> None:
        for proc in self._groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"


# --- a private PostgreSQL cluster ------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PrivateCluster:
    """A throwaway PostgreSQL cluster in a temp directory, on a port of its own, run as the
    `postgres` OS user when the tests run as root (the server refuses root). fsync and
    synchronous_commit on, as production. Stopped (immediate) and deleted at cleanup."""

    def __init__(self, bindir: Path, cleanup: Cleanup):
        self.bindir = bindir
        self.port = free_port()
        self.root = new_tempdir("examsys-faults-pg-", cleanup)
        self.data = self.root / "data"
        self.logfile = self.root / "postgresql.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        cleanup.add("postgresql cluster", self.close)

    def _run(self, *args: str, timeout: float = 90.0, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*self.prefix, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stdout[-1500:]}"
                               f"{done.stderr[-1500:]}\n{self.log_tail()}")
        return done

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync", timeout=120)

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on "
                f"-c synchronous_commit=on")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                  "-o", opts, "start")

    def stop_immediate(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                             connect_timeout=5, autocommit=True) as conn:
            conn.execute(sql)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop",
                      check=False)
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():  # pg_ctl could not stop it: kill the postmaster (its children follow)
            with contextlib.suppress(ValueError, OSError, IndexError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-n:]
        except OSError:
            return "(no postgresql log)"
