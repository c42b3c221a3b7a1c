"""Benchmark of the process record: autosave with and without its answer history and chain
links, and verifying a million events.

    python bench/audit.py [--candidates 100] [--rounds 2] [--paced-seconds 20] [--burst-seconds 6]
                          [--events 1000000] [--postgresql-url URL | --no-postgresql]

For each database (a fresh SQLite file in WAL mode; PostgreSQL when reachable, in throwaway
schemas that are dropped afterwards):

1. Autosave, same run: the app under gunicorn (as bench/delivery.py serves it: -w 2
   --threads 4) on a fresh database with one open batch of N candidates, driven by
   bench/_delivery_load.py (login, start, paper, a paced phase of a save every U(1, 2) s per
   candidate, a burst phase of back-to-back saves, submit) -- once as shipped ("on": every save
   also writes its answer-history row and its link in the attempt's chain) and once with both
   switched off (bench/_audit_off_app.py: the same app with `history.saved` a no-op; bench only).
   Rounds alternate off, on, off, on ... and the figures compared are the medians over rounds.
   Every acknowledged save must be stored (both), and with the record on every acknowledged
   save must have its history row.
2. Verification: about --events events (attempt chains of 500 saves, each with its history row,
   sealed into a batch chain) written straight into a fresh database with correct links, then
   `examsys audit verify --json` run as an operator runs it; the figure is the verification's own
   time as the command reports it, the whole command's (start-up included) is printed beside it.

Targets ("targets_met"): on every database, autosave with the record on is within 15% of
autosave with it off -- paced-phase p50 and p95 latency at most 1.15x, burst throughput at
least 1/1.15x -- with 0 errors and 0 lost acknowledged saves; and verifying 1,000,000 events
takes under 10 s and finds nothing wrong. Ends with ONE line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import _audit_events  # noqa: E402 - bench scripts put the project on sys.path first
import delivery as dbench  # noqa: E402

MAX_SLOWDOWN = 1.15
MAX_VERIFY_S = 10.0
SCHEMA = "bench_audit"


def log(msg: str) -> None:
    print(f"[audit] {msg}", file=sys.stderr, flush=True)


def med(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def history_count(url: str, batch_id: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM answer_history h JOIN attempts a ON a.id = h.attempt_id "
                                     "WHERE a.batch_id = :b"), {"b": batch_id}).scalar()
    finally:
        engine.dispose()


def one_round(kind: str, url: str, target: str, args, tmp: Path, cleanup, label: str) -> dict:
    dbench.upgrade(url, tmp)
    seeded = dbench.seed(url, args.candidates, tmp)
    common = {"host": "127.0.0.1", "paced_seconds": args.paced_seconds, "burst_seconds": args.burst_seconds,
              "interval": [1.0, 2.0], "seed": 7}
    port, proc = dbench.start_server(target, url, args, tmp, f"{kind}-{label}", cleanup)
    out = dbench.run_load({**common, "mode": "app", "port": port, "ramp_seconds": 4.0, "setup_margin_seconds": 4.0,
                           "double_submit_every": 0, "candidates": [dict(c) for c in seeded["logins"]]},
                          tmp, f"{kind}-{label}", cleanup, proc)
    dbench.kill_group(proc)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ledger = dbench.check_ledger(conn, "responses", out["ledger"])
    finally:
        engine.dispose()
    paced, burst = dbench.lat(out["latencies_ms"]["paced"]), dbench.lat(out["latencies_ms"]["burst"])
    acknowledged = dbench.ok_count(out, "paced") + dbench.ok_count(out, "burst")
    return {"paced_p50_ms": paced["p50_ms"], "paced_p95_ms": paced["p95_ms"], "paced_p99_ms": paced["p99_ms"],
            "burst_saves_per_s": round(dbench.ok_count(out, "burst") / args.burst_seconds, 1),
            "burst_p50_ms": burst["p50_ms"], "errors": dbench.errors_of(out, ("paced", "burst")),
            "lost": ledger["lost"], "acknowledged_saves": acknowledged,
            "history_rows": history_count(url, seeded["batch_id"])}


def autosave(kind: str, make_url, args, tmp: Path, cleanup) -> dict:
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for r in range(args.rounds):
        for label, target in (("off", "_audit_off_app:app"), ("on", "wsgi:app")):
            url = make_url(f"{label}{r}")
            log(f"{kind}: round {r + 1}, record {label}")
            runs[label].append(one_round(kind, url, target, args, tmp, cleanup, f"{label}{r}"))
    fig = {}
    for label in ("off", "on"):
        fig[label] = {key: med([x[key] for x in runs[label]])
                      for key in ("paced_p50_ms", "paced_p95_ms", "paced_p99_ms", "burst_saves_per_s", "burst_p50_ms")}
    off, on = fig["off"], fig["on"]
    fig["ratio_p50"] = round(on["paced_p50_ms"] / off["paced_p50_ms"], 3)
    fig["ratio_p95"] = round(on["paced_p95_ms"] / off["paced_p95_ms"], 3)
    fig["ratio_burst_throughput"] = round(on["burst_saves_per_s"] / off["burst_saves_per_s"], 3)
    fig["errors"] = sum(x["errors"] for rs in runs.values() for x in rs)
    fig["lost"] = sum(x["lost"] for rs in runs.values() for x in rs)
    # The record on: at least one history row per acknowledged save (a replayed submit adds none).
    fig["history_complete"] = all(x["history_rows"] >= x["acknowledged_saves"] for x in runs["on"])
    fig["rounds"] = runs
    fig["targets_met"] = bool(fig["ratio_p50"] <= MAX_SLOWDOWN and fig["ratio_p95"] <= MAX_SLOWDOWN
                              and fig["ratio_burst_throughput"] >= 1 / MAX_SLOWDOWN and fig["errors"] == 0
                              and fig["lost"] == 0 and fig["history_complete"])
    return fig


def verification(kind: str, url: str, args, tmp: Path) -> dict:
    from sqlalchemy import create_engine, text

    dbench.upgrade(url, tmp)
    engine = create_engine(url)
    try:
        t0 = time.monotonic()
        events = _audit_events.write(engine, args.events)
        seeded_s = time.monotonic() - t0
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE audit_events"))
                conn.execute(text("ANALYZE answer_history"))
    finally:
        engine.dispose()
    log(f"{kind}: {events} events written in {seeded_s:.1f} s; examsys audit verify")
    env = dbench.server_env(url)
    t0 = time.monotonic()
    out = subprocess.run([str(dbench.VENV_BIN / "examsys"), "audit", "verify", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - t0
    report = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
    verify_s = report.get("seconds")
    return {"events": events, "history_rows": report.get("history_rows"), "seconds": verify_s,
            "command_seconds": round(seconds, 2), "ok": report.get("ok"), "exit_status": out.returncode,
            "seed_seconds": round(seeded_s, 1),
            # A smaller --events (a quick try) never meets the target, whatever its time.
            "targets_met": bool(out.returncode == 0 and report.get("ok") is True and verify_s is not None
                                and verify_s < MAX_VERIFY_S and events >= 990_000)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--paced-seconds", type=float, default=20.0)
    ap.add_argument("--burst-seconds", type=float, default=6.0)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--postgresql-url", default=os.environ.get("BENCH_POSTGRESQL_URL", dbench.PG_DEFAULT))
    ap.add_argument("--no-postgresql", action="store_true")
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    ap.add_argument("--skip", choices=("autosave", "verify"))
    ap.add_argument("--py-spy", default=None)
    args = ap.parse_args()
    cleanup = dbench.Cleanup()
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    cleanup.add("tempdir", lambda: shutil.rmtree(tmp, ignore_errors=True))
    out = {"bench": "audit", "candidates": args.candidates, "rounds": args.rounds, "events": args.events,
           "cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "databases": {}}
    try:
        kinds = []
        if args.only in (None, "sqlite"):
            kinds.append(("sqlite", lambda name: f"sqlite:///{tmp}/{name}.db"))
        if args.only in (None, "postgresql") and not args.no_postgresql:
            base = args.postgresql_url
            reason = dbench.pg_reachable(base)
            if reason:
                out["databases"]["postgresql"] = {"skipped": f"unreachable: {reason}", "targets_met": False}
            else:
                def pg_url(name, base=base):
                    schema = f"{SCHEMA}_{name}"
                    dbench.pg_admin(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                    dbench.pg_admin(base, f"CREATE SCHEMA {schema}")
                    cleanup.add(schema, lambda: dbench.pg_admin(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
                kinds.append(("postgresql", pg_url))
        for kind, make_url in kinds:
            fig = {}
            if args.skip != "autosave":
                fig["autosave"] = autosave(kind, make_url, args, tmp, cleanup)
            if args.skip != "verify":
                fig["verify"] = verification(kind, make_url("verify"), args, tmp)
            fig["targets_met"] = all(part["targets_met"] for part in fig.values())
            out["databases"][kind] = fig
    finally:
        cleanup.run()
    dbs = out["databases"]
    out["targets_met"] = bool(dbs and all(d.get("targets_met") for d in dbs.values()))
    for kind, fig in dbs.items():
        a, v = fig.get("autosave"), fig.get("verify")
        if a:
            print(f"{kind:<10} autosave off/on: paced p50 {a['off']['paced_p50_ms']}/{a['on']['paced_p50_ms']} ms "
                  f"(x{a['ratio_p50']}), p95 {a['off']['paced_p95_ms']}/{a['on']['paced_p95_ms']} ms "
                  f"(x{a['ratio_p95']}),"
                  f" burst {a['off']['burst_saves_per_s']}/{a['on']['burst_saves_per_s']} saves/s "
                  f"(x{a['ratio_burst_throughput']}), errors {a['errors']}, lost {a['lost']}")
        if v:
            print(f"{kind:<10} verify {v['events']} events + {v['history_rows']} history rows: {v['seconds']} s "
                  f"(the whole command, start-up included: {v['command_seconds']} s), ok {v['ok']}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
