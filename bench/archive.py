"""Benchmark of the batch archive (批次档案): memory and time of building a 1,000-candidate archive,
and per-candidate documents rendered many per PDF against one PDF per candidate.

    python bench/archive.py [--candidates 1000] [--sheets 100] [--keep]

1. A fresh SQLite database (`examsys db upgrade`) in a temp dir, seeded in this process: the
   delivery test world (tests/delivery/world.py) plus candidates up to N, each with a photo,
   signed in, started, three saves and submitted through the real services; then the batch is
   closed and machine-scored (grading). Seeding does not count towards anything below.
2. The build: a child process (only the app, the database and `write_archive`) builds the
   archive; its peak RSS (getrusage ru_maxrss) and wall time are measured. Baseline: a child
   that starts the same app and renders one one-page PDF (the fixed cost of WeasyPrint and
   its fonts). The archive is then verified offline (`examsys.audit.archive.verify.check`).
3. Per-candidate documents: in another child, the answer sheets of the first --sheets
   candidates rendered batched (the build's SHEETS_PART per document) and rendered one PDF
   per candidate (the baseline); both timed in the same process.

Prints the figures, then ONE line of JSON. "targets_met": the archive verifies, build peak RSS
< 300 MB, and batched rendering at least 4x faster than one PDF per candidate.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "bench-archive-secret-key"
DATA_KEY = "bench-archive-data-key"
TARGET_PEAK_MB = 300.0
TARGET_SPEEDUP = 4.0


def log(msg: str) -> None:
    print(f"[archive] {msg}", file=sys.stderr, flush=True)


def env_for(url: str, tmp: Path) -> dict:
    env = dict(os.environ)
    env.update({"EXAMSYS_DATABASE_URL": url, "EXAMSYS_SECRET_KEY": SECRET_KEY, "EXAMSYS_DATA_KEY": DATA_KEY,
                "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"), "EXAMSYS_KEY_DIR": str(tmp / "keys"),
                "EXAMSYS_ENV": "development", "PYTHONUNBUFFERED": "1"})
    return env


def make_app(url: str, tmp: Path):
    from examsys import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"),
                       "EXAMSYS_KEY_DIR": str(tmp / "keys"), "SECRET_KEY": SECRET_KEY, "EXAMSYS_DATA_KEY": DATA_KEY,
                       "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})


# --- seeding (this process) --------------------------------------------------------------------


def seed(url: str, n: int, tmp: Path) -> int:
    from PIL import Image

    from examsys import clock
    from examsys.accounts import candidates
    from examsys.accounts.models import OrgKind
    from examsys.delivery.batches import services as batches
    from examsys.delivery.exam import services as exam
    from examsys.delivery.models import RosterEntry
    from examsys.delivery.scoring import services as scoring
    from examsys.extensions import db
    from tests import factories
    from tests.delivery.world import build_world

    app = make_app(url, tmp)
    with app.app_context():
        clock.freeze(clock.now())
        w = build_world(db)
        w.paper.blueprint_snapshot = {**w.paper.blueprint_snapshot, "name": "考试细目表", "level": 4,
                                      "duration_minutes": 60, "total_points": 10, "pass_mark": 6, "forms": 2}
        make = factories.Factories(db)
        make.org(OrgKind.AUTHORITY)
        photo = io.BytesIO()
        Image.new("RGB", (300, 400), (205, 190, 170)).save(photo, "JPEG")
        candidates.set_candidate_photo(w.entries[0].candidate, "photo.jpg", photo.getvalue())
        sha = w.entries[0].candidate.photo_sha256
        logins = list(zip(w.entries, w.tickets, w.id_numbers, strict=True))
        for k in range(len(logins), n):
            id_number = factories.valid_id_number(50000 + k)
            cand = make.candidate(w.org, name=f"考生{k + 1:04d}", id_number=id_number)
            cand.photo_sha256 = sha
            entry = RosterEntry(batch_id=w.batch.id, candidate_id=cand.id, ticket_no=f"A{w.batch.id:04d}{k + 1:05d}",
                                room_id=w.room.id, seat_no=k + 1, order_seed=5000 + k, start_delay_seconds=0)
            db.session.add(entry)
            logins.append((entry, entry.ticket_no, id_number))
        w.room.capacity = n
        db.session.commit()
        started = time.monotonic()
        for i, (entry, ticket, id_number) in enumerate(logins):
            exam.login(ticket, id_number, ip="10.1.0.1", user_agent="bench")
            attempt = exam.start_attempt(entry)
            label = next(label for label, form in w.forms.items() if form.id == attempt.form_id)
            for seq, (qtype, answer) in enumerate([("judge", True), ("single", "B"), ("short", "断电施救")], 1):
                clock.freeze(clock.now() + timedelta(milliseconds=3))
                exam.save_response(attempt, w.form_items[(label, qtype)].id, answer, seq, ip="10.1.0.1")
            exam.submit(attempt)
            if i % 100 == 99:
                db.session.commit()
                log(f"seeded {i + 1} attempts ({time.monotonic() - started:.0f} s)")
        batches.close_batch(w.admin, w.batch)
        scoring.score_batch(w.batch)
        db.session.commit()
        batch_id = w.batch.id
        db.session.remove()
        db.engine.dispose()
    return batch_id


# --- children ----------------------------------------------------------------------------------


def child(argv: list[str]) -> None:
    """Runs in a subprocess: `build URL TMP BATCH OUT`, `baseline URL TMP`, `sheets URL TMP BATCH N`.
    Prints one line of JSON with its figures and its peak RSS."""
    kind, url, tmp = argv[0], argv[1], Path(argv[2])
    from examsys.extensions import db

    app = make_app(url, tmp)
    out: dict = {}
    with app.app_context():
        if kind == "build":
            from examsys.audit.archive import build
            from examsys.delivery.models import Batch

            started = time.monotonic()
            built = build.write_archive(db.session.get(Batch, int(argv[3])), Path(argv[4]))
            out = {"seconds": round(time.monotonic() - started, 2), "files": len(built.manifest["files"]),
                   "events": built.manifest["record"]["events"]}
        elif kind == "baseline":
            from examsys.reports import archive as pdf
            from examsys.reports.pdf import render_pdf

            started = time.monotonic()
            render_pdf("reports/archive/_volume.html", volume_no=1, volume_title=pdf.VOLUMES[1], batch={"name": "x",
                       "id": 0}, org={"name": "x", "code": "x"}, standard={"name": "x"}, level_label="",
                       window="", part=None, printed_at="")
            out = {"seconds": round(time.monotonic() - started, 2)}
        else:
            from examsys.audit.archive import build, volumes
            from examsys.delivery.models import Batch
            from examsys.reports import archive as pdf

            batch = db.session.get(Batch, int(argv[3]))
            n = int(argv[4])
            head = volumes.header(batch)
            entries = volumes.roster(batch)[:n]
            rows = volumes.candidate_rows(entries, volumes.attempts_by_entry(batch), {}, volumes.Timeline())
            sheets = volumes.AnswerSheets(batch).sheets(rows)
            pdf.answer_sheets_pdf(head, sheets[:1], None)  # warm the fonts and templates for both
            t0 = time.monotonic()
            batched = sum(len(pdf.answer_sheets_pdf(head, chunk, part))
                          for part, chunk in build.parts(sheets, build.SHEETS_PART))
            t1 = time.monotonic()
            single = sum(len(pdf.answer_sheets_pdf(head, [s], None)) for s in sheets)
            t2 = time.monotonic()
            out = {"candidates": len(sheets), "batched_s": round(t1 - t0, 2), "single_s": round(t2 - t1, 2),
                   "batched_bytes": batched, "single_bytes": single}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def run_child(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--sheets", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    url = f"sqlite:///{tmp}/archive.db"
    env = env_for(url, tmp)
    out = {"bench": "archive", "candidates": args.candidates, "cpus": os.cpu_count()}
    try:
        up = subprocess.run([str(VENV_BIN / "examsys"), "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
        if up.returncode != 0:
            raise RuntimeError(up.stderr[-2000:])
        os.environ.update({k: v for k, v in env.items() if k.startswith("EXAMSYS_")})
        t = time.monotonic()
        batch_id = seed(url, args.candidates, tmp)
        out["seed_s"] = round(time.monotonic() - t, 1)
        log(f"seeded in {out['seed_s']} s; building")
        zip_path = tmp / "archive.zip"
        b = run_child(["build", url, str(tmp), str(batch_id), str(zip_path)], env)
        base = run_child(["baseline", url, str(tmp)], env)
        from examsys.audit.archive import verify

        t = time.monotonic()
        check = verify.check(zip_path)
        out.update({"build_s": b["seconds"], "build_peak_rss_mb": b["peak_rss_mb"], "files": b["files"],
                    "events": b["events"], "zip_mb": round(zip_path.stat().st_size / 2**20, 1),
                    "baseline_peak_rss_mb": base["peak_rss_mb"], "verified": check.ok,
                    "verify_s": round(time.monotonic() - t, 2)})
        s = run_child(["sheets", url, str(tmp), str(batch_id), str(args.sheets)], env)
        out.update({"sheets": s["candidates"], "sheets_batched_s": s["batched_s"], "sheets_single_s": s["single_s"],
                    "sheets_speedup": round(s["single_s"] / max(s["batched_s"], 1e-6), 2)})
        out["targets_met"] = bool(check.ok and out["build_peak_rss_mb"] < TARGET_PEAK_MB
                                  and out["sheets_speedup"] >= TARGET_SPEEDUP)
    except Exception as exc:  # noqa: BLE001 - report it in the JSON line
        out.update({"failed": f"{type(exc).__name__}: {exc}"[:2000], "targets_met": False})
    finally:
        if args.keep:
            log(f"keeping {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if "build_s" in out:
        print(f"build: {out['build_s']} s, peak RSS {out['build_peak_rss_mb']} MB (baseline, one small PDF: "
              f"{out['baseline_peak_rss_mb']} MB), {out['files']} files, {out['zip_mb']} MB, "
              f"verified {out['verified']}")
    if "sheets_speedup" in out:
        print(f"answer sheets of {out['sheets']} candidates: batched {out['sheets_batched_s']} s, one PDF each "
              f"{out['sheets_single_s']} s ({out['sheets_speedup']}x)")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
