"""The survey platform: the application factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `config` (tests pass a mapping)."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_object(config_module.Config)
    app.config.update(config_module.from_environment())
    app.config.update(config or {})
    _finish_config(app)

    from .extensions import csrf, db, limiter, login_manager, migrate
    db.init_app(app)
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    from . import auth, cli, errors, leadership, logs, respond, trainer, web
    logs.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(respond.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(trainer.bp)
    app.register_blueprint(leadership.bp)
    return app


def _finish_config(app: Flask) -> None:
    relaxed = app.testing or app.debug
    if not app.config.get("SECRET_KEY"):
        if not relaxed:
            raise RuntimeError("SECRET_KEY is not set: refusing to start without it")
        app.config["SECRET_KEY"] = "development-only"
    if not app.config.get("LINKAGE_SECRET"):
        if not relaxed:
            raise RuntimeError("LINKAGE_SECRET is not set: linkage codes cannot be hashed")
        app.config["LINKAGE_SECRET"] = "development-only-linkage"
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'survey.db'}"
    if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("0", "false", "no"):
        # Plain http on the loopback address (the README's local run) cannot carry Secure cookies.
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = False
