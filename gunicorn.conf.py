"""Gunicorn settings. Logs are JSON lines with no client address, and none for respondent routes.

Production (SURVEY_ENV unset or ``production``) refuses to start, in one line and with exit
status 1, with settings that are unsafe or that several workers cannot share: see
`survey.config.production_problems`.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "sync"
timeout = 30
logger_class = "survey.logs.GunicornLogger"  # writes its own JSON access lines
accesslog = "-"
errorlog = "-"
# Forwarded headers (X-Forwarded-Proto) are trusted only from the reverse proxy: this host by
# default. The app hashes the client address for rate limits (see TRUSTED_PROXIES); it is never
# stored or logged.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No run-time control socket: it could change the worker count checked below, and every gunicorn
# on a host would share its one default path.
control_socket_disable = True


def on_starting(server):
    """Before binding or forking: refuse production settings that would be unsafe, or that
    `workers` processes cannot share (SQLite, rate limits in memory). Gunicorn prints the
    one-line reason after "Error:" and exits with status 1."""
    from survey import config

    config.check_production(config.environment_settings(), workers=server.cfg.workers)
