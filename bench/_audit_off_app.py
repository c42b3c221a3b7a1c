"""bench/audit.py's baseline: the app exactly as shipped except that an acknowledged save writes
neither its answer-history row nor its link in the attempt's chain (`history.saved` does
nothing). Bench only: never serve this."""

from examsys.audit import chain, history
from wsgi import app


def _off(conn, **_kwargs):
    return 0, chain.GENESIS


history.saved = _off

__all__ = ["app"]
