"""Request-level wiring: database connection settings, login sessions, the access check,
security headers, locale, template helpers, blueprints and error pages."""

from __future__ import annotations

import sqlite3
import time

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_app_context,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from examsys import clock, ratelimit, transaction
from examsys.accounts.services import load_session_user
from examsys.accounts.views import bp as accounts_bp
from examsys.analysis.views import bp as analysis_bp
from examsys.api import bp as api_bp
from examsys.assembly.views import bp as assembly_bp
from examsys.audit.services import AuditContext, set_request_context_provider
from examsys.audit.views import bp as audit_bp
from examsys.bank.views import assets_bp
from examsys.bank.views import bp as bank_bp
from examsys.campaign.certdata.views import bp as certdata_bp
from examsys.campaign.console.views import bp as console_bp
from examsys.campaign.satisfaction.views import bp as satisfaction_bp
from examsys.campaign.workforce.views import bp as workforce_bp
from examsys.delivery.views import bp as delivery_bp
from examsys.delivery.views.candidate import bp as exam_bp
from examsys.errors import DomainError, UnsafeConfiguration
from examsys.extensions import login_manager
from examsys.health import bp as health_bp
from examsys.i18n import set_language
from examsys.jobs.views import bp as jobs_bp
from examsys.jsonbody import JSONRequest
from examsys.jsonbody import guard as json_guard
from examsys.navigation import nav_links
from examsys.permissions import ROLE_LABELS, Permission, can, enforce_declared_access
from examsys.standards.views import bp as standards_bp
from examsys.supervision.checks.views import bp as spotchecks_bp
from examsys.supervision.directory.views import bp as directory_bp
from examsys.supervision.indicators.views import bp as indicators_bp
from examsys.supervision.oversight.views import bp as oversight_bp
from examsys.supervision.plans.views import bp as plans_bp
from examsys.supervision.views import bp as supervision_bp

SUPPORTED_LOCALES = ("zh_CN", "en")

# --- database connections ----------------------------------------------------------------------


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_conn, _record) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        # Let SQLAlchemy, not the driver, decide when transactions begin (needed for SAVEPOINTs),
        # then make every commit durable.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        level = cur.execute("PRAGMA synchronous").fetchone()[0]
        cur.close()
        if level < 2:
            raise UnsafeConfiguration("SQLite synchronous below FULL: acknowledged writes could be lost")
        return
    module = type(dbapi_conn).__module__
    if module.startswith("psycopg"):
        cur = dbapi_conn.cursor()
        cur.execute("SHOW synchronous_commit")
        value = cur.fetchone()[0]
        cur.close()
        dbapi_conn.rollback()
        if value == "off":
            raise UnsafeConfiguration(
                "PostgreSQL synchronous_commit=off: acknowledged writes could be lost; refusing")


# A pooled PostgreSQL connection idle longer than this is pinged before use (see
# examsys.config.engine_options): server and proxy timeouts, restarts overnight.
PING_IDLE_SECONDS = 10.0


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_conn, record) -> None:
    if record is not None:
        record.info["examsys_idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _on_checkout(dbapi_conn, record, _proxy) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        return
    since = record.info.get("examsys_idle_since")
    if since is None or time.monotonic() - since <= PING_IDLE_SECONDS:
        return  # new, or used a moment ago
    try:
        _ping(dbapi_conn)
    except Exception as exc:  # noqa: BLE001 - any failure of the ping means a dead connection
        raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def _ping(dbapi_conn) -> None:
    """One round trip outside any transaction (psycopg, the one PostgreSQL driver examsys uses)."""
    was = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    try:
        dbapi_conn.execute("SELECT 1")
    finally:
        dbapi_conn.autocommit = was


@event.listens_for(Engine, "begin")
def _on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        # A request that will write asks for the write lock up front (examsys.api.common): BEGIN
        # IMMEDIATE waits in the busy handler, where a deferred read-then-write would fail.
        if has_app_context() and g.get("sqlite_begin_in_turn", False):
            return  # the save's write phase sends BEGIN IMMEDIATE itself, once it holds its turn
        immediate = has_app_context() and g.get("sqlite_begin_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def check_safe_settings(app: Flask) -> None:
    """Refuse to start in production on settings that would put exams at risk."""
    if app.config["EXAMSYS_ENV"] != "production":
        return
    if app.config.get("DEBUG"):
        raise UnsafeConfiguration("EXAMSYS_DEBUG is on in production")
    if not app.config.get("SESSION_COOKIE_SECURE"):
        raise UnsafeConfiguration("EXAMSYS_COOKIE_SECURE must be on in production (HTTPS only)")


# --- locale ------------------------------------------------------------------------------------


def select_locale() -> str:
    # Outside a request (a CLI command, a job) messages are in the default language.
    lang = session.get("lang") if has_request_context() else None
    if lang in SUPPORTED_LOCALES:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["EXAMSYS_DISPLAY_TIMEZONE"]


# --- login sessions ----------------------------------------------------------------------------


@login_manager.user_loader
def _load_user(token: str):
    # Session bookkeeping (last seen, expiry) commits with the rest of the request.
    return load_session_user(token)


login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
login_manager.session_protection = None  # server-side sessions do the job, across nodes too


# --- the request owns the transaction -----------------------------------------------------------


class ExamsysFlask(Flask):
    """Flask, with one transaction per request (examsys.transaction): committed when the view (or
    a before-request hook that answers early) returns, rolled back by the one error path when
    anything raises. Concurrency failures (StaleDataError, unique races) become 409 Conflict.
    JSON bodies are bounded in depth (examsys.jsonbody)."""

    request_class = JSONRequest
    _sync: frozenset = frozenset()  # hooks and views known to be plain functions

    def ensure_sync(self, func):
        # Flask asks on every call of every hook and view whether it is a coroutine function
        # (a dozen `inspect` checks on each request, autosaves included); the answer never
        # changes, so each function is asked about once. examsys has no async views.
        if func in self._sync:
            return func
        out = super().ensure_sync(func)
        if out is func:
            self._sync = self._sync | {func}
        return out

    def preprocess_request(self):
        rv = super().preprocess_request()
        if rv is not None:
            transaction.commit()
        return rv

    def dispatch_request(self):
        rv = super().dispatch_request()
        transaction.commit()
        return rv

    def handle_user_exception(self, e):
        transaction.fail(e)
        return super().handle_user_exception(transaction.as_domain_error(e))


# --- per-request hooks -------------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except for the JSON API: its clients authenticate with
    Bearer tokens and have no cookie session, so /api/ requests get Flask's null session (no
    cookie to parse, none to write — a write would fail loudly)."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _request_audit_context():
    """The audit context of the current request (audit.services calls it on first use)."""
    user = current_user if current_user and current_user.is_authenticated else None
    return AuditContext(
        user_id=user.id if user else None,
        label=user.username if user else None,
        roles=",".join(sorted(r.value for r in user.roles)) if user else None,
        organisation_id=user.organisation_id if user else None,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


_FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                  ("Referrer-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin"),
                  ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))


# Names (lowercased) of the headers below: a response that sets none of them itself (nearly all)
# gets them appended in one go.
_OURS = frozenset(k.lower() for k in ("Content-Security-Policy", "Strict-Transport-Security", "Cache-Control",
                                      "Pragma", *(k for k, _ in _FIXED_HEADERS)))
_NOT_CACHED = (("Content-Security-Policy", CSP), *_FIXED_HEADERS, ("Cache-Control", "no-store"),
               ("Pragma", "no-cache"))


def _security_headers(response):
    h = response.headers
    static = request.endpoint == "static"
    if not static and not any(k.lower() in _OURS for k, _ in h.items()):
        h.extend(_NOT_CACHED)  # the common case, every API answer: nothing of ours set yet
    else:
        h.setdefault("Content-Security-Policy", CSP)
        present = {k.lower() for k, _ in h.items()}
        for key, value in _FIXED_HEADERS:
            if key.lower() in present:
                h[key] = value
            else:
                h.add(key, value)  # a plain append: every response gets these, rarely set already
        if static:
            h.setdefault("Cache-Control", "public, max-age=3600")
        else:
            # Pages may carry personal data or exam content: never cached by browsers or proxies.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _node_header(response):
    response.headers["X-Examsys-Node"] = current_app.config["EXAMSYS_NODE_NAME"]
    return response


def init_app(app: Flask) -> None:
    proxies = app.config.get("EXAMSYS_PROXY_COUNT") or 0
    if proxies:
        # The client address and scheme as the outermost trusted proxy saw them (rate limits per
        # IP, the process record's IPs, the Safe Exam Browser's URL hash); Host passes through.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    if app.config.get("EXAMSYS_NODE_NAME"):
        app.after_request(_node_header)
    app.before_request(json_guard)
    app.before_request(enforce_declared_access)
    app.session_interface = SessionInterface()

    set_request_context_provider(_request_audit_context)
    app.after_request(_security_headers)

    app.jinja_env.globals.update(can=can, Permission=Permission, ROLE_LABELS=ROLE_LABELS,
                                 now=clock.now, nav_links=nav_links, get_locale=get_locale)
    app.jinja_env.filters["localtime"] = _format_local
    app.jinja_env.filters["localdate"] = lambda v: _format_local(v, "%Y-%m-%d")


def _format_local(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = clock.to_display(value)
    return local.strftime(fmt) if local else ""


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(accounts_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(assets_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(standards_bp)
    app.register_blueprint(assembly_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(spotchecks_bp)
    app.register_blueprint(oversight_bp)
    app.register_blueprint(indicators_bp)
    app.register_blueprint(satisfaction_bp)
    app.register_blueprint(certdata_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(workforce_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(exam_bp)

    app.add_url_rule("/lang/<code>", "set_language", set_language, methods=["POST"])


# --- errors ------------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def _error_response(status: int, code: str, message: str, headers: dict | None = None):
    if _wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = status
        resp.headers.update(headers or {})
        return resp
    return render_template("errors/error.html", status=status, message=message), status, headers or {}


ERROR_MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "您没有权限访问此页面",
    404: "页面不存在，或您无权查看该对象",
    405: "不支持该请求方法",
    413: "上传的文件太大",
    429: "操作过于频繁，请稍后再试",
    500: "服务器内部错误，已记录，请稍后重试",
}


def register_error_handlers(app: Flask) -> None:
    """Responses only: the transaction was already rolled back, and a denial recorded, by
    examsys.transaction.fail (ExamsysFlask.handle_user_exception)."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return _error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = {404: "not_found", 403: "forbidden", 429: "rate_limited"}.get(status, "http_error")
        return _error_response(status, code, ERROR_MESSAGES.get(status, exc.name),
                               {"Retry-After": str(ratelimit.retry_after())} if status == 429 else None)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        current_app.logger.exception("unhandled error")
        return _error_response(500, "internal_error", ERROR_MESSAGES[500])


__all__ = ["abort", "check_safe_settings", "init_app"]
