"""The survey platform: the application factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

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

    from .extensions import compress, csrf, db, limiter, login_manager, migrate
    db.init_app(app)
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)

    from . import admin, auth, cli, errors, health, leadership, logs, respond, trainer, web
    logs.init_app(app)
    web.init_app(app)  # before the blueprints: it sets the converter their routes use
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(respond.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(trainer.bp)
    app.register_blueprint(leadership.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    return app


def _finish_config(app: Flask) -> None:
    """Refuse what production must not run with; fill in what development and tests may omit."""
    environment = app.config["SURVEY_ENV"] = config_module.environment_name(app.config)
    if environment == "production" and not app.testing:
        # Worker counts are checked by gunicorn's start-up hook (gunicorn.conf.py): it knows them.
        config_module.check_production(app.config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or "development-only"
    app.config["LINKAGE_SECRET"] = app.config.get("LINKAGE_SECRET") or "development-only-linkage"
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'survey.db'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # An unreachable database host answers /healthz (and officers) within seconds, rather
        # than after the operating system gives up on the connection.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    try:
        app.config["SUBMIT_GRACE_MINUTES"] = int(app.config["SUBMIT_GRACE_MINUTES"])
    except ValueError:
        raise config_module.ConfigError(
            "SUBMIT_GRACE_MINUTES must be a whole number of minutes") from None
    try:
        proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    except ValueError:
        raise config_module.ConfigError(
            "TRUSTED_PROXIES must be a whole number (the reverse proxies in front)") from None
    if proxies > 0:
        # The address the nearest trusted proxy saw, for the rate limits' hashed client keys.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
