"""Real servers for tests: gunicorn on a free port of 127.0.0.1, and a minimal browser."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from survey.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
SECRET = "load-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, port: int, workers: int = 4, log=None, *, app: str = "wsgi:app",
             backlog: int = 256, **environment):
    """Gunicorn serving `app` as deployed (gunicorn.conf.py); `log` receives its output.

    It runs as development (plain http, test secrets, SQLite behind several workers) unless
    `environment` says ``SURVEY_ENV="production"`` with settings production accepts."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
           "LINKAGE_SECRET": "test-linkage-secret", "SESSION_COOKIE_SECURE": "0",
           "SURVEY_ENV": "development", "WEB_CONCURRENCY": str(workers), **environment}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--backlog", str(backlog), app], cwd=ROOT, env=env,
        stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True)
    try:
        for _ in range(400):
            try:
                Browser(port).request("GET", "/auth/login")
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start")
        yield process
    finally:
        stop(process)


@contextmanager
def job_worker(database_url: str, **environment):
    """The job worker as deployed (`flask jobs worker`), on the queue in REDIS_URL."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
           "LINKAGE_SECRET": "test-linkage-secret", "SESSION_COOKIE_SECURE": "0",
           "SURVEY_ENV": "development", "FLASK_APP": "wsgi", "JOBS_BACKEND": "rq",
           **environment}
    process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def stop(process, sig=signal.SIGTERM):
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)


class Browser:
    """Just enough of a browser: one connection per request, every cookie kept (the session
    and, once signed in, the sign-in limit's device cookie)."""

    def __init__(self, port):
        self.port, self.cookies, self.token = port, {}, ""

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            text = reply.read().decode()
            for header, value in reply.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.split(";", 1)[0].partition("=")
                    self.cookies[name.strip()] = rest
            found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
            if found:
                self.token = found.group(1)
            return reply.status, reply.getheader("Location") or "", text
        finally:
            conn.close()

    def ready(self, code):
        """Open the survey and skip the code step, as an officer does before pressing Send."""
        self.request("GET", f"/s/{code}/code")
        self.request("POST", f"/s/{code}/code", {"csrf_token": self.token, "skip": "1"})
        self.request("GET", f"/s/{code}/questions")
        return self

    def send(self, code, answers):
        return self.request("POST", f"/s/{code}/questions", {"csrf_token": self.token,
                                                             **answers})


#: Settings production accepts (with PostgreSQL and Redis given by the caller for several
#: workers): long secrets, HTTPS-only cookies. The test Browser sends cookies over plain http.
PRODUCTION = {"SURVEY_ENV": "production",
              "SECRET_KEY": "production-test-secret-key-0123456789abcdef",
              "LINKAGE_SECRET": "production-test-linkage-secret-0123456789",
              "SESSION_COOKIE_SECURE": "1"}


#: The environment variables the app and gunicorn.conf.py read.
SETTINGS = {*ENVIRONMENT, "SESSION_COOKIE_SECURE", "WEB_CONCURRENCY", "FLASK_DEBUG"}


def gunicorn_exit(environment: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Start gunicorn as deployed with only `environment` for settings, and wait for it to
    exit: for settings it must refuse."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=timeout)


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that can cut every connection and refuse new ones, as a
    database server that goes away does, and come back on the same port."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Close the listening socket and every live connection."""
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            live, self._sockets = self._sockets, []
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self) -> None:
        self.start()
