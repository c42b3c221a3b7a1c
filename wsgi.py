"""WSGI entry point: `gunicorn wsgi:app`. The worker's collector is tuned for serving
(examsys.heap says why)."""

from examsys import create_app, heap

app = create_app()
heap.install(app)
