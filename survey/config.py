"""Configuration: defaults here, overridden by the environment, then by a mapping (tests)."""
import os

#: Environment variables read at start-up, with the config key each one sets.
ENVIRONMENT = {
    "SECRET_KEY": "SECRET_KEY",
    "LINKAGE_SECRET": "LINKAGE_SECRET",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "REDIS_URL": "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
}


class Config:
    """Safe defaults. The database defaults to SQLite in the instance folder (set in the factory)."""

    SECRET_KEY = None
    #: Key for the linkage-code hashes. Must stay the same for as long as waves are to be
    #: linked; it never lives in the database.
    LINKAGE_SECRET = None
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: Absolute address officers reach, for QR codes (else the request's own host).
    PUBLIC_BASE_URL = None

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
    #: Failed sign-ins per client, and failed join codes (typed or in a link) per client.
    LOGIN_LIMIT = "10 per minute;100 per day"
    JOIN_LIMIT = "20 per minute;200 per day"

    #: Minutes after a wave closes during which a survey already started is still accepted.
    SUBMIT_GRACE_MINUTES = 30
    #: Hours a wave stays open after a trainer opens it, unless closed sooner.
    WAVE_OPEN_HOURS = 24


def from_environment() -> dict:
    """The settings given in the environment, by config key."""
    return {key: os.environ[var] for var, key in ENVIRONMENT.items() if os.environ.get(var)}
