"""Two app nodes sharing PostgreSQL and Redis behind nginx (issue 15, point 5; DESIGN "Scale-out";
RELIABILITY 35): a candidate's requests alternate between the nodes mid-exam and nothing differs.

One scripted exam is played twice with the same seed: once against ONE node (gunicorn, 2 workers
x 4 threads) and once against TWO such nodes behind nginx running deploy/nginx-examsys.conf
(round robin, so consecutive requests of one candidate land on different nodes; every answer
says which node it came from in X-Examsys-Node). Each run has a fresh PostgreSQL schema and an
empty Redis database of its own. The script, one request at a time so that both runs see the
same order:

1. a ticket guessed at 8 times (wrong ID number): the per-ticket lock-out (database) and the
   per-ticket login rate limit (Redis, 6 a minute) answer the same, counted across both nodes;
2. every candidate signs in, lists its exams, starts, loads the paper;
3. saves: random items with rising seqs, a replay of the last save (stored once), a stale seq
   (409 with the stored state);
4. the proctor signs in through the login form (CSRF token fetched from one node, posted to the
   other: signed cookie sessions) and grants 5 extra minutes to every third candidate;
5. time passes, out of band: the test moves the start and deadline of two thirds of the attempts
   61 minutes back (the app's clock cannot be frozen in a server process). Those without extra
   time are now past deadline + grace, those with it still have 4 minutes;
6. saves after the deadline (refused, on both nodes, not stored) and with the extension (stored),
   while each node still remembers those attempts' earlier reads (examsys.delivery.exam.hotsave);
7. submit, a save after submit, a second submit; `examsys delivery sweep` twice (every overdue
   attempt, then nothing); every attempt read back.

Compared between the runs: every answer's status and body (times and tokens left out), the
stored responses (seq, answer, flag), attempts (status, finish reason, answered count), item
scores, extensions, incidents, candidate sessions, the process record's events per action, the
answer history, and `examsys audit verify` (every chain verifies in both).

Needs PostgreSQL (EXAMSYS_TEST_DATABASE_URL, as the PostgreSQL run of the suite sets it), Redis
(EXAMSYS_TEST_REDIS_URL, default redis://127.0.0.1:6379) and nginx; skipped, saying which is
missing, otherwise. EXAMSYS_NODES_PORT_BASE=P puts the servers on ports P, P+1, … instead of
free ones.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name
from tests.faults.harness import (
    Gunicorn,
    bench_delivery,
    bench_load,
    bench_nginx,
    free_port,
    new_tempdir,
    server_env,
)

pytestmark = [pytest.mark.nodes, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SEED_SCRIPT = Path(__file__).resolve().parent / "_seed.py"
CLI_SCRIPT = Path(__file__).resolve().parent / "_cli.py"
REDIS_URL = os.environ.get("EXAMSYS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
CANDIDATES = 30
SAVES_EACH = 6
SEED = 15
WRONG_LOGINS = 8
LOGIN_RATE = "6 per minute"  # staff logins per address and username; candidate sign-ins per ticket
SHIFT_MINUTES = 61  # the batch's duration is 60 minutes, its grace 15 s
EXTRA_MINUTES = 5
# Left out of the comparison: instants (they differ between runs by construction) and secrets.
VOLATILE = {"token", "expires_at", "saved_at", "server_time", "started_at", "deadline_at", "finished_at",
            "remaining_seconds", "window_start", "window_end", "starts_at"}


# --- what must be there ------------------------------------------------------------------------


def _missing() -> str | None:
    if not TEST_DB_URL:
        return "needs PostgreSQL: EXAMSYS_TEST_DATABASE_URL is not set (the suite's PostgreSQL run sets it)"
    reason = bench_delivery.pg_reachable(TEST_DB_URL)
    if reason:
        return f"PostgreSQL at EXAMSYS_TEST_DATABASE_URL does not answer: {reason}"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure is the reason to skip
        return f"needs Redis at {REDIS_URL} (EXAMSYS_TEST_REDIS_URL): {type(exc).__name__}: {exc}"
    if bench_nginx.binary() is None:
        return "needs nginx (scripts/sysdeps.sh installs nginx-light)"
    return None


class Ports:
    """EXAMSYS_NODES_PORT_BASE, P+0, P+1, … when set, else free ports."""

    def __init__(self):
        base = os.environ.get("EXAMSYS_NODES_PORT_BASE")
        self.next = int(base) if base else None

    def take(self) -> int:
        if self.next is None:
            return free_port()
        port, self.next = self.next, self.next + 1
        return port


def _redis_db(cleanup) -> str:
    """An empty Redis database of this run's own (claimed with a marker key), flushed afterwards."""
    import redis

    for n in range(1, 14):  # 14: bench/delivery.py's, 15: tests/test_ratelimit_redis.py's
        conn = redis.Redis.from_url(REDIS_URL, db=n)
        if conn.dbsize() == 0 and conn.set("examsys-nodes-test", worker_name(), nx=True, ex=900):
            cleanup.add(f"redis db {n}", conn.flushdb)
            return f"{REDIS_URL.rstrip('/')}/{n}"
    raise AssertionError("no empty Redis database among 1-13")


# --- nginx -------------------------------------------------------------------------------------


def Nginx(tmp: Path, listen: int, nodes: list[int], cleanup):  # noqa: N802 - reads as the class it builds
    """deploy/nginx-examsys.conf in front of the nodes (bench/_nginx.py): one worker, since round
    robin is per worker and the test wants strict alternation."""
    return bench_nginx.Nginx(tmp, listen, nodes, cleanup, workers=1, connections=256,
                             wait_healthz=bench_delivery.wait_healthz)


# --- the client --------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection, a cookie jar, and the node of every answer."""

    def __init__(self, port: int, nodes: list):
        self.port, self.nodes = port, nodes
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, json_body=None, form=None, token=None, who=None):
        headers = {"User-Agent": "examsys-nodes-test/1", "Accept": "application/json"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Accept"] = "text/html"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # an idle keep-alive connection the server closed: once more
                if attempt == 2:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        self.nodes.append((who, resp.getheader("X-Examsys-Node")))
        ctype = resp.getheader("Content-Type") or ""
        parsed = json.loads(data) if data and "json" in ctype else data.decode("utf-8", "replace")
        return resp.status, parsed, resp


def stable(value):
    """The answer without what differs between runs by construction (instants, tokens)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


# --- one run -----------------------------------------------------------------------------------


class Run:
    def __init__(self, kind: str, url: str, tmp: Path, port: int):
        self.kind, self.url, self.tmp = kind, url, tmp
        self.nodes: list = []  # (who, node) of every answer, in order
        self.client = Client(port, self.nodes)
        self.log: list = []  # (step, who, status, stable body) of every answer

    def call(self, step: str, who, method: str, path: str, **kw):
        status, data, resp = self.client.request(method, path, who=who, **kw)
        self.log.append((step, who, status, stable(data) if not isinstance(data, str) else None))
        return status, data, resp

    @staticmethod
    def cli(env: dict, *commands: str) -> list[str]:
        """The output of each `examsys` command, run in one process (tests/nodes/_cli.py)."""
        done = subprocess.run([sys.executable, str(CLI_SCRIPT), *commands], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)  # a hang guard: a shared machine is slow
        assert done.returncode == 0, f"{commands}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
        results = json.loads(done.stdout.strip().splitlines()[-1])
        for command, result in zip(commands, results, strict=True):
            assert result["exit_code"] == 0, f"examsys {command}: {result['output'][-1500:]}"
        return [result["output"] for result in results]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no csrf_token in page: {html[:300]}"
    return match.group(1)


def play(run: Run, seeded: dict, engine, env: dict) -> dict:
    """The scripted exam; returns the facts to compare (answers, then the database)."""
    from sqlalchemy import text

    rng = random.Random(SEED)
    logins = seeded["logins"]
    victim, cands = logins[-1], logins[:-1]
    batch_id = seeded["batch_id"]
    facts: dict = {}

    # 1. guessing at one ticket: lock-out after 5 failures, then the ticket's rate limit (6 a minute)
    for k in range(WRONG_LOGINS):
        run.call("guess", "victim", "POST", "/api/v1/candidate/session",
                 json_body={"ticket_no": victim["ticket_no"], "id_number": f"11010519800101{k:03d}X"})
    run.call("guess-right", "victim", "POST", "/api/v1/candidate/session", json_body=victim)
    facts["guesses"] = [status for step, _, status, _ in run.log if step.startswith("guess")]

    # 2. sign in, exams, start, paper: one candidate's requests back to back
    state = []
    for i, login in enumerate(cands):
        _, data, _ = run.call("login", i, "POST", "/api/v1/candidate/session", json_body=login)
        token = data["token"]
        _, data, _ = run.call("exams", i, "GET", "/api/v1/candidate/exams", token=token)
        exam_id = data["exams"][0]["exam_id"]
        _, data, _ = run.call("start", i, "POST", f"/api/v1/exams/{exam_id}/attempt", json_body={}, token=token)
        attempt_id = data["attempt_id"]
        _, data, _ = run.call("paper", i, "GET", f"/api/v1/attempts/{attempt_id}/paper", token=token)
        items = [{"item_ref": it["item_ref"], "qtype": it["qtype"], "blanks": it.get("blanks"),
                  "options": [{"value": o["value"]} for o in it.get("options") or []]} for it in data["items"]]
        state.append({"token": token, "attempt": attempt_id, "items": items, "seqs": Counter(), "last": None})

    def save(step, i, item=None, seq=None, answer=None):
        c = state[i]
        if item is None:
            item = rng.choice(c["items"])
            c["seqs"][item["item_ref"]] += 1
            seq = c["seqs"][item["item_ref"]]
            answer = bench_load.make_answer(rng, item, seq)
            c["last"] = (item, seq, answer)
        return run.call(step, i, "PUT", f"/api/v1/attempts/{c['attempt']}/responses/{item['item_ref']}",
                        json_body={"answer": answer, "seq": seq}, token=c["token"])

    # 3. saves, a replay of the last one, a stale seq
    for i in range(len(cands)):
        for _ in range(SAVES_EACH):
            save("save", i)
        item, seq, answer = state[i]["last"]
        save("replay", i, item, seq, answer)
        if seq > 1:
            save("stale", i, item, seq - 1, bench_load.make_answer(rng, item, seq + 7))

    # 4. the proctor: login form and console on alternating nodes; 5 more minutes for every third
    extended = [i for i in range(len(cands)) if i % 3 == 1]
    late = [i for i in range(len(cands)) if i % 3 == 0]
    _, page, _ = run.call("login-page", "proctor", "GET", "/login")
    status, _, resp = run.call("login", "proctor", "POST", "/login",
                               form={**seeded["proctor"], "csrf_token": _csrf(page)})
    assert status == 302, f"proctor login: {status}"
    console = f"/delivery/proctor/{batch_id}"
    for i in extended:
        status, page, _ = run.call("console", "proctor", "GET", console)
        assert status == 200, f"proctor console: {status}"
        status, _, resp = run.call("extend", "proctor", "POST", f"{console}/actions", form={
            "csrf_token": _csrf(page), "action": "extend", "scope": "attempt", "attempt_id": state[i]["attempt"],
            "minutes": EXTRA_MINUTES, "reason": f"考生{i + 1}机器故障，更换座位"})
        facts.setdefault("extend", []).append((status, urllib.parse.urlparse(resp.getheader("Location")).path))

    # 5. time passes for the late and the extended: 61 minutes since their start
    moved = [state[i]["attempt"] for i in late + extended]
    with engine.begin() as conn:
        conn.execute(text("UPDATE attempts SET started_at = started_at - make_interval(mins => :m), "
                          "deadline_at = deadline_at - make_interval(mins => :m) WHERE id = ANY(:ids)"),
                     {"m": SHIFT_MINUTES, "ids": moved})

    # 6. two saves each (one per node): refused past the deadline, stored with the extension; half
    # of the late ones do not come back (the sweep finalises them)
    swept = [i for i in late if (i // 3) % 2 == 1]
    for i in [i for i in late if i not in swept] + extended:
        save("after-deadline" if i in late else "extended", i)
        save("after-deadline" if i in late else "extended", i)

    # 7. submit, a save after submit, a second submit; the sweep; everyone's attempt read back
    for i in range(len(cands)):
        if i in late:
            continue
        path = f"/api/v1/attempts/{state[i]['attempt']}/submit"
        run.call("submit", i, "POST", path, json_body={}, token=state[i]["token"])
        save("after-submit", i)
        run.call("submit-again", i, "POST", path, json_body={}, token=state[i]["token"])
    swept_out = run.cli(env, "delivery sweep", "delivery sweep")
    facts["sweep"] = [out.strip() for out in swept_out]
    for i in range(len(cands)):
        run.call("read", i, "GET", f"/api/v1/attempts/{state[i]['attempt']}", token=state[i]["token"])
    facts["answers"] = run.log
    facts["groups"] = {"late": late, "extended": extended, "swept": swept}

    # the database
    q = {
        "responses": "SELECT attempt_id, form_item_id, seq, answer, flagged FROM responses ORDER BY 1, 2",
        "attempts": "SELECT id, roster_entry_id, form_id, status, finish_reason, answered_count, version "
                    "FROM attempts ORDER BY id",
        "item_scores": "SELECT * FROM item_scores ORDER BY 1",
        "extensions": "SELECT batch_id, attempt_id, minutes, reason FROM extensions ORDER BY id",
        "incidents": "SELECT batch_id, attempt_id, kind, reason FROM incidents ORDER BY id",
        "sessions": "SELECT roster_entry_id, ended_at IS NULL, end_reason FROM candidate_sessions ORDER BY id",
        "events": "SELECT action, count(*) FROM audit_events GROUP BY 1 ORDER BY 1",
        "chains": "SELECT count(DISTINCT scope) AS scopes, count(*) AS events FROM audit_events",
        "history": "SELECT attempt_id, form_item_id, seq, answer FROM answer_history ORDER BY 1, 2, 3",
    }
    with engine.connect() as conn:
        for name, sql in q.items():
            rows = conn.execute(text(sql)).mappings().all()
            facts[name] = [{k: (str(v) if not isinstance(v, int | float | bool | dict | list | str | None) else v)
                            for k, v in row.items() if not k.endswith("_at")} for row in rows]
    verify = json.loads(run.cli(env, "audit verify --json")[0])
    facts["verify"] = {k: verify[k] for k in ("ok", "events", "scopes", "history_rows", "failures")}
    return facts


def scenario(kind: str, cleanup, ports: Ports) -> tuple[Run, dict, float]:
    tmp = new_tempdir(f"examsys-nodes-{kind}-", cleanup)
    schema = f"nodes_{kind}_{worker_name()}"
    url = pg_schema_url(TEST_DB_URL, schema)
    cleanup.add(f"schema {schema}", lambda: drop_pg_schema(TEST_DB_URL, schema))
    t0 = time.monotonic()
    bench_delivery.upgrade(url, tmp)
    env = server_env(url, tmp)
    env.update({"EXAMSYS_REDIS_URL": _redis_db(cleanup), "EXAMSYS_LOGIN_RATE": LOGIN_RATE,
                "EXAMSYS_JOB_DIR": str(tmp / "jobs")})
    out = tmp / "seed.json"
    done = subprocess.run([sys.executable, str(SEED_SCRIPT), url, str(CANDIDATES + 1), str(tmp), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"seeding failed: {done.stderr[-3000:]}"
    seeded = json.loads(out.read_text(encoding="utf-8"))

    names = ["one"] if kind == "one" else ["a", "b"]
    node_ports = []
    for name in names:
        node_env = dict(env, EXAMSYS_NODE_NAME=name, EXAMSYS_PROXY_COUNT="1" if kind == "two" else "0")
        server = Gunicorn(ports.take(), node_env, tmp / f"gunicorn-{name}.log", cleanup)
        server.start()
        server.wait_healthy(180)  # a shared, busy machine can take a minute to import the app
        node_ports.append(server.port)
    port = node_ports[0] if kind == "one" else Nginx(tmp, ports.take(), node_ports, cleanup).port
    from sqlalchemy import create_engine

    engine = create_engine(url, pool_size=1, max_overflow=0)
    cleanup.add("engine", engine.dispose)
    run = Run(kind, url, tmp, port)
    t1 = time.monotonic()
    facts = play(run, seeded, engine, env)
    return run, facts, (time.monotonic() - t1, t1 - t0)


@pytest.fixture
def needs_cluster():
    reason = _missing()
    if reason:
        pytest.skip(reason)


def _diff(a, b, path="") -> str | None:
    """Where two facts first differ (a readable path), or None."""
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'one' if k in a else 'two'}"
            found = _diff(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list | tuple):
        for n, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _diff(x, y, f"{path}[{n}]")
            if found:
                return found
        return f"{path}: {len(a)} != {len(b)} entries" if len(a) != len(b) else None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def test_two_nodes_behind_nginx_answer_as_one(needs_cluster, cleanup, nodes_report):
    ports = Ports()
    one, facts_one, (t_one, setup_one) = scenario("one", cleanup, ports)
    two, facts_two, (t_two, setup_two) = scenario("two", cleanup, ports)

    # The two-node run did alternate: every answer named its node, strictly a, b, a, b … (nginx
    # round robin, one request at a time), so each candidate's consecutive requests hopped.
    served = [node for _who, node in two.nodes]
    assert set(served) == {"a", "b"} and None not in served, Counter(served)
    flips = sum(x != y for x, y in zip(served, served[1:], strict=False))
    assert flips == len(served) - 1, f"{flips} node changes in {len(served)} answers"
    per_candidate: dict = {}
    for who, node in two.nodes:
        per_candidate.setdefault(who, []).append(node)
    hops = sum(x != y for seq in per_candidate.values() for x, y in zip(seq, seq[1:], strict=False))
    pairs = sum(len(seq) - 1 for seq in per_candidate.values())
    assert all(set(seq) == {"a", "b"} for seq in per_candidate.values())
    assert {node for _who, node in one.nodes} == {"one"}

    # Each run did what the script means (so that two equally broken runs cannot pass).
    for facts in (facts_one, facts_two):
        guesses = facts["guesses"]
        assert guesses[:5] == [401] * 5 and 429 in guesses[6:], guesses  # locked, then rate-limited
        steps = Counter((step, status) for step, _who, status, _ in facts["answers"])
        late, extended, swept = (facts["groups"][k] for k in ("late", "extended", "swept"))
        assert steps[("save", 200)] == SAVES_EACH * CANDIDATES
        assert steps[("replay", 200)] == CANDIDATES and steps[("stale", 409)] == sum(
            1 for step, *_ in facts["answers"] if step == "stale")
        assert steps[("after-deadline", 409)] == 2 * (len(late) - len(swept)), steps
        assert steps[("extended", 200)] == 2 * len(extended), steps
        assert steps[("after-submit", 409)] == CANDIDATES - len(late), steps
        assert facts["extend"] == [(303, f"/delivery/proctor/{facts['extensions'][0]['batch_id']}")] * len(extended)
        assert len(facts["extensions"]) == len(extended)
        # a refused save finalises nothing (its transaction rolls back): the sweep closes every late one
        assert facts["sweep"] == [f"finalised {len(late)} attempt(s)", "finalised 0 attempt(s)"]
        statuses = Counter(a["status"] for a in facts["attempts"])
        assert statuses == {"submitted": CANDIDATES - len(late), "timed_out": len(late)}, statuses
        assert facts["verify"]["ok"] and not facts["verify"]["failures"], facts["verify"]
        assert facts["verify"]["history_rows"] == len(facts["history"])

    # … and the two runs did exactly the same.
    diff = _diff(facts_one, facts_two)
    events = sum(row["count"] for row in facts_two["events"])
    line = (f"nodes: {CANDIDATES} candidates, {len(one.log)} requests per run; two nodes behind nginx: "
            f"a {served.count('a')} / b {served.count('b')}, a candidate's consecutive requests on "
            f"different nodes {hops}/{pairs}; identical outcomes: {'yes' if diff is None else 'NO'} "
            f"({len(facts_two['responses'])} responses, {len(facts_two['attempts'])} attempts, "
            f"{events} process-record events in {facts_two['chains'][0]['scopes']} chains, all verified); "
            f"script {t_one:.1f} s on one node, {t_two:.1f} s on two; setup {setup_one:.1f} + {setup_two:.1f} s")
    nodes_report(line)
    assert diff is None, f"one node and two nodes differ at {diff}"
