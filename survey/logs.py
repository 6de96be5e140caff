"""Logging that cannot betray a respondent.

Access logs carry no client address anywhere, and no line at all for the routes an officer's
device requests (the join page, the survey, the privacy notice, static files): even a line without
an address gets a time stamp from whatever collects it, and the time an officer submitted is
exactly what must not be kept.
"""
from __future__ import annotations

import logging
import re

from flask import Flask

RESPONDENT_PREFIXES = ("/s/", "/join", "/privacy", "/results/", "/static/", "/favicon")
_REQUEST_LINE = re.compile(r"^[A-Z]+ (\S+)")


def is_respondent_path(path: str) -> bool:
    return path == "/" or path.startswith(RESPONDENT_PREFIXES)


class RespondentFilter(logging.Filter):
    """For the development server's `werkzeug` logger: drop respondent lines, strip addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            match = _REQUEST_LINE.match(record.args[0])
            if match and is_respondent_path(match.group(1)):
                return False
        if isinstance(record.msg, str) and " - - [" in record.msg:
            record.msg = "- - - [" + record.msg.split(" - - [", 1)[1]
        return True


def init_app(app: Flask) -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RespondentFilter) for f in logger.filters):
        logger.addFilter(RespondentFilter())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is not used on every platform (e.g. Windows development)
    _GunicornLogger = None

if _GunicornLogger is not None:
    class GunicornLogger(_GunicornLogger):
        """Gunicorn's logger, writing no access line for respondent routes."""

        def access(self, resp, req, environ, request_time):
            if is_respondent_path(environ.get("PATH_INFO", "")):
                return
            super().access(resp, req, environ, request_time)
