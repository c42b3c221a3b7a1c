"""RELIABILITY 9: database crash. A private throwaway PostgreSQL cluster (never the shared server)
with fsync and synchronous_commit on; the app under gunicorn on it, 20 candidates saving
continuously. Three times: `pg_ctl stop -m immediate` while saves are in flight, ~2 s of outage
(the load keeps trying: 503 retry_later and cut connections expected), restart (crash recovery),
saves again. Then the load stops and the cluster is crashed once more, so that what was
acknowledged after the last restart must also come back through crash recovery.

The ledger of acknowledged saves is checked against the `responses` table after every restart and
at the end: lost = 0, older-overwrote-newer = 0. Once saves succeed again after a restart (the
load held back meanwhile) and at the end, every acknowledged (attempt, item, seq, answer) must be
in `answer_history` and `examsys audit verify` must pass: every chain verifies. The number of
crashes is EXAMSYS_FAULTS_DB_CRASHES (default 3; `make reliability` runs 20). The app must recover on its own: the same
gunicorn master and workers throughout, saves succeeding again within a generous cap of the
database's restart.

Runs when the suite runs on PostgreSQL (EXAMSYS_TEST_DATABASE_URL) and PostgreSQL's server
binaries (initdb, pg_ctl) are installed."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from tests.conftest import TEST_DB_URL
from tests.faults.harness import PrivateCluster, new_tempdir, postgres_bindir
from tests.faults.load import LedgerChecks, app_under_load

pytestmark = pytest.mark.faults

CANDIDATES = 20
CRASHES = int(os.environ.get("EXAMSYS_FAULTS_DB_CRASHES") or 3)
OUTAGE_SECONDS = 2.0
RECOVERY_CAP = 20.0  # seconds from the database's restart to saves succeeding again: a hang guard
# (EXAMSYS_FAULTS_RECOVERY_CAP raises it on a machine so busy that gunicorn's workers take longer
# than that just to boot; a hang still fails.)
RECOVERY_CAP = float(os.environ.get("EXAMSYS_FAULTS_RECOVERY_CAP") or RECOVERY_CAP)
BUSY = 3  # stop the database when at least this many saves are in flight (waiting at most 0.5 s)
MIN_ACKS = 300  # ~7 s of the ~14 s of load are outages


def _skip_reason() -> str | None:
    if not TEST_DB_URL:
        return "PostgreSQL only: the suite runs on SQLite (EXAMSYS_TEST_DATABASE_URL is not set)"
    if postgres_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` OS user to run a private cluster as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing (PostgreSQL refuses to run as root)"
    return None


def test_postgresql_immediate_stop_loses_no_acknowledged_save(cleanup, faults_report):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    t0 = time.monotonic()
    cluster = PrivateCluster(postgres_bindir(), cleanup)
    cluster.init()
    cluster.start()
    cluster.admin("CREATE DATABASE faults")
    url = cluster.url("faults")
    tmp = new_tempdir("examsys-faults-db-", cleanup)
    server, load, engine = app_under_load(url, tmp, cleanup, candidates=CANDIDATES, seed=9, settle=1.5)
    t_setup = time.monotonic() - t0
    master, workers = server.proc.pid, set(server.worker_pids())

    check = LedgerChecks(engine, load, server.env)

    def failures() -> int:
        return sum(n for s, n in load.status.items() if s.startswith("exc:") or s.startswith("5"))

    recovery, everyone_recovery, outage_failures, outage_acks, restart, busy = [], [], [], [], [], []
    for crash in range(1, CRASHES + 1):
        acks_before, failed_before = load.acks, failures()
        busy.append(load.wait_busy(BUSY, 0.5))
        cluster.stop_immediate()
        down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        outage_failures.append(failures() - failed_before)
        outage_acks.append(sum(1 for _sent, done, _who in load.oks[-500:] if done > down + 1.0))
        t_restart = time.monotonic()
        cluster.start()
        up = time.monotonic()
        restart.append(up - t_restart)
        check(f"crash {crash}, after restart")
        try:
            first, everyone = load.wait_recovered(up, RECOVERY_CAP)
        except AssertionError as exc:
            raise AssertionError(f"crash {crash}: {exc}\ngunicorn log:\n{server.log_tail()}\n"
                                 f"postgresql log:\n{cluster.log_tail()}") from None
        recovery.append(first)
        everyone_recovery.append(everyone)
        check.verify(f"crash {crash}, after recovery")
        time.sleep(3.0 if crash == CRASHES else 1.5)
        assert load.acks > acks_before, f"crash {crash}: no save acknowledged since"

    load.stop()
    same_app = server.proc.poll() is None and server.proc.pid == master and set(server.worker_pids()) == workers
    server.kill_all()
    cluster.stop_immediate()  # acknowledged since the last restart: must survive crash recovery too
    cluster.start()
    check("end, after a last crash")
    check.verify("end, after a last crash", quiesce=False)
    figures = load.figures()
    elapsed = time.monotonic() - t0
    line = (f"faults db-crash postgresql: crashes {CRASHES} (pg_ctl stop -m immediate, {OUTAGE_SECONDS:.0f} s down) "
            f"+ 1 after the load, saves acknowledged {figures['acks']}, ledger entries checked {check.checked}, "
            f"saves in flight at a crash {sum(busy) / len(busy):.1f} on average, "
            f"failed requests during outages {sum(outage_failures)}, retries {figures['retries']}, "
            f"database restart (crash recovery) max {max(restart):.2f} s, saves again after it max "
            f"{max(recovery):.2f} s (every candidate {max(everyone_recovery):.2f} s), "
            f"app restarted {'no' if same_app else 'YES'}, lost {check.lost}, "
            f"regressed {check.regressed}; {check.summary()}; setup {t_setup:.1f} s, total {elapsed:.1f} s")
    faults_report(line)

    assert check.lost == 0 and check.regressed == 0, (line, check.samples)
    assert check.history_lost == 0 and check.chains_broken == 0, (line, check.samples)
    assert check.verifications == CRASHES + 1 and check.history_checked >= MIN_ACKS, line
    assert figures["acks"] >= MIN_ACKS, line
    assert all(outage_failures), f"saves did not fail while the database was down: {outage_failures}; {line}"
    assert not any(outage_acks), f"saves acknowledged while the database was down: {outage_acks}; {line}"
    assert same_app, f"the app did not ride out the database crash on its own processes: {line}"
    assert figures["stale_409"] == 0 and not figures["unexpected"], (line, figures)
