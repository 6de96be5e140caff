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
   installed when missing and possible) or, failing that, a Python client. Three alternating
   rounds of each; medians. The client's own CPU time is printed: it shares the cores.
2. The 500-officer burst of benchmarks/burst.py (target p99 < 300 ms, none lost).
3. The cohort report and the leadership dashboard pages with the demo agency's data (database A)
   beside the same pages of the same agency in database B, which also holds ten other agencies
   as large: two servers, requests alternating between them, so that other programs on the
   shared cores slow both alike. Median and best wall time, and the worker's CPU time (all its
   threads, so it can exceed the wall time) from bench_wsgi's header. The ratio B / A should
   stay near 1: a page must not grow slower with other agencies' data.
4. The size of the officer's questions page, the cohort report and the dashboard with everything
   they load (HTML, CSS, JavaScript, images), as sent and gzip-compressed.

`--quick` is a smoke run (short, 50 officers, 2 other agencies): not figures to quote.
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
from benchmarks.harness import (Browser, answers, database_urls, gunicorn,  # noqa: E402
                                median, migrated_database, officer_at_questions,
                                open_training_wave, percentile, say, stored_answers)
from survey.extensions import db  # noqa: E402
from survey.models import Agency, Answer, Cohort, Response  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LUA = HERE / "requests.lua"
CORES = os.cpu_count() or 1


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
    alternating, so that load from others on shared cores falls on both; medians are kept.

    Each submit is a new officer's answers, prepared beforehand. A run that uses up its prepared
    officers would go on to send repeats (cheap: already stored), so it is discarded and run
    again with twice as many."""
    name = "wrk" if client else "Python client"
    bare_line = [("/bench/bare", "", "")]
    load(client, port, bare_line, 2, 200)  # warm up every worker
    say("  a short pilot to size the submit runs (300 officers)")
    pilot = load(client, port, prepare_officers(port, code, 300), 2, 302)
    per_round = int(pilot["rps"] * seconds * 2) + 100
    say(f"    pilot {pilot['rps']:.0f} submits/s")
    bares, submits, first = [], [], 1000
    for r in range(rounds):
        say(f"  round {r + 1} of {rounds}: bare route, {seconds} s with {name}")
        bare = load(client, port, bare_line, seconds, 200)
        say(f"    {bare['rps']:.0f} req/s, p50 {bare['p50_ms']:.1f} ms, "
            f"p99 {bare['p99_ms']:.1f} ms")
        while True:
            say(f"  round {r + 1} of {rounds}: preparing {per_round} officers (join page and "
                "form, notice, code page and form, questions page each)")
            lines = prepare_officers(port, code, per_round, start=first)
            first += per_round
            say(f"  round {r + 1} of {rounds}: survey submit, {seconds} s with {name}")
            before = stored_answers(app, code)
            submit = load(client, port, lines, seconds, 302)
            time.sleep(1)  # requests left in flight at the client's deadline still finish
            submit["stored"] = stored_answers(app, code) - before
            if not submit["wrapped"]:
                break
            say(f"    {submit['rps']:.0f} req/s: more than the {per_round} officers prepared; "
                "discarded, again with twice as many")
            per_round *= 2
        submit["lost"] = max(0, submit["requests"] - submit["unexpected"] - submit["stored"])
        say(f"    {submit['rps']:.0f} req/s, p50 {submit['p50_ms']:.1f} ms, p99 "
            f"{submit['p99_ms']:.1f} ms; {submit['stored']} answers stored, "
            f"{submit['unexpected']} unexpected replies, {submit['lost']} lost")
        per_round = max(per_round, int(submit["rps"] * seconds * 2) + 100)
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


def timed_get(browser, path):
    """(wall ms, worker CPU ms) of one GET; the CPU time comes from bench_wsgi's header."""
    conn = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=120)
    began = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": browser.cookie})
    reply = conn.getresponse()
    reply.read()
    wall = (time.perf_counter() - began) * 1000
    conn.close()
    assert reply.status == 200, (path, reply.status)
    return wall, float(reply.getheader("X-Bench-CPU-ms"))


def compare_pages(port_a, paths_a, port_b, paths_b, password, runs=15, warm=8):
    """Each page on both servers, requests alternating A, B, A, B..., so that other work on the
    shared cores falls on both alike. Per page and server: median wall time, best wall time and
    median CPU time of the worker (in-process work: SQLite queries count, PostgreSQL's do not)."""
    staff = {"a": sign_in(port_a, "admin@demo.example.org", password),
             "b": sign_in(port_b, "admin@demo.example.org", password)}
    paths = {"a": {"bare": "/bench/bare", **paths_a}, "b": {"bare": "/bench/bare", **paths_b}}
    result = {}
    for page in ("bare", "report", "dashboard"):
        n = runs * 2 if page == "bare" else runs
        times = {"a": [], "b": []}
        for i in range(warm + n):
            for side in ("a", "b"):
                wall, cpu = timed_get(staff[side], paths[side][page])
                if i >= warm:
                    times[side].append((wall, cpu))
        result[page] = {side: (median([w for w, _ in t]), min(w for w, _ in t),
                               median([c for _, c in t])) for side, t in times.items()}
        a, b = result[page]["a"], result[page]["b"]
        say(f"    {page}: median {a[0]:.1f} ms (best {a[1]:.1f}, worker CPU {a[2]:.1f}) vs "
            f"{b[0]:.1f} ms (best {b[1]:.1f}, worker CPU {b[2]:.1f}) with the other agencies")
    return result


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

def sibling_url(url: str, tmp: Path) -> str:
    """A second, separate database beside `url`: another SQLite file, or another schema of the
    same PostgreSQL database (created here, dropped by `drop_sibling`)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'bench-others.db'}"
    base = sa.make_url(url)
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    engine.dispose()
    return base.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(
        hide_password=False)


def drop_sibling(url: str) -> None:
    if url.startswith("sqlite"):
        return
    engine = sa.create_engine(sa.make_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


SCHEMA = "bench_other_agencies"


def run_engine(engine, url, client, args, tmp):
    shown = url.split("@")[-1] if "@" in url else "a temporary file"
    say(f"\n=== {engine} ({shown}) ===")
    result = {}
    say(f"- the {args.officers}-officer burst (benchmarks/burst.py)")
    result["burst"] = burst.run(url, args.officers)

    with migrated_database(url) as app:
        say("- database A: the demo agency (realistic data: 3 classes, 3 years of pulses)")
        paths, password = load_demo(app)
        code = open_training_wave(app)
        result["rows"] = row_counts(app)
        say(f"    {result['rows'][1]} answer sheets, {result['rows'][2]} answers")
        with gunicorn(url) as port:
            say("- throughput (database A)")
            result["bare"], result["submit"] = throughput(app, port, code, client, args.seconds,
                                                         args.rounds)
            say("- page weights (database A)")
            result["weights"] = page_weights(port, code, paths, password)
        other_url = sibling_url(url, tmp)
        try:
            with migrated_database(other_url) as other:
                say(f"- database B: the same demo agency, then {args.others} other agencies of "
                    "the same size")
                other_paths, _ = load_demo(other)
                open_training_wave(other)
                load_other_agencies(other, args.others)
                result["rows_10x"] = row_counts(other)
                say(f"    {result['rows_10x'][0]} agencies, {result['rows_10x'][1]} answer "
                    f"sheets, {result['rows_10x'][2]} answers")
                say("- page times: database A beside database B, requests alternating")
                with gunicorn(url) as port_a, gunicorn(other_url) as port_b:
                    result["pages"] = compare_pages(port_a, paths, port_b, other_paths,
                                                    password, args.page_runs)
        finally:
            drop_sibling(url)
    return result


def table(results, client, args):
    others = args.others
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
    row(f"{args.officers}-officer burst: submit p50 / p99",
        *[f"{get[e]['burst']['p50']:.0f} / {get[e]['burst']['p99']:.0f} ms" for e in engines],
        "p99 < 300 ms")
    row("  bare route, same burst: p50 / p99",
        *[f"{get[e]['burst']['bare_p50']:.0f} / {get[e]['burst']['bare_p99']:.0f} ms"
          for e in engines], "")
    row("  stored / lost / 5xx or refused",
        *[f"{get[e]['burst']['stored']} / {get[e]['burst']['lost']} / "
          f"{get[e]['burst']['errors']}" for e in engines], "0 lost")
    for key, label in (("report", "cohort report page"), ("dashboard", "leadership dashboard")):
        row(f"{label}: median wall (best; worker CPU)",
            *[pages(get[e]["pages"][key]["a"]) for e in engines], "")
        row(f"  with {others}x data from other agencies",
            *[pages(get[e]["pages"][key]["b"]) for e in engines], "")
        row("  ratio with / without (wall; worker CPU)",
            *[f"{get[e]['pages'][key]['b'][0] / get[e]['pages'][key]['a'][0]:.2f}x; "
              f"{get[e]['pages'][key]['b'][2] / get[e]['pages'][key]['a'][2]:.2f}x"
              for e in engines], "~1.0x")
    row("bare route, sequential: median wall (best; worker CPU)",
        *[pages(get[e]["pages"]["bare"]["a"], 1) for e in engines], "")
    for key, label in (("questions", "officer questions page"), ("report", "cohort report"),
                       ("dashboard", "leadership dashboard")):
        row(f"weight: {label}",
            *[f"{get[e]['weights'][key]['total'] / 1024:.0f} KB in "
              f"{get[e]['weights'][key]['files']} files "
              f"({get[e]['weights'][key]['gzip'] / 1024:.0f} KB gzipped)" for e in engines], "")
    row("data: agencies / answer sheets / answers (with the benchmark's own agency)",
        *[f"{get[e]['rows'][0]} / {get[e]['rows'][1]} / {get[e]['rows'][2]}; {others}x: "
          f"{get[e]['rows_10x'][0]} / {get[e]['rows_10x'][1]} / {get[e]['rows_10x'][2]}"
          for e in engines], "")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = ["-" * widths[i] if c == "---" else str(c).ljust(widths[i])
                 for i, c in enumerate(r)]
        print("| " + " | ".join(cells) + " |")


def pages(figures, digits=0) -> str:
    wall, best, cpu = figures
    return f"{wall:.{digits}f} ms ({best:.{digits}f}; {cpu:.{digits}f})"


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
    parser.add_argument("--others", type=int, default=10,
                        help="other agencies as large as the demo agency, for the page times")
    parser.add_argument("--page-runs", type=int, default=15, help="timed requests per page")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: short, small, not figures to quote")
    parser.add_argument("--officers", type=int, default=500, help="officers in the burst")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.officers, args.others, args.page_runs = 2, 1, 50, 2, 3
    client = ensure_wrk()
    say(f"{CORES} cores; load client: {client or 'Python threads (http.client)'}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine, url in database_urls(args.database, Path(tmp)):
            results[engine] = run_engine(engine, url, client, args, Path(tmp))
    pg_from = next((f"{name}=..." for name in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL")
                    if os.environ.get(name)), "") if not args.database else ""
    say("")
    python = os.path.relpath(sys.executable) if sys.prefix.startswith(str(ROOT)) else "python"
    say(f"Command: {pg_from + ' ' if pg_from else ''}{python} "
        f"{' '.join(sys.argv)}")
    say(f"gunicorn with 4 sync workers; {CORES} cores shared by the server, the load client "
        f"and whatever else runs on the machine; {args.rounds} round(s) of {args.seconds} s per "
        f"route")
    table(results, client, args)


if __name__ == "__main__":
    main()
