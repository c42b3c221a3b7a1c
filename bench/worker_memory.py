"""Benchmark: web workers' memory through an exam day once PDFs are jobs (issue 15, point 3).

    python bench/worker_memory.py [--candidates 2000] [--port 5401] [--dir /tmp/wm] [--rounds 1]

1. A fresh SQLite demo database (`examsys db upgrade && examsys demo`) in a temp dir; the demo's
   filed batch of SKILL-01 gets --candidates more candidates on its roster (for the admission
   tickets of a large batch).
2. gunicorn (2 workers x 4 threads) serves it; `examsys jobs worker` runs as its own process
   (SQLite queue, the embedded default). A sampler reads every web worker's RSS and the job
   worker's RSS (/proc, every 0.2 s).
3. The walk, as clerks would: the exam admin opens every batch page of the organisation, the
   results page of each batch with results and each paper page, and presses every PDF button
   there (filing pack, tickets, room records, score list, one score report per batch, each
   form's paper and answer key, the compliance report), then follows the job's page until the
   download and takes it; the provincial admin asks for the year-end summary. Meanwhile a few
   demo candidates sit the open exam through the API (login, start, paper, saves, submit).
4. Baseline, in the same run: one process loading the same app renders the same documents in
   process, as the requests did before (its peak RSS is what a web worker reached); and the
   RSS of a web worker before any request (a bare worker).

Prints the figures, then ONE line of JSON: peak RSS per web worker, the job worker's peak, the
time of each job (asked -> done), the baseline, and "targets_met" = every web worker < 200 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PASSWORD = "examsys-demo-2026"
TARGET_MB = 200.0
PAGE = 4096


def log(msg: str) -> None:
    print(f"[worker_memory] {msg}", file=sys.stderr, flush=True)


def env_for(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update({"EXAMSYS_DATABASE_URL": f"sqlite:///{tmp / 'demo.db'}", "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"),
                "EXAMSYS_JOB_DIR": str(tmp / "jobs"), "EXAMSYS_KEY_DIR": str(tmp / "keys"),
                "EXAMSYS_SECRET_KEY": "bench-worker-memory-secret", "EXAMSYS_DATA_KEY": "bench-worker-memory-data",
                "EXAMSYS_ENV": "development", "EXAMSYS_LOGIN_RATE": "10000 per minute",
                "EXAMSYS_CANDIDATE_LOGIN_RATE": "10000 per minute", "PYTHONUNBUFFERED": "1"})
    env.pop("EXAMSYS_REDIS_URL", None)
    env.pop("EXAMSYS_JOBS_IMMEDIATE", None)
    return env


# --- setup ----------------------------------------------------------------------------------------


def make_demo(tmp: Path, env: dict, source: Path | None = None) -> list[tuple[str, str]]:
    """The demo database; returns the demo candidates' (ticket, ID number) logins. With `source`,
    the demo built there once (the same keys) is copied, so that repeated runs skip building it."""
    if source is not None and (source / "logins.json").exists():
        for name in ("demo.db", "uploads", "keys"):
            if (source / name).is_dir():
                shutil.copytree(source / name, tmp / name)
            elif (source / name).exists():
                shutil.copy2(source / name, tmp / name)
        return [tuple(x) for x in json.loads((source / "logins.json").read_text())]
    subprocess.run([BIN / "examsys", "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    out = subprocess.run([BIN / "examsys", "demo"], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    logins = re.findall(r"^\s+\S+\s+(\d{17})\s+(\d{17}[\dX])\s*$", out.stdout, re.M)
    if source is not None:
        subprocess.run([sys.executable, "-c", "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("
                        "'PRAGMA wal_checkpoint(TRUNCATE)')", str(tmp / "demo.db")], check=True)
        source.mkdir(parents=True, exist_ok=True)
        for name in ("demo.db", "uploads", "keys"):
            if (tmp / name).is_dir():
                shutil.copytree(tmp / name, source / name, dirs_exist_ok=True)
            elif (tmp / name).exists():
                shutil.copy2(tmp / name, source / name)
        (source / "logins.json").write_text(json.dumps(logins))
    return logins


def seed_candidates(tmp: Path, env: dict, n: int) -> int | None:
    """n more candidates on the roster of a batch of SKILL-01 not yet sat; returns its id."""
    if n <= 0:
        return None
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from sqlalchemy import select
from wsgi import app
from examsys.extensions import db
from examsys.accounts.models import Organisation
from examsys.delivery.models import Batch, BatchRoom, BatchState, RosterEntry
from examsys.delivery.batches.common import new_access_code
from examsys.delivery.batches.rosters import assign_seats
from tests import factories
with app.app_context():
    org = db.session.scalar(select(Organisation).where(Organisation.code == "SKILL-01"))
    batch = db.session.scalars(select(Batch).where(Batch.organisation_id == org.id,
        Batch.state.in_([BatchState.FILED, BatchState.PLANNED])).order_by(Batch.id)).first()
    make = factories.Factories(db)
    for k in range({n}):
        cand = make.candidate(org, name=f"压测考生{{k + 1}}", id_number=factories.valid_id_number(500000 + k))
        db.session.add(RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=f"W{{batch.id:04d}}{{k + 1:06d}}",
                                   room_id=None, seat_no=None, order_seed=9000 + k, start_delay_seconds=0))
        if k % 500 == 499:
            db.session.flush()
    db.session.flush()
    db.session.refresh(batch)
    for r in range(-(-{n} // 100)):  # rooms of 100 seats for them, seated as an import would
        db.session.add(BatchRoom(batch_id=batch.id, name=f"压测第{{r + 1}}考场", position=100 + r, capacity=100,
                                 access_code=new_access_code()))
    db.session.flush()
    db.session.refresh(batch)
    assign_seats(batch)
    db.session.commit()
    print(batch.id)
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1])


# --- processes and memory -------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return None


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Sampler(threading.Thread):
    def __init__(self, master: int, job_worker: int):
        super().__init__(daemon=True)
        self.master, self.job_worker = master, job_worker
        self.web: dict[int, list[float]] = {}
        self.jobs: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in children(self.master):
                value = rss_mb(pid)
                if value is not None:
                    self.web.setdefault(pid, []).append(value)
            total = sum(v for v in [rss_mb(self.job_worker)] + [rss_mb(c) for c in children(self.job_worker)] if v)
            if total:
                self.jobs.append(total)
            time.sleep(0.2)


def start(cmd: list, env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the walk -------------------------------------------------------------------------------------


class Browser:
    """A clerk's browser: cookies, the CSRF token of the last page, redirects followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""
        self.retries = 0

    def _open(self, req):
        """One request; a 500 (SQLite's lock wait ran out on a shared, busy machine) is tried
        again twice, as a clerk would press the button again."""
        for attempt in range(3):
            try:
                return self.opener.open(req, timeout=120)
            except urllib.error.HTTPError as exc:
                if exc.code != 500 or attempt == 2:
                    raise
                self.retries += 1
                time.sleep(1.0)
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, str, str]:
        with self._open(self.base + path) as resp:
            body = resp.read()
            text = body.decode("utf-8", "replace") if "html" in resp.headers.get("Content-Type", "") else ""
            match = re.search(r'name="csrf_token" value="([^"]+)"', text)
            if match:
                self.csrf = match.group(1)
            return resp.status, resp.geturl(), text if text else body

    def post(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode({"csrf_token": self.csrf, **(data or {})}).encode()
        with self._open(urllib.request.Request(self.base + path, data=body)) as resp:
            return resp.status, resp.geturl(), resp.read().decode("utf-8", "replace")

    def login(self, username: str) -> None:
        self.get("/login")
        self.post("/login", {"username": username, "password": PASSWORD})


def pdf_buttons(html: str) -> list[str]:
    return sorted(set(re.findall(r'<form method="post" action="([^"]+\.pdf[^"]*)"', html)))


def take_job(browser: Browser, action: str, times: list[dict]) -> None:
    """Press a PDF button, follow the job's page until the download, take it."""
    t0 = time.monotonic()
    try:
        status, url, _ = browser.post(action.replace("&amp;", "&"))
    except urllib.error.HTTPError as exc:
        times.append({"action": action, "error": exc.code})
        return
    match = re.search(r"/jobs/(\d+)$", url)
    if not match:
        times.append({"action": action, "error": f"no job page: {url}"})
        return
    job = match.group(1)
    while True:
        _, _, page = browser.get(f"/jobs/{job}")
        if f"/jobs/{job}/result" in page or "flash-error" in page:
            break
        time.sleep(0.5)
    done = time.monotonic() - t0
    size = None
    if f"/jobs/{job}/result" in page:
        _, _, data = browser.get(f"/jobs/{job}/result")
        size = len(data)
    label = re.search(r"<h1>([^<]+)</h1>", page)
    times.append({"job": int(job), "kind": label.group(1) if label else action, "seconds": round(done, 2),
                  "bytes": size, "ok": size is not None})


def clerk_walk(base: str, times: list[dict]) -> None:
    try:
        _clerk_walk(base, times)
    except Exception as exc:  # noqa: BLE001 - reported in the JSON line, not a crash of the bench
        times.append({"walk_error": repr(exc)[:300]})


def _clerk_walk(base: str, times: list[dict]) -> None:
    admin = Browser(base)
    admin.login("examadmin")
    _, _, listing = admin.get("/delivery/batches")
    batch_ids = sorted({int(b) for b in re.findall(r'href="/delivery/batches/(\d+)"', listing)})
    paper_ids: set[int] = set()
    for bid in batch_ids:
        _, _, page = admin.get(f"/delivery/batches/{bid}")
        paper_ids |= {int(p) for p in re.findall(r'href="/assembly/papers/(\d+)"', page)}
        for action in pdf_buttons(page):
            take_job(admin, action, times)
        try:
            _, _, results = admin.get(f"/delivery/batches/{bid}/results")
        except urllib.error.HTTPError:
            continue
        buttons = pdf_buttons(results)
        reports = [b for b in buttons if "/attempts/" in b][:1]  # one candidate's report per batch
        for action in [b for b in buttons if "/attempts/" not in b] + reports:
            take_job(admin, action, times)
    for pid in sorted(paper_ids):
        _, _, page = admin.get(f"/assembly/papers/{pid}")
        for action in pdf_buttons(page):
            take_job(admin, action, times)
    province = Browser(base)
    province.login("province")
    province.get("/campaign/")
    take_job(province, "/campaign/summary.pdf?year=2026", times)


def api(base: str, method: str, path: str, body: dict | None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def candidate_flow(base: str, logins: list[tuple[str, str]], out: dict) -> None:
    """A few candidates sit the exam: login, start, paper, three saves each, submit."""
    time.sleep(5.0)  # the clerks sign in first
    for ticket, id_number in logins:
        status, data = api(base, "POST", "/api/v1/candidate/session", {"ticket_no": ticket, "id_number": id_number})
        if status != 201:
            out.setdefault("refused", []).append((ticket, "login", status))
            continue
        token = data["token"]
        status, started = api(base, "POST", f"/api/v1/exams/{data['candidate']['exam_id']}/attempt", {}, token)
        if status not in (200, 201):
            out.setdefault("refused", []).append((ticket, "start", status))
            continue
        attempt = started["attempt_id"]
        _, paper = api(base, "GET", f"/api/v1/attempts/{attempt}/paper", None, token)
        saved = 0
        for seq, item in enumerate((paper.get("items") or [])[:3], 1):
            options = item.get("options") or []
            answer = options[0]["value"] if options else "答案"
            status, _ = api(base, "PUT", f"/api/v1/attempts/{attempt}/responses/{item['item_ref']}",
                            {"answer": answer, "seq": seq}, token)
            saved += 200 <= status < 300
        status, _ = api(base, "POST", f"/api/v1/attempts/{attempt}/submit", {}, token)
        out.setdefault("sat", []).append({"ticket": ticket, "saves": saved, "submit": status})


# --- the baseline: the same documents rendered in one process, as the requests did -------------------


BASELINE = """
import resource, sys, time, json
sys.path.insert(0, {root!r})
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
from wsgi import app
from sqlalchemy import select
from examsys.extensions import db
from examsys.accounts.models import Organisation
from examsys.assembly.models import Paper
from examsys.assembly.queries import effective_compliance, form_view
from examsys.campaign.console import report
from examsys.delivery.models import Attempt, Batch
from examsys.delivery import pdf_jobs
from examsys.reports import delivery as rd, papers as rp, results as rr
from examsys.standards.models import Standard
out = {{"bare_mb": None, "after_mb": None, "seconds": {{}}}}
with app.test_request_context():
    org = db.session.scalar(select(Organisation).where(Organisation.code == "SKILL-01"))
    out["bare_mb"] = rss()
    def timed(name, fn):
        t0 = time.monotonic()
        fn()
        out["seconds"][name] = round(out["seconds"].get(name, 0) + time.monotonic() - t0, 2)
    papers = set()
    for b in db.session.scalars(select(Batch).where(Batch.organisation_id == org.id)):
        timed("filing", lambda: rd.filing_pack_pdf(b))
        if b.roster:
            timed("tickets", lambda: rd.tickets_pdf(b))
        for room in b.rooms:
            timed("room_record", lambda: rd.room_record_pdf(b, room))
        if b.state in pdf_jobs.LISTABLE:
            timed("score_list", lambda: rr.score_list_pdf(b))
            a = db.session.scalars(select(Attempt).where(Attempt.batch_id == b.id)).first()
            if a is not None:
                timed("score_report", lambda: rr.score_report_pdf(b, a))
        if b.paper_id:
            papers.add(b.paper_id)
    for pid in sorted(papers):
        p = db.session.get(Paper, pid)
        st = db.session.get(Standard, p.standard_id)
        for f in p.forms:
            timed("paper", lambda: rp.paper_pdf(p, form_view(p, f), st))
            timed("key", lambda: rp.answer_key_pdf(p, form_view(p, f), st))
        timed("compliance", lambda: rp.compliance_pdf(p, st, effective_compliance(p)))
    timed("campaign", lambda: report.summary_pdf(2026, None))
    out["after_mb"] = rss()
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def baseline(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", BASELINE.format(root=str(ROOT))], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=2000, help="extra candidates on one batch's roster")
    ap.add_argument("--port", type=int, default=5401)
    ap.add_argument("--dir", help="work directory (default: a temp dir, removed at the end)")
    ap.add_argument("--exam-candidates", type=int, default=5, help="demo candidates sitting the exam")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--demo-from", help="a directory keeping the demo built once (built there on the first run)")
    args = ap.parse_args()
    tmp = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="worker-memory-"))
    if tmp.exists() and args.dir:
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    env = env_for(tmp)
    log(f"demo database in {tmp}")
    logins = make_demo(tmp, env, Path(args.demo_from) if args.demo_from else None)
    big = seed_candidates(tmp, env, args.candidates)
    log(f"{len(logins)} demo candidates; batch {big} has {args.candidates} more on its roster")
    server = start([BIN / "gunicorn", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{args.port}", "--timeout", "300",
                    "wsgi:app"], env, tmp / "gunicorn.log")
    worker = start([BIN / "examsys", "jobs", "worker"], env, tmp / "jobs.log")
    base = f"http://127.0.0.1:{args.port}"
    result: dict = {}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(1.0)
        bare = {pid: rss_mb(pid) for pid in children(server.pid)}
        sampler = Sampler(server.pid, worker.pid)
        sampler.start()
        times: list[dict] = []
        exam: dict = {}
        t0 = time.monotonic()
        walkers = [threading.Thread(target=clerk_walk, args=(base, times)),
                   threading.Thread(target=candidate_flow, args=(base, logins[:args.exam_candidates], exam))]
        for t in walkers:
            t.start()
        for t in walkers:
            t.join()
        walk_s = time.monotonic() - t0
        sampler.stop.set()
        sampler.join()
        web_peak = {str(pid): round(max(v), 1) for pid, v in sampler.web.items()}
        web_end = {str(pid): round(v[-1], 1) for pid, v in sampler.web.items()}
        result = {"bench": "worker_memory", "candidates_on_roster": args.candidates, "walk_seconds": round(walk_s, 1),
                  "web_bare_mb": {str(k): round(v, 1) for k, v in bare.items() if v},
                  "web_peak_mb": web_peak, "web_end_mb": web_end,
                  "job_worker_peak_mb": round(max(sampler.jobs), 1) if sampler.jobs else None,
                  "jobs": times, "jobs_failed": sum(1 for t in times if not t.get("ok")),
                  "exam": {"sat": len(exam.get("sat", [])),
                           "submitted": sum(1 for s in exam.get("sat", []) if s["submit"] in (200, 201)),
                           "refused": exam.get("refused", [])}}
    finally:
        stop(server)
        stop(worker)
    if not args.no_baseline:
        log("baseline: the same documents rendered in one process")
        result["baseline_in_process"] = baseline(env)
    result["targets_met"] = bool(result.get("web_peak_mb")) and all(
        v < TARGET_MB for v in result["web_peak_mb"].values()) and result["jobs_failed"] == 0
    for t in result.get("jobs", []):
        log(f"  {t.get('kind')}: {t.get('seconds')} s {t.get('bytes')} B {'ok' if t.get('ok') else t}")
    log(f"web workers: bare {result.get('web_bare_mb')} peak {result.get('web_peak_mb')} MB; "
        f"job worker peak {result.get('job_worker_peak_mb')} MB; baseline {result.get('baseline_in_process')}")
    if not args.dir:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
