"""WSGI entry point: `gunicorn --config gunicorn.conf.py wsgi:app`, after `flask db upgrade`."""
from survey import create_app

app = create_app()
