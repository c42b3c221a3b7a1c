"""`make reliability`: an exam day's proof in one report (issue 15 point 9).

    python scripts/reliability.py [--quick] [--only STEP ...] [--report docs/reliability.md]

Runs, one after the other (each in a process of its own, with a time cap):

- load-postgresql / load-sqlite: bench/load.py, three consecutive runs (5,000 candidates on
  PostgreSQL, 1,000 on SQLite; --quick: its CI preset), every target held in each run;
- crash: the kill -9 and database-crash harnesses (tests/faults) with 20 + 20 cycles, on SQLite
  and PostgreSQL: 0 lost or regressed acknowledged saves, every chain verifying, the answer
  history holding every acknowledged save;
- nodes: two app nodes behind nginx against one node (tests/nodes), outcomes identical;
- hostile: the XSS corpus (all of it; --quick: the CI sample) and the hostile files (tests/hostile);
- access: the IDOR and tenancy matrix, the canary scan and CSRF (tests/access), on both databases;
- lifecycle: the hypothesis state machine over the attempt lifecycle, with more examples than CI.

and writes the report (Markdown: the date, the machine, each step's verdict and figures). Exits 0
only when every step passed. Steps that need PostgreSQL fail (not skip) when it does not answer:
the report is a proof, and a proof with a hole is not one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(Path(sys.executable))
PG_URL = os.environ.get("EXAMSYS_RELIABILITY_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Step:
    name: str
    title: str
    argv: list[str]
    env: dict = field(default_factory=dict)
    timeout: int = 1800
    kind: str = "pytest"  # or "bench": the last stdout line is the JSON verdict
    records: tuple[str, ...] = ()  # tests/reliability.record names whose figures the report shows


@dataclass
class Outcome:
    step: Step
    ok: bool
    seconds: float
    summary: str
    figures: dict | list | None = None
    records: dict = field(default_factory=dict)
    tail: str = ""


def pytest_step(name, title, paths, *, env=None, pg=False, timeout=1800, records=(), extra=()):
    env = dict(env or {})
    if pg:
        env["EXAMSYS_TEST_DATABASE_URL"] = PG_URL
    argv = [PY, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *extra, *paths]
    return Step(name, title, argv, env, timeout, "pytest", tuple(records))


def steps(quick: bool) -> list[Step]:
    load_args = ["--quick"] if quick else []
    app_cycles, db_crashes = ("20", "3") if quick else ("20", "20")  # CI's own sizes, then the issue's
    out = [
        Step("load-postgresql", "考试日负载：PostgreSQL",
             [PY, "bench/load.py", "--database", "postgresql", "--runs", "3",
              *(load_args or ["--candidates", "5000"])],
             timeout=7200, kind="bench"),
        Step("load-sqlite", "考试日负载：SQLite",
             [PY, "bench/load.py", "--database", "sqlite", "--runs", "3",
              *(load_args or ["--sqlite-candidates", "1000"])], timeout=5400, kind="bench"),
    ]
    for db in ("sqlite", "postgresql"):
        out.append(pytest_step(
            f"crash-{db}", f"崩溃：kill -9 与数据库崩溃（{db}）", ["tests/faults"],
            env={"EXAMSYS_FAULTS_APP_CYCLES": app_cycles, "EXAMSYS_FAULTS_DB_CRASHES": db_crashes},
            pg=db == "postgresql", timeout=3600,
            records=("faults",),
            # each step runs its own database's cases: the other's would skip, and a skip fails a step
            extra=["-m", "faults", "-k", "postgresql" if db == "postgresql" else "not postgresql"]))
    out += [
        pytest_step("nodes", "两个节点与 nginx", ["tests/nodes"], pg=True, timeout=1200, records=("nodes",)),
        pytest_step("hostile", "恶意输入", ["tests/hostile"],
                    env={} if quick else {"EXAMSYS_HOSTILE_FULL": "1"}, timeout=3600,
                    records=("hostile", "hostile_forms")),
    ]
    for db in ("sqlite", "postgresql"):
        out.append(pytest_step(f"access-{db}", f"访问控制矩阵、金丝雀与 CSRF（{db}）", ["tests/access"],
                               pg=db == "postgresql", timeout=1800, records=("access",)))
    out.append(pytest_step(
        "lifecycle", "作答生命周期状态机", ["tests/delivery/test_attempts_stateful.py"],
        env={"EXAMSYS_STATEFUL_EXAMPLES": "60" if quick else "400"}, timeout=1800, records=("lifecycle",)))
    return out


def pg_answers() -> bool:
    import socket

    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", 5432))
        return True
    except OSError:
        return False
    finally:
        s.close()


def junit_summary(path: Path) -> tuple[bool, str]:
    if not path.exists():
        return False, "no test report"
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    ok = n["tests"] > 0 and n["failures"] == 0 and n["errors"] == 0 and n["skipped"] == 0
    text = f"{passed} passed, {n['failures']} failed, {n['errors']} errors, {n['skipped']} skipped"
    return ok, text


def run(step: Step, work: Path) -> Outcome:
    rec_dir = work / step.name
    rec_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **step.env, "EXAMSYS_RELIABILITY_DIR": str(rec_dir)}
    argv = list(step.argv)
    junit = rec_dir / "junit.xml"
    if step.kind == "pytest":
        argv.insert(argv.index("-p"), f"--junitxml={junit}")
    print(f"== {step.name}: {' '.join(argv[1:])}", flush=True)
    t0 = time.monotonic()
    log = rec_dir / "output.log"
    with open(log, "w", encoding="utf-8") as fh:
        try:
            proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                  timeout=step.timeout, check=False)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
    seconds = time.monotonic() - t0
    text = log.read_text(encoding="utf-8", errors="replace")
    tail = "\n".join(text.strip().splitlines()[-15:])
    records = {}
    for name in step.records:
        entries = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(rec_dir.glob(f"{name}.*.json"))]
        if entries:
            records[name] = entries
    if code is None:
        return Outcome(step, False, seconds, f"timed out after {step.timeout} s", None, records, tail)
    if step.kind == "bench":
        figures = None
        for line in reversed(text.strip().splitlines()):
            if line.startswith("{"):
                try:
                    figures = json.loads(line)
                    break
                except ValueError:
                    continue
        ok = code == 0 and bool(figures) and figures.get("targets_met") is True
        summary = "targets met in every run" if ok else (
            "no JSON verdict" if not figures else f"targets_met={figures.get('targets_met')}, exit {code}")
        return Outcome(step, ok, seconds, summary, figures, records, tail)
    ok, summary = junit_summary(junit)
    return Outcome(step, ok and code == 0, seconds, summary, None, records, tail)


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version", "test"]
    for name, argv in (("postgresql", psql),
                       ("redis", ["redis-cli", "INFO", "server"]),
                       ("nginx", ["nginx", "-v"])):
        if shutil.which(argv[0]):
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
                out = (p.stdout + p.stderr).strip()
                if name == "redis":
                    out = next((ln.split(":", 1)[1] for ln in out.splitlines() if ln.startswith("redis_version")), out)
                info[name] = out.splitlines()[0] if out else "?"
            except (OSError, subprocess.TimeoutExpired):
                pass
    info["commit"] = commit()
    return info


def commit() -> str:
    """HEAD, marked when the working tree has uncommitted changes to tracked files."""
    with contextlib.suppress(OSError):
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=False).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    return "?"


def fmt_json(value) -> str:
    return "```json\n" + json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n```"


def verdict(outcomes: list[Outcome], not_run: list[str]) -> str:
    if not all(o.ok for o in outcomes):
        return "FAILED"
    if not_run:
        return f"partial: the steps run passed, not run: {', '.join(not_run)} (not a proof)"
    return "every step passed"


def report(outcomes: list[Outcome], quick: bool, started: dt.datetime, not_run: list[str] = (),
           m: dict | None = None) -> str:
    """`m`: the machine as it was when the run started (its commit above all)."""
    m = dict(m or machine())
    now = commit()
    if now != m.get("commit"):
        m["commit"] = f"{m.get('commit')} at the start; {now} when the report was written (changed during the run)"
    lines = [
        "# Reliability report",
        "",
        "Written by `make reliability` (scripts/reliability.py); do not edit by hand.",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}" + (" (quick run: the CI sizes)" if quick else ""),
        f"- Commit: {m.get('commit', '?')}",
        f"- Machine: {m.get('cpus')} CPUs ({m.get('cpu', '?')}), {m.get('memory_gib', '?')} GiB, {m.get('platform')}",
        f"- Python {m.get('python')}, PostgreSQL {m.get('postgresql', '?')}, Redis {m.get('redis', '?')}, "
        f"{m.get('nginx', 'nginx ?')}",
        f"- Verdict: **{verdict(outcomes, list(not_run))}**",
        "",
        "| Step | Result | Time | Summary |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(f"| {o.step.name} ({o.step.title}) | {'pass' if o.ok else '**FAIL**'} | "
                     f"{o.seconds:.0f} s | {o.summary} |")
    for o in outcomes:
        lines += ["", f"## {o.step.name}: {o.step.title}", "", f"`{' '.join(o.step.argv[1:])}`"
                  + (f" with {' '.join(f'{k}={v}' for k, v in o.step.env.items())}" if o.step.env else ""), ""]
        lines.append(f"{'Passed' if o.ok else 'FAILED'} in {o.seconds:.0f} s: {o.summary}.")
        if o.figures is not None:
            lines += ["", fmt_json(o.figures)]
        for name, entries in o.records.items():
            lines += ["", f"Figures recorded by the tests ({name}):", "", fmt_json(entries)]
        if not o.ok:
            lines += ["", "Last lines of its output:", "", "```", o.tail, "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the CI sizes (minutes, not hours)")
    ap.add_argument("--only", nargs="*", metavar="STEP", help="run only these steps (names as in the report)")
    ap.add_argument("--report", default=str(ROOT / "docs" / "reliability.md"), help="where to write the report")
    ap.add_argument("--list", action="store_true", help="list the steps and exit")
    args = ap.parse_args()
    todo = steps(args.quick)
    not_run: list[str] = []
    if args.list:
        for s in todo:
            print(f"{s.name:18} {s.title}")
        return 0
    if args.only:
        unknown = set(args.only) - {s.name for s in todo}
        if unknown:
            ap.error(f"unknown step(s): {', '.join(sorted(unknown))}")
        not_run = [s.name for s in todo if s.name not in args.only]
        todo = [s for s in todo if s.name in args.only]
    if not pg_answers():
        print("reliability: PostgreSQL does not answer on 127.0.0.1:5432; its steps will fail", file=sys.stderr)
    started = dt.datetime.now(dt.UTC)
    at_start = machine()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="examsys-reliability-") as tmp:
        for step in todo:
            o = run(step, Path(tmp))
            print(f"   {'pass' if o.ok else 'FAIL'} in {o.seconds:.0f} s: {o.summary}", flush=True)
            outcomes.append(o)
    Path(args.report).write_text(report(outcomes, args.quick, started, not_run, at_start), encoding="utf-8")
    print(f"reliability: report written to {args.report}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
