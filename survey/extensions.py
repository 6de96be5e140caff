"""Flask extensions, created unbound and initialised in the application factory."""
import hashlib
import hmac
import sqlite3

from flask import current_app, request
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
#: "basic" protection only marks a session not fresh when the address or browser changes, which
#: nothing here uses, and would write that mark into every officer's cookie (the user is looked
#: up on every page). Sessions end by their version instead (StaffUser.get_id).
login_manager.session_protection = None
csrf = CSRFProtect()
compress = Compress()


def client_key() -> str:
    """Who a rate limit counts: a keyed hash of the client's address.

    Limits must tell clients apart, but neither Redis nor memory ever holds the address itself,
    and nothing here is logged.
    """
    address = (request.remote_addr or "").encode()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"rate-limit:" + address, hashlib.sha256).hexdigest()[:24]


limiter = Limiter(key_func=client_key)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, write-ahead log and a busy timeout for concurrent writers."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
