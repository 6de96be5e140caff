"""The production app plus one bare route, for benchmarks only (never deployed).

`/bench/bare` returns two bytes through the same app, hooks and gunicorn workers as every real
page: the ceiling the real routes are compared against in the same run.
"""
from survey import create_app

app = create_app()


@app.get("/bench/bare")
def bench_bare():
    return "ok"
