"""WSGI entry point: `gunicorn wsgi:app`."""

from examsys import create_app

app = create_app()
