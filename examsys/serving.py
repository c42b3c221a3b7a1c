"""The web workers' gunicorn worker class: gthread that takes a connection only when a thread is free.

    gunicorn -k examsys.serving.FreeThreadWorker --workers 4 --threads 2 wsgi:app

gunicorn's `gthread` worker accepts every connection it can (up to `--worker-connections`,
1,000 by default) and queues it for its own threads, busy or not (gunicorn issues #908, #3433).
Each worker process then keeps a queue of its own: a save that one busy worker accepted waits
behind that worker's queue while another worker idles, and a worker runs on at most one core (the
GIL). On an exam day's start storm and deadline spike, when the machine is near its capacity, that
is where the long tail of the latencies came from.

This class accepts a new connection only while fewer requests are running or queued in it than
it has threads: the rest wait in the kernel's listen queue (`--backlog`), which every worker with
a free thread takes from, oldest first, so all the workers serve one queue. Kept-alive
connections stay as gthread keeps them (in the poller, using no thread while idle); a request
arriving on one is still served by the worker that holds it.
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class FreeThreadWorker(ThreadWorker):
    """gthread, accepting only while a thread is free (the module says why)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = 0  # requests handed to the thread pool and not finished; main thread only

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.in_flight < self.cfg.threads)

    def enqueue_req(self, conn) -> None:
        self.in_flight += 1
        if self.in_flight >= self.cfg.threads:
            self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn, fs) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)


# What `gunicorn -k` takes: make run, the README, bench/ and the test harnesses name it so.
WORKER_CLASS = f"{__name__}.{FreeThreadWorker.__name__}"
