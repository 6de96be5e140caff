"""Background jobs: publishing results and computing Compare selections.

Two backends, chosen by ``JOBS_BACKEND``:

- ``rq``: a queue on the Redis the deployment already runs for rate limits (RQ: one small
  library on Redis, no broker of its own, and its burst mode drains a queue inside a test or a
  command). ``flask jobs worker`` runs the worker; a failed job is retried twice, and its reason
  is kept where administrators see it (see :mod:`survey.publishing`).
- ``inline``: the job runs at once in the process that asked, after that request's own commit
  (development and tests). It never raises into the request: a failure is recorded like a
  worker's.

A job is named by a string and plain arguments; the same job asked twice while queued runs once.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from flask import current_app

from .extensions import db

log = logging.getLogger(__name__)

#: name -> function(*args); filled by the modules that define jobs (see `job`).
REGISTRY: dict[str, Callable] = {}
QUEUE = "survey"
RETRY_INTERVALS = (10, 60)


def job(name: str):
    """Register a function as a job that `enqueue` can ask for by `name`."""
    def register(function):
        REGISTRY[name] = function
        return function
    return register


def backend(config=None) -> str:
    config = config if config is not None else current_app.config
    chosen = (config.get("JOBS_BACKEND") or "").strip().lower()
    if chosen:
        if chosen not in ("rq", "inline"):
            raise ValueError(f"JOBS_BACKEND must be 'rq' or 'inline', not {chosen!r}")
        return chosen
    return "rq" if redis_url(config) else "inline"


def redis_url(config=None) -> str | None:
    config = config if config is not None else current_app.config
    url = str(config.get("RATELIMIT_STORAGE_URI") or "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def queue():
    from redis import Redis
    from rq import Queue
    return Queue(QUEUE, connection=Redis.from_url(redis_url()),
                 default_timeout=current_app.config["JOB_TIMEOUT"])


def job_id(name: str, args: tuple) -> str:
    """The same job asked twice gets the same id (RQ allows letters, digits, _ and -)."""
    text = "-".join([name, *(("_".join(map(str, a)) if isinstance(a, (list, tuple)) else str(a))
                            for a in args)])
    if len(text) > 100:
        import hashlib
        text = f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"
    return text


def enqueue(name: str, *args, delay: dt.timedelta | None = None) -> None:
    """Ask for job `name`; with ``inline`` it runs now (and `delay` is left to the due check
    of :func:`survey.publishing.publish_due`)."""
    if name not in REGISTRY:
        raise KeyError(f"no job called {name!r}")
    if backend() == "inline":
        if delay is None:
            run_inline(name, *args)
        return
    from rq import Retry
    q = queue()
    options = dict(job_id=job_id(name, args), retry=Retry(max=len(RETRY_INTERVALS),
                                                            interval=list(RETRY_INTERVALS)),
                   failure_ttl=7 * 24 * 3600, result_ttl=3600)
    if delay is not None and delay.total_seconds() > 0:
        q.enqueue_in(delay, execute, name, *args, job_id=options["job_id"] + "-later",
                     retry=options["retry"])
        return
    existing = q.fetch_job(options["job_id"])
    if existing is not None and existing.get_status(refresh=True) in ("queued", "deferred",
                                                                       "scheduled"):
        return
    q.enqueue_call(execute, args=(name, *args), **options)


def run_inline(name: str, *args) -> bool:
    """Run a job in this process; False (and the reason logged and recorded) on failure."""
    db.session.commit()
    try:
        REGISTRY[name](*args)
        return True
    except Exception as error:  # a failed job must never fail the page that asked for it
        db.session.rollback()
        log.exception("job %s failed", job_id(name, args))
        failed(name, args, error)
        return False


#: Called with (name, args, exception) when a job fails; publishing records the reason.
FAILURE_HOOKS: list[Callable] = []


def failed(name: str, args: tuple, error: BaseException) -> None:
    for hook in FAILURE_HOOKS:
        try:
            hook(name, args, error)
        except Exception:  # recording a failure must not hide the failure itself
            db.session.rollback()
            log.exception("could not record the failure of %s", job_id(name, args))


def execute(name: str, *args) -> None:
    """What the worker runs: the job inside an application context, its failure recorded and
    raised again (so that RQ retries it)."""
    from . import create_app
    app = current_app._get_current_object() if _has_app() else create_app()
    with app.app_context():
        try:
            REGISTRY[name](*args)
        except Exception as error:
            db.session.rollback()
            failed(name, args, error)
            raise
        finally:
            db.session.remove()


def _has_app() -> bool:
    from flask import has_app_context
    return has_app_context()


def work(*, burst: bool = False) -> None:
    """Drain the queue (``burst``) or serve it until stopped, with the scheduler for delayed
    jobs (a wave's publishing at the end of its grace period). SimpleWorker runs each job in
    this process: no fork, so no database connection is shared with a child."""
    from rq import SimpleWorker
    q = queue()
    SimpleWorker([q], connection=q.connection).work(burst=burst, with_scheduler=True,
                                                    logging_level="WARNING")
