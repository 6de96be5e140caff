"""Logging that cannot betray a respondent, one JSON object per line.

Access logs carry no client address and no user agent anywhere, and no line at all for the
routes an officer's device requests (the join page, the survey, the privacy notice, static
files): even a line without an address gets a time stamp from whatever collects it, and the time
an officer submitted is exactly what must not be kept.

Under gunicorn (``logger_class = "survey.logs.GunicornLogger"``) every line, gunicorn's own, its
access lines for staff routes and the app's, is a JSON object with ``time`` (UTC), ``level``,
``logger`` and ``message``; access lines add ``method``, ``path``, ``route`` (the URL rule, when
one matched), ``status`` and ``duration_ms``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

from flask import Flask, has_request_context, request

RESPONDENT_PREFIXES = ("/s/", "/join", "/privacy", "/results/", "/static/", "/favicon")
_REQUEST_LINE = re.compile(r"^[A-Z]+ (\S+)")
#: gunicorn names the client of a malformed request ("Invalid request from ip=...: ...").
_CLIENT_ADDRESS = re.compile(r"\bip=\S*?:(?=\s|$)|\bip=\S+")
#: Where the app leaves the matched URL rule for the access line.
ROUTE_KEY = "survey.route"


#: Paths whose last part is a secret (a one-time password link): logged without it.
SECRET_PATHS = ("/auth/welcome/",)


def is_respondent_path(path: str) -> bool:
    return path == "/" or path.startswith(RESPONDENT_PREFIXES)


_SECRET_IN_TEXT = re.compile("(" + "|".join(map(re.escape, SECRET_PATHS)) + r")[^\s\]\"']+")


def loggable_path(path: str) -> str:
    """The path as a log may keep it: a one-time link's token becomes "-"."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "-"
    return path


class SecretPathFilter(logging.Filter):
    """For the app's own logger: "Exception on /auth/welcome/<token>" loses the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + "-", record.msg)
        return True


class RespondentFilter(logging.Filter):
    """For the development server's `werkzeug` logger: drop respondent lines, strip addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            match = _REQUEST_LINE.match(record.args[0])
            if match and is_respondent_path(match.group(1)):
                return False
            if match:
                record.args = (record.args[0].replace(match.group(1),
                                                      loggable_path(match.group(1))),
                               *record.args[1:])
        if isinstance(record.msg, str) and " - - [" in record.msg:
            record.msg = "- - - [" + record.msg.split(" - - [", 1)[1]
        return True


class AddressFilter(logging.Filter):
    """For gunicorn's error log: a malformed request's line loses the client's address, and an
    error escaping the app on a respondent route loses the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "ip=" in record.msg:
            record.msg = _CLIENT_ADDRESS.sub(
                lambda m: "ip=-:" if m.group().endswith(":") else "ip=-", record.msg)
        if isinstance(record.args, tuple) and str(record.msg).startswith("Error handling"):
            record.args = tuple("-" if isinstance(a, str) and is_respondent_path(a) else a
                                for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def use_json_logs(stream=None) -> None:
    """Every logger without a handler of its own (the app's, the libraries') writes JSON lines
    to `stream` (standard error); the app's own lines from INFO up."""
    root = logging.getLogger()
    if not any(getattr(h, "_survey", False) for h in root.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._survey = True
        root.addHandler(handler)
    logging.getLogger("survey").setLevel(logging.INFO)


def _remember_route() -> None:
    if request.url_rule is not None:
        request.environ[ROUTE_KEY] = request.url_rule.rule


class RespondentRequestFilter(logging.Filter):
    """For libraries that log about a request (Flask-WTF's "The CSRF token is missing."): no
    line at all while serving a respondent's page."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (has_request_context() and is_respondent_path(request.path))


def init_app(app: Flask) -> None:
    csrf_logger = logging.getLogger("flask_wtf.csrf")
    if not any(isinstance(f, RespondentRequestFilter) for f in csrf_logger.filters):
        csrf_logger.addFilter(RespondentRequestFilter())
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RespondentFilter) for f in logger.filters):
        logger.addFilter(RespondentFilter())
    if not any(isinstance(f, SecretPathFilter) for f in app.logger.filters):
        app.logger.addFilter(SecretPathFilter())
    app.before_request(_remember_route)


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is not used on every platform (e.g. Windows development)
    _GunicornLogger = None

if _GunicornLogger is not None:
    class GunicornLogger(_GunicornLogger):
        """Gunicorn's logger: JSON lines, no client address, no access line for respondents."""

        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())
            if not any(isinstance(f, AddressFilter) for f in self.error_log.filters):
                self.error_log.addFilter(AddressFilter())
            use_json_logs()  # the app's lines, in the workers this master forks

        def access(self, resp, req, environ, request_time):
            path = environ.get("PATH_INFO", "")
            if not self.access_log_enabled or is_respondent_path(path):
                return
            path = loggable_path(path)
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            method = environ.get("REQUEST_METHOD", "-")
            status = int(status) if str(status).isdigit() else status
            fields = {"method": method, "path": path, "status": status,
                      "duration_ms": round(request_time.total_seconds() * 1000, 1)}
            if environ.get(ROUTE_KEY):
                fields["route"] = environ[ROUTE_KEY]
            self.access_log.info("%s %s %s", method, path, status, extra={"fields": fields})
