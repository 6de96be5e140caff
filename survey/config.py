"""Configuration: defaults here, overridden by the environment, then by a mapping (tests).

``SURVEY_ENV`` says where the app runs: ``production`` (the default) or ``development`` (a local
run such as ``make run``). Production refuses to start with settings that would be unsafe or
wrong once several workers or hosts serve it; each reason fits in one line.
"""
import os

import click
from flask.helpers import get_debug_flag

#: Environment variables read at start-up, with the config key each one sets.
ENVIRONMENT = {
    "SURVEY_ENV": "SURVEY_ENV",
    "SECRET_KEY": "SECRET_KEY",
    "LINKAGE_SECRET": "LINKAGE_SECRET",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "REDIS_URL": "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "JOBS_BACKEND": "JOBS_BACKEND",
    "SUBMIT_GRACE_MINUTES": "SUBMIT_GRACE_MINUTES",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_FROM": "MAIL_FROM",
}

ENVIRONMENTS = ("production", "development")
#: Secrets shorter than this are refused in production (`secrets.token_hex(32)` gives 64).
MIN_SECRET_LENGTH = 32
#: Values from examples, tutorials and this project's own development defaults: known to anyone.
PLACEHOLDER_SECRETS = frozenset({
    "development-only", "development-only-linkage", "dev", "development", "secret",
    "secret-key", "secret_key", "secretkey", "changeme", "change-me", "change_me", "changeit",
    "you-will-never-guess", "test", "testing", "default", "password", "...", "xxx",
})
_OFF, _ON = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


class ConfigError(click.ClickException, RuntimeError):
    """A setting the app must not start with; the message is one line saying why.

    The `flask` command (a click exception) and gunicorn (a RuntimeError while starting) both
    print it as one line after "Error:" and exit with status 1."""


class Config:
    """Safe defaults. The database defaults to SQLite in the instance folder (set in the factory)."""

    #: ``production`` or ``development``; only development (or a test) runs with weak settings.
    SURVEY_ENV = "production"
    SECRET_KEY = None
    #: Key for the linkage-code hashes. Must stay the same for as long as waves are to be
    #: linked; it never lives in the database.
    LINKAGE_SECRET = None
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: Absolute address officers reach, for QR codes (else the request's own host).
    PUBLIC_BASE_URL = None
    #: How many reverse proxies in front of gunicorn set X-Forwarded-For (nginx alone: 1). Rate
    #: limits tell clients apart by (a keyed hash of) the address the nearest proxy saw; with 0
    #: every client behind the proxy would share one counter.
    TRUSTED_PROXIES = 0

    MAX_CONTENT_LENGTH = 64 * 1024
    #: The survey may take a while on a phone: CSRF tokens last as long as the browser session.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_PERMANENT = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True

    #: Rate limits. With several workers or hosts, set REDIS_URL so that they share counters.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_SWALLOW_ERRORS = True  # Redis down: serve officers without limits, never fail
    RATELIMIT_HEADERS_ENABLED = False
    #: Failed sign-ins (survey/lockout.py): from a browser the account has signed in from
    #: before, per browser; from any other, per address (all accounts) and per account (all
    #: addresses). Then failed join codes (typed or in a link) per client.
    LOGIN_DEVICE_LIMIT = "10 per minute;50 per day"
    LOGIN_LIMIT = "10 per minute;100 per day"
    LOGIN_ACCOUNT_LIMIT = "20 per hour;50 per day"
    JOIN_LIMIT = "20 per minute;200 per day"

    #: Minutes after a wave closes during which a survey already started is still accepted.
    SUBMIT_GRACE_MINUTES = 10
    #: Hours a wave stays open after a trainer opens it, unless closed sooner.
    WAVE_OPEN_HOURS = 24
    #: Compressed responses (brotli or gzip) for static files and downloads. Not HTML pages:
    #: they carry form tokens beside text a visitor can put in (BREACH).
    COMPRESS_MIMETYPES = ["text/css", "text/javascript", "application/javascript",
                          "application/json", "text/csv", "image/svg+xml"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_BR_LEVEL = 5
    #: Where publishing and other background jobs run: "rq" (a queue on REDIS_URL, drained by
    #: `flask jobs worker`) or "inline" (at once, in the process that asks; development and
    #: tests). Unset: "rq" when REDIS_URL is set, else "inline".
    JOBS_BACKEND = None
    #: A publishing job that runs longer than this is stopped and retried (seconds).
    JOB_TIMEOUT = 600

    #: SMTP for staff invitation and reset links; unset (the default), nothing is e-mailed and
    #: administrators hand links over themselves. STARTTLS unless MAIL_STARTTLS=0.
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "survey@localhost"
    MAIL_STARTTLS = True


def from_environment() -> dict:
    """The settings given in the environment, by config key."""
    settings = {key: os.environ[var] for var, key in ENVIRONMENT.items() if os.environ.get(var)}
    if os.environ.get("MAIL_STARTTLS", "").strip().lower() in _OFF:
        settings["MAIL_STARTTLS"] = False
    secure = os.environ.get("SESSION_COOKIE_SECURE", "").strip().lower()
    if secure in _OFF + _ON:
        # `0` only for plain http on the loopback address (the README's local run).
        settings["SESSION_COOKIE_SECURE"] = settings["REMEMBER_COOKIE_SECURE"] = secure in _ON
    return settings


def environment_settings() -> dict:
    """The defaults overridden by the environment: what `create_app()` without a mapping uses
    (plus ``DEBUG`` from ``FLASK_DEBUG``, as Flask reads it). For checks made outside the app,
    such as gunicorn's start-up hook."""
    defaults = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    return {**defaults, "DEBUG": get_debug_flag(), **from_environment()}


def environment_name(settings) -> str:
    """``production`` or ``development``; anything else is refused (a typo must not relax)."""
    name = str(settings.get("SURVEY_ENV") or "production").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(f"SURVEY_ENV must be 'production' or 'development', not {name!r}")
    return name


def production_problems(settings, workers: int | None = None) -> list[str]:
    """Why `settings` must not serve production, one short reason each (none: fine).

    `workers` is the number of processes serving the app, which only the server knows
    (gunicorn's start-up hook passes it); the checks that depend on it are skipped without it.
    """
    problems = []
    for name in ("SECRET_KEY", "LINKAGE_SECRET"):
        value = str(settings.get(name) or "")
        if not value:
            problems.append(f"{name} is not set")
        elif value.strip().lower() in PLACEHOLDER_SECRETS:
            problems.append(f"{name} is a well-known placeholder, not a secret")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    if not settings.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off, but production cookies must be "
                        "HTTPS-only")
    if settings.get("DEBUG"):
        problems.append("FLASK_DEBUG is on")
    if workers is not None and workers > 1:
        database = str(settings.get("SQLALCHEMY_DATABASE_URI") or "sqlite://")
        if database.startswith("sqlite"):
            problems.append(f"SQLite cannot serve {workers} workers: set DATABASE_URL to "
                            "PostgreSQL, or run one worker (WEB_CONCURRENCY=1)")
        storage = str(settings.get("RATELIMIT_STORAGE_URI") or "memory://")
        if storage.startswith("memory://"):
            problems.append(f"rate limits kept in memory would be counted apart by each of "
                            f"{workers} workers: set REDIS_URL")
    return problems


def check_production(settings, workers: int | None = None) -> None:
    """Raise `ConfigError` with every problem in one line, if production is asked for and any
    is found."""
    if environment_name(settings) != "production":
        return
    problems = production_problems(settings, workers)
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))
