"""The app's speed, measured: on SQLite and on PostgreSQL, each figure beside a baseline measured
in the same run.

    .venv/bin/python benchmarks/speed.py [--database postgresql+psycopg://...] [--quick]

PostgreSQL runs when a URL is given or BENCH_DATABASE_URL / TEST_DATABASE_URL is set: that
database is EMPTIED. SQLite runs in a temporary folder. Per engine, against real gunicorn on
127.0.0.1 with the deployed settings (gunicorn.conf.py, 4 sync workers) serving
benchmarks/bench_wsgi.py (the real app plus a bare route, `/bench/bare`):

1. Throughput: requests per second and p50/p99 latency of submitting the full training survey
   (each officer walked the real path first: join page and form, notice, personal code, the
   questions page; the measured request is the questions POST, one new answer each), beside the
   bare route on the same server, both driven by the same load client, wrk (Debian's package,
   installed when missing and possible) or, failing that, a Python client. The client's own CPU
   time is printed: on 2 shared cores it competes with the server.
2. The 500-officer burst of benchmarks/burst.py (target p99 < 300 ms, none lost).
3. The cohort report and the leadership dashboard pages (median of sequential requests) with the
   demo agency's data, then again with ten times as much data from other agencies in the same
   database: the ratio should stay near 1.
4. The size of the officer's questions page, the cohort report and the dashboard with everything
   they load (HTML, CSS, JavaScript, images), as sent and gzip-compressed.

Progress is printed per step; a table of every figure comes at the end. No test asserts on these
times: they are figures for people to read.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

# The project first: benchmarks/analysis.py must not stand in for the analysis package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from benchmarks import burst  # noqa: E402
from benchmarks.harness import (Browser, answers, database_urls, gunicorn, median,  # noqa: E402
                     migrated_database, officer_at_questions, open_training_wave, percentile,
                     say, stored_answers)
from survey.extensions import db  # noqa: E402
from survey.models import Agency, Answer, Cohort, Response  # noqa: E402

HERE = Path(__file__).resolve().parent
LUA = HERE / "requests.lua"
CORES = os.cpu_count() or 1
OTHER_AGENCIES = 10


# --- The load client --------------------------------------------------------------------------

def ensure_wrk() -> str | None:
    """wrk from Debian, installed when missing and we are root with apt-get (as
    scripts/ensure-chromium does for Chromium); None, said loudly, when it cannot be had."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk not found: installing Debian's wrk package for the load client")
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                       "apt-get install -y -qq wrk", shell=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        say("#" * 78)
        say("# WRK NOT FOUND: both routes are driven by the Python load client instead, which  #")
        say("# costs more CPU on the same cores. Install it with: apt-get install -y wrk      #")
        say("#" * 78)
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(wrk, port, lines, seconds, expected, connections):
    """Drives the prepared requests `lines` (path, cookie, body) with wrk; returns its figures
    and the CPU seconds wrk itself used."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
        for path, cookie, body in lines:
            file.write(f"{path}\t{cookie}\t{body}\n")
    try:
        before = children_cpu()
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
             f"http://127.0.0.1:{port}", "--", file.name, "1", str(expected)],
            capture_output=True, text=True, check=True).stdout
        cpu = children_cpu() - before
    finally:
        os.unlink(file.name)
    figures = json.loads(next(line for line in out.splitlines() if line.startswith("WRK "))[4:])
    figures["rps"] = figures["requests"] / figures["duration_s"]
    figures["client_cpu"] = cpu
    return figures


def run_python(port, lines, seconds, expected, connections):
    """The same measurement with Python threads (http.client, one connection per request)."""
    lock, position = threading.Lock(), [0]
    latencies, problems, wrapped = [], [0], [0]
    deadline = time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < deadline:
            with lock:
                i = position[0]
                position[0] += 1
                if i >= len(lines):
                    wrapped[0] += 1
            path, cookie, body = lines[i % len(lines)]
            headers = {"Cookie": cookie} if cookie else {}
            if body:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST" if body else "GET", path, body=body or None, headers=headers)
                reply = conn.getresponse()
                reply.read()
                conn.close()
                ok = reply.status == expected
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                latencies.append(time.perf_counter() - began)
                problems[0] += not ok
    cpu, start = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"requests": len(latencies), "duration_s": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "errors": 0, "timeouts": 0,
            "unexpected": problems[0], "wrapped": wrapped[0],
            "client_cpu": time.process_time() - cpu}


def load(client, port, lines, seconds, expected, connections=8):
    if client:
        return run_wrk(client, port, lines, seconds, expected, connections)
    return run_python(port, lines, seconds, expected, connections)


def prepare_officers(port, code, count, start=0):
    """`count` officers with the questions page open, walked through the real path in parallel;
    returns their questions POSTs as (path, cookie, body)."""
    def one(n):
        officer = officer_at_questions(port, code, n)
        body = urlencode({"csrf_token": officer.token, **answers(n)})
        return (f"/s/{code}/questions", officer.cookie, body)
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(start, start + count)))


def throughput(app, port, code, client, seconds, rounds=3):
    """Bare route and survey submit, same client, same server, same run: `rounds` runs of each,
    alternating, so that load from others on shared cores falls on both; medians are kept."""
    name = "wrk" if client else "Python client"
    bare_line = [("/bench/bare", "", "")]
    load(client, port, bare_line, 2, 200)  # warm up every worker
    say("  a short pilot to size the submit runs (300 officers)")
    started = time.perf_counter()
    pilot_lines = prepare_officers(port, code, 300)
    prep_rate = len(pilot_lines) / (time.perf_counter() - started)
    pilot = load(client, port, pilot_lines, 2, 302)
    per_round = int(pilot["rps"] * seconds * 1.5) + 100
    say(f"    pilot {pilot['rps']:.0f} submits/s; preparing {per_round * rounds} officers "
        f"(about {per_round * rounds / prep_rate:.0f} s: join page and form, notice, code page "
        "and form, questions page each)")
    lines = prepare_officers(port, code, per_round * rounds, start=1000)
    bares, submits = [], []
    for r in range(rounds):
        say(f"  round {r + 1} of {rounds}: bare route, {seconds} s with {name}")
        bare = load(client, port, bare_line, seconds, 200)
        say(f"    {bare['rps']:.0f} req/s, p50 {bare['p50_ms']:.1f} ms, "
            f"p99 {bare['p99_ms']:.1f} ms")
        say(f"  round {r + 1} of {rounds}: survey submit, {seconds} s with {name}")
        before = stored_answers(app, code)
        submit = load(client, port, lines[r * per_round:(r + 1) * per_round], seconds, 302)
        time.sleep(1)  # requests left in flight at the client's deadline still finish
        submit["stored"] = stored_answers(app, code) - before
        submit["lost"] = max(0, submit["requests"] - submit["unexpected"] - submit["stored"])
        say(f"    {submit['rps']:.0f} req/s, p50 {submit['p50_ms']:.1f} ms, p99 "
            f"{submit['p99_ms']:.1f} ms; {submit['stored']} answers stored, "
            f"{submit['unexpected']} unexpected replies, {submit['lost']} lost"
            + (f"; RAN OUT of prepared officers {submit['wrapped']} times" if submit["wrapped"]
               else ""))
        bares.append(bare)
        submits.append(submit)
    return combine(bares), combine(submits)


def combine(runs) -> dict:
    """Medians of the rounds' rates and latencies; sums of their counts."""
    out = {key: median([r[key] for r in runs]) for key in ("rps", "p50_ms", "p99_ms")}
    for key in ("requests", "errors", "timeouts", "unexpected", "wrapped", "client_cpu",
                "duration_s", "stored", "lost"):
        if key in runs[0]:
            out[key] = sum(r[key] for r in runs)
    out["rounds"] = [round(r["rps"]) for r in runs]
    return out


# --- Pages ------------------------------------------------------------------------------------

def sign_in(port, email, password) -> Browser:
    staff = Browser(port)
    staff.request("GET", "/auth/login")
    status, _, _ = staff.request("POST", "/auth/login", {"csrf_token": staff.token,
                                                         "email": email, "password": password})
    assert status == 302, f"sign-in as {email} failed ({status})"
    return staff


def page_time(browser, path, runs=15, warm=8):
    """Median wall time (ms) of sequential GETs after a warm-up that reaches every worker."""
    times = []
    for n in range(warm + runs):
        began = time.perf_counter()
        status, _, _ = browser.request("GET", path)
        if n >= warm:
            times.append((time.perf_counter() - began) * 1000)
        assert status == 200, (path, status)
    return median(times)


def page_times(port, paths, password):
    staff = sign_in(port, "admin@demo.example.org", password)
    bare = page_time(staff, "/bench/bare", runs=30)
    report = page_time(staff, paths["report"])
    dashboard = page_time(staff, paths["dashboard"])
    say(f"    bare route {bare:.1f} ms, cohort report {report:.1f} ms, dashboard "
        f"{dashboard:.1f} ms")
    return {"bare": bare, "report": report, "dashboard": dashboard}


ASSET = re.compile(r'<(?:link[^>]*rel="(?:stylesheet|icon)"[^>]*href|script[^>]*src|img[^>]*src)'
                   r'="([^"]+)"')


def page_weight(browser, path) -> dict:
    """Bytes of the page and of every file it loads (stylesheet, scripts, images)."""
    status, _, html = browser.request("GET", path)
    assert status == 200, (path, status)
    parts = {"html": html.encode()}
    for url in dict.fromkeys(ASSET.findall(html)):
        if url.startswith("data:"):
            continue
        conn = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=30)
        conn.request("GET", url.replace("&amp;", "&"))
        reply = conn.getresponse()
        parts[url] = reply.read()
        conn.close()
        assert reply.status == 200, (url, reply.status)
    raw = sum(len(b) for b in parts.values())
    return {"files": len(parts), "html": len(parts["html"]), "total": raw,
            "gzip": sum(len(gzip.compress(b, 6)) for b in parts.values())}


def page_weights(port, code, paths, password):
    officer = officer_at_questions(port, code, 99_999)
    staff = sign_in(port, "admin@demo.example.org", password)
    weights = {"questions": page_weight(officer, f"/s/{code}/questions"),
               "report": page_weight(staff, paths["report"]),
               "dashboard": page_weight(staff, paths["dashboard"])}
    for name, w in weights.items():
        say(f"    {name}: {w['files']} files, {w['total'] / 1024:.0f} KB "
            f"({w['gzip'] / 1024:.0f} KB gzipped), HTML {w['html'] / 1024:.0f} KB")
    return weights


# --- Data -------------------------------------------------------------------------------------

def row_counts(app) -> tuple[int, int, int]:
    with app.app_context():
        counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                       for m in (Agency, Response, Answer))
        db.session.remove()
    return counts


def load_demo(app):
    from survey import demo
    with app.app_context():
        agency = demo.load()
        cohort = db.session.scalar(sa.select(Cohort.id).where(
            Cohort.agency_id == agency.id, Cohort.name == demo.COHORTS[0].name))
        db.session.remove()
    return {"report": f"/trainer/cohorts/{cohort}/report", "dashboard": "/leadership/"}, \
        demo.PASSWORD


def load_other_agencies(app, count):
    """`count` more agencies, each as large as the demo agency (cohorts and three years of
    pulses), with their own names and staff."""
    from survey import demo
    saved = demo.AGENCY, demo.USERS
    try:
        for i in range(1, count + 1):
            demo.AGENCY = f"Other Police Department {i} (benchmark)"
            demo.USERS = [(email.replace("@demo.", f"@other{i}."), name, role)
                          for email, name, role in saved[1]]
            with app.app_context():
                demo.load(rng_seed=1000 + i)
                db.session.remove()
            say(f"    agency {i} of {count} loaded")
    finally:
        demo.AGENCY, demo.USERS = saved


# --- The run ----------------------------------------------------------------------------------

def run_engine(engine, url, client, args):
    shown = url.split("@")[-1] if "@" in url else "a temporary file"
    say(f"\n=== {engine} ({shown}) ===")
    result = {}
    say("- the 500-officer burst (benchmarks/burst.py)")
    result["burst"] = burst.run(url, args.officers)

    with migrated_database(url) as app:
        say("- loading the demo agency (realistic data: 3 classes, 3 years of pulses)")
        paths, password = load_demo(app)
        code = open_training_wave(app)
        result["rows"] = row_counts(app)
        say(f"    {result['rows'][1]} answer sheets, {result['rows'][2]} answers")
        with gunicorn(url) as port:
            say("- throughput")
            result["bare"], result["submit"] = throughput(app, port, code, client, args.seconds,
                                                         args.rounds)
            say("- page times with the demo agency's data")
            result["pages"] = page_times(port, paths, password)
            say("- page weights")
            result["weights"] = page_weights(port, code, paths, password)
            say(f"- loading {OTHER_AGENCIES} other agencies of the same size")
            load_other_agencies(app, OTHER_AGENCIES)
            result["rows_10x"] = row_counts(app)
            say(f"    {result['rows_10x'][0]} agencies, {result['rows_10x'][1]} answer sheets, "
                f"{result['rows_10x'][2]} answers")
            say("- page times with 10x data from other agencies")
            result["pages_10x"] = page_times(port, paths, password)
    return result


def table(results, client):
    rows = []

    def row(figure, *values):
        rows.append((figure, *values))
    engines = list(results)
    row("figure", *engines, "target")
    row("---", *["---"] * len(engines), "---")
    get = {e: results[e] for e in engines}
    row("submit survey: req/s (wrk)" if client else "submit survey: req/s (Python client)",
        *[f"{get[e]['submit']['rps']:.0f} (rounds {rates(get[e]['submit'])})" for e in engines],
        "")
    row("  p50 / p99 latency", *[f"{get[e]['submit']['p50_ms']:.0f} / "
                                 f"{get[e]['submit']['p99_ms']:.0f} ms" for e in engines], "")
    row("  stored / lost / unexpected replies",
        *[f"{get[e]['submit']['stored']} / {get[e]['submit']['lost']} / "
          f"{get[e]['submit']['unexpected']}" for e in engines], "0 lost")
    row("bare route, same server: req/s",
        *[f"{get[e]['bare']['rps']:.0f} (rounds {rates(get[e]['bare'])})" for e in engines], "")
    row("  p50 / p99 latency", *[f"{get[e]['bare']['p50_ms']:.1f} / "
                                 f"{get[e]['bare']['p99_ms']:.1f} ms" for e in engines], "")
    row("ratio submit / bare (req/s)",
        *[f"{get[e]['submit']['rps'] / get[e]['bare']['rps']:.2f}" for e in engines], ">= 0.5")
    row("load client CPU (bare; submit), share of 2 cores",
        *[f"{share(get[e]['bare'])}; {share(get[e]['submit'])}" for e in engines], "")
    row("500-officer burst: submit p50 / p99",
        *[f"{get[e]['burst']['p50']:.0f} / {get[e]['burst']['p99']:.0f} ms" for e in engines],
        "p99 < 300 ms")
    row("  bare route, same burst: p50 / p99",
        *[f"{get[e]['burst']['bare_p50']:.0f} / {get[e]['burst']['bare_p99']:.0f} ms"
          for e in engines], "")
    row("  stored / lost / 5xx or refused",
        *[f"{get[e]['burst']['stored']} / {get[e]['burst']['lost']} / "
          f"{get[e]['burst']['errors']}" for e in engines], "0 lost")
    for key, label in (("report", "cohort report page"), ("dashboard", "leadership dashboard")):
        row(f"{label}: median", *[f"{get[e]['pages'][key]:.0f} ms" for e in engines], "")
        row("  with 10x data from other agencies",
            *[f"{get[e]['pages_10x'][key]:.0f} ms "
              f"({get[e]['pages_10x'][key] / get[e]['pages'][key]:.2f}x)" for e in engines],
            "~1.0x")
    row("bare route, sequential: median",
        *[f"{get[e]['pages']['bare']:.1f} ms; 10x data {get[e]['pages_10x']['bare']:.1f} ms"
          for e in engines], "")
    for key, label in (("questions", "officer questions page"), ("report", "cohort report"),
                       ("dashboard", "leadership dashboard")):
        row(f"weight: {label}",
            *[f"{get[e]['weights'][key]['total'] / 1024:.0f} KB in "
              f"{get[e]['weights'][key]['files']} files "
              f"({get[e]['weights'][key]['gzip'] / 1024:.0f} KB gzipped)" for e in engines], "")
    row("data: agencies / answer sheets / answers",
        *[f"{get[e]['rows'][0]} / {get[e]['rows'][1]} / {get[e]['rows'][2]}; 10x: "
          f"{get[e]['rows_10x'][0]} / {get[e]['rows_10x'][1]} / {get[e]['rows_10x'][2]}"
          for e in engines], "")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = ["-" * widths[i] if c == "---" else str(c).ljust(widths[i])
                 for i, c in enumerate(r)]
        print("| " + " | ".join(cells) + " |")


def rates(figures) -> str:
    return ", ".join(str(r) for r in figures["rounds"])


def share(figures) -> str:
    return f"{figures['client_cpu'] / (figures['duration_s'] * CORES):.0%}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="PostgreSQL URL (emptied); default: "
                        "BENCH_DATABASE_URL or TEST_DATABASE_URL when set")
    parser.add_argument("--seconds", type=int, default=5, help="length of each load run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each route")
    parser.add_argument("--officers", type=int, default=500, help="officers in the burst")
    args = parser.parse_args()
    client = ensure_wrk()
    say(f"{CORES} cores; load client: {client or 'Python threads (http.client)'}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine, url in database_urls(args.database, Path(tmp)):
            results[engine] = run_engine(engine, url, client, args)
    say("")
    say(f"Command: .venv/bin/python benchmarks/speed.py (gunicorn, 4 sync workers, "
        f"{CORES} cores shared by server and client)")
    table(results, client)


if __name__ == "__main__":
    main()
