"""The production app plus one bare route, for benchmarks only (never deployed).

`/bench/bare` returns two bytes through the same app, hooks and gunicorn workers as every real
page: the ceiling the real routes are compared against in the same run. Every reply also says
how much CPU time the worker spent on it (`X-Bench-CPU-ms`, up to the moment the headers are
sent, which for Flask is after the view has run): unlike wall time, it hardly moves when other
programs share the cores.
"""
import time

from survey import create_app

app = create_app()


@app.get("/bench/bare")
def bench_bare():
    return "ok"


class WorkerCPU:
    """WSGI middleware: the worker's CPU time for the request, in a response header."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        began = time.process_time()

        def start(status, headers, exc_info=None):
            spent = (time.process_time() - began) * 1000
            return start_response(status, [*headers, ("X-Bench-CPU-ms", f"{spent:.2f}")],
                                  exc_info)
        return self.wsgi_app(environ, start)


app.wsgi_app = WorkerCPU(app.wsgi_app)
