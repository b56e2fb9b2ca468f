"""WSGI entry point: `gunicorn engine.wsgi:app`."""

from engine import create_app

app = create_app()
