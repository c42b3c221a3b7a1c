"""examsys.serving.FreeThreadWorker: a worker whose threads are all busy leaves new connections to
the others (stock gthread accepts them and queues them behind its busy threads)."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from examsys.serving import WORKER_CLASS
from tests.faults.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
SLOW_SECONDS = 3.0

APP = f'''
import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep({SLOW_SECONDS})
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


def _get(port: int, path: str) -> float:
    """Seconds a GET on a new connection took (the status must be 200)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    finally:
        conn.close()
    return time.monotonic() - t0


def _serve(tmp_path: Path, worker_class: str):
    (tmp_path / "slowapp.py").write_text(APP, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([str(GUNICORN), "-w", "2", "--threads", "1", "-k", worker_class,
                             "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path), "--pythonpath", str(ROOT),
                             "slowapp:app"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(port, "/fast")
            return port, proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"gunicorn -k {worker_class} did not start")
            time.sleep(0.2)


def _fast_while_one_worker_is_busy(tmp_path: Path, worker_class: str) -> list[float]:
    """Two workers of one thread each; one is held by a slow request; eight quick requests, each on
    a new connection, are sent one after another meanwhile. Their durations."""
    port, proc = _serve(tmp_path, worker_class)
    try:
        slow = threading.Thread(target=_get, args=(port, "/slow"))
        slow.start()
        time.sleep(0.5)  # the slow request is running in one of the two workers
        took = [_get(port, "/fast") for _ in range(8)]
        slow.join()
        return took
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_busy_worker_leaves_new_connections_to_a_free_one(tmp_path):
    took = _fast_while_one_worker_is_busy(tmp_path, WORKER_CLASS)
    assert max(took) < 1.0, f"a quick request waited behind the slow one: {took}"


def test_stock_gthread_queues_behind_a_busy_worker(tmp_path):
    """What the class is for: with stock gthread the busy worker still accepts (and queues) some
    of the quick requests. Eight requests all landing on the free worker by chance: 1 in 256."""
    took = _fast_while_one_worker_is_busy(tmp_path, "gthread")
    assert max(took) > SLOW_SECONDS / 2, f"no quick request waited: {took}"
