"""Flask extensions, created unbound; create_app() binds them to an app."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names make migrations reviewable and portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_limiter(app) -> None:
    """Flask-Limiter, with decorator limits only. Flask-Limiter 4 always adds a before_request
    pass that applies default and application-wide limits to every request; examsys has none
    (each limit is a decorator on its route, which checks it itself), so that pass is taken out
    again: it cost about a tenth of a millisecond on every request, autosaves included."""
    limiter.init_app(app)
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return  # someone configured global limits: keep the pass that applies them
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [h for h in hooks if h != limiter._check_request_limit]
