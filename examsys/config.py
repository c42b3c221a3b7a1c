"""Settings read from the environment (prefix EXAMSYS_), with safe defaults for development.

Secrets never live in the code: the Flask secret key and the personal-data key come from
the environment or are generated once into the instance folder.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from limits import parse as parse_limit

PREFIX = "EXAMSYS_"
# The checkout (or installed tree) holding templates/, static/, migrations/ and translations/.
ROOT = Path(__file__).resolve().parent.parent
MARK_MARGIN_DEFAULT = 0.2
# How long a batch archive (批次档案) is kept, counted from the exam's last day.
ARCHIVE_RETENTION_YEARS_DEFAULT = 5
ARCHIVE_RETENTION_YEARS_MAX = 100


class InvalidSetting(ValueError):
    """A setting whose value does not parse: the app refuses to start (create_app lets it through)
    rather than run on a guess, e.g. counting statutory holidays as working days."""

    def __init__(self, name: str, value: object, expected: str):
        self.name, self.value = name, value
        super().__init__(f"{name}={value!r} is not valid: expected {expected}")


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(PREFIX + name, default)


SIGNING_KEY_PREFIX = PREFIX + "SIGNING_KEY_"


def signing_keys_from_env() -> dict[str, str]:
    """EXAMSYS_SIGNING_KEY_<ORG CODE> = base64 Ed25519 seed, for every organisation that has one."""
    return {name[len(SIGNING_KEY_PREFIX):]: value for name, value in os.environ.items()
            if name.startswith(SIGNING_KEY_PREFIX) and value}


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidSetting(PREFIX + name, raw, "a whole number") from None


def parse_dates(name: str, raw: str | Iterable[str | date] | None) -> frozenset[date]:
    """ISO dates as a JSON list (`["2026-10-01", …]`), comma-separated (`2026-10-01,2026-10-02`),
    or already a list; empty or unset is no dates. Raises InvalidSetting naming the bad value."""
    expected = 'ISO dates, comma-separated or a JSON list, e.g. ["2026-10-01", "2026-10-02"]'
    if raw is None:
        return frozenset()
    values = raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                values = json.loads(text)
            except ValueError:
                raise InvalidSetting(name, raw, expected) from None
            if not isinstance(values, list):
                raise InvalidSetting(name, raw, expected)
        else:
            values = [part for part in (p.strip() for p in text.split(",")) if part]
    out = set()
    for value in values:
        if isinstance(value, date):
            out.add(value)
            continue
        try:
            out.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise InvalidSetting(name, value, expected) from None
    return frozenset(out)


def parse_fraction(name: str, raw: str | float | None, default: float) -> float:
    """A number in (0, 1]; unset or empty is `default`. Raises InvalidSetting otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidSetting(name, raw, "a number greater than 0 and at most 1, e.g. 0.2") from None
    if not 0 < value <= 1:
        raise InvalidSetting(name, raw, "a number greater than 0 and at most 1, e.g. 0.2")
    return value


AUTOSAVE_RATE_DEFAULT = "600 per minute"


def parse_rate(name: str, raw: str | None, default: str) -> str:
    """One rate in the `limits` notation ("600 per minute"); unset or empty is `default`. Raises
    InvalidSetting otherwise."""
    if raw is None or not str(raw).strip():
        return default
    try:
        parse_limit(str(raw))
    except ValueError:
        raise InvalidSetting(name, raw, 'one rate such as "600 per minute"') from None
    return str(raw).strip()


def parse_years(name: str, raw: str | int | None, default: int) -> int:
    """A whole number of years from 1 to ARCHIVE_RETENTION_YEARS_MAX; unset or empty is `default`.
    Raises InvalidSetting otherwise."""
    expected = f"a whole number of years from 1 to {ARCHIVE_RETENTION_YEARS_MAX}, e.g. 5"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, bool):
        raise InvalidSetting(name, raw, expected)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidSetting(name, raw, expected) from None
    if not 1 <= value <= ARCHIVE_RETENTION_YEARS_MAX:
        raise InvalidSetting(name, raw, expected)
    return value


def _instance_secret(instance_path: Path, filename: str, nbytes: int) -> str:
    """Read a secret from instance/<filename>, creating it (mode 0600) on first use."""
    path = instance_path / filename
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
    # O_EXCL: two workers starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


@dataclass(frozen=True)
class SecretSources:
    secret_key: str
    data_key: str


def load_secrets(instance_path: Path) -> SecretSources:
    return SecretSources(
        secret_key=env("SECRET_KEY") or _instance_secret(instance_path, "secret_key", 32),
        data_key=env("DATA_KEY") or _instance_secret(instance_path, "data_key", 32),
    )


def engine_options(db_url: str) -> dict:
    """SQLite is a local file: a pooled connection cannot go stale, so no ping per checkout.
    PostgreSQL pings a pooled connection only when it sat idle longer than
    examsys.web.PING_IDLE_SECONDS (examsys.web's pool events), not on every checkout as
    SQLAlchemy's pool_pre_ping would: that round trip was a tenth of an autosave's cost, and a
    connection used a moment ago is alive or dies with the whole database, which the pool
    notices on its first failed statement (it then drops every pooled connection, and the API
    answers that one request 503 retry_later). pool_recycle retires connections before server or
    proxy idle timeouts cut them."""
    if db_url.startswith("sqlite"):
        return {}
    return {"pool_recycle": 1800}


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping for this process."""
    overrides = dict(overrides or {})
    env_name = env("ENV", "development")
    db_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env("DATABASE_URL")
    if not db_url:
        db_url = "sqlite:///" + str(instance_path / "examsys.db")
    redis_url = env("REDIS_URL")
    cfg: dict = {
        "EXAMSYS_ENV": env_name,
        "DEBUG": env_bool("DEBUG", False),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(db_url),
        "SQLALCHEMY_RECORD_QUERIES": False,
        "SESSION_COOKIE_NAME": "examsys_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_bool("COOKIE_SECURE", env_name == "production"),
        "PERMANENT_SESSION_LIFETIME": env_int("SESSION_ABSOLUTE_MINUTES", 12 * 60) * 60,
        "EXAMSYS_SESSION_IDLE_MINUTES": env_int("SESSION_IDLE_MINUTES", 30),
        "EXAMSYS_SESSION_ABSOLUTE_MINUTES": env_int("SESSION_ABSOLUTE_MINUTES", 12 * 60),
        "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
        "BABEL_DEFAULT_LOCALE": env("LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "EXAMSYS_DISPLAY_TIMEZONE": "Asia/Shanghai",
        # Counters every worker and node share: Redis when configured, else the database
        # (examsys.ratelimit); "memory://" counts per process and is for tests only.
        "RATELIMIT_STORAGE_URI": redis_url or "examsys-db://",
        "RATELIMIT_STRATEGY": "moving-window",
        # No X-RateLimit-* headers on every limited response: working them out costs every
        # sign-in one more read of the counters; a refusal (429) still says when to come back
        # (Retry-After, examsys.web).
        "RATELIMIT_HEADERS_ENABLED": False,
        "EXAMSYS_LOGIN_RATE": env("LOGIN_RATE", "10 per minute;50 per hour"),
        "EXAMSYS_CANDIDATE_LOGIN_RATE": env("CANDIDATE_LOGIN_RATE", "600 per minute;6000 per hour"),
        # Autosave per candidate session (api.common.save_limit): a debounced autosave of every
        # change stays far below it; a runaway client does not.
        "EXAMSYS_AUTOSAVE_RATE": env("AUTOSAVE_RATE", AUTOSAVE_RATE_DEFAULT),
        "EXAMSYS_LOCKOUT_THRESHOLD": env_int("LOCKOUT_THRESHOLD", 5),
        "EXAMSYS_LOCKOUT_MINUTES": env_int("LOCKOUT_MINUTES", 15),
        # Candidate sign-in, per admission-ticket number: after this many failures the ticket is
        # locked for the given minutes, twice as long after each further lock-out, up to the cap.
        "EXAMSYS_CANDIDATE_LOCKOUT_THRESHOLD": env_int("CANDIDATE_LOCKOUT_THRESHOLD", 5),
        "EXAMSYS_CANDIDATE_LOCKOUT_MINUTES": env_int("CANDIDATE_LOCKOUT_MINUTES", 1),
        "EXAMSYS_CANDIDATE_LOCKOUT_MAX_MINUTES": env_int("CANDIDATE_LOCKOUT_MAX_MINUTES", 30),
        "EXAMSYS_REDIS_URL": redis_url,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto it trusts (werkzeug's
        # ProxyFix): 1 behind the one nginx of the README's deployment, 0 (default) when clients
        # connect directly -- trusting a header nobody strips would let a client pick its own IP.
        "EXAMSYS_PROXY_COUNT": env_int("PROXY_COUNT", 0),
        # This node's name, sent as the X-Examsys-Node response header when set (several nodes
        # behind one proxy: shows which node answered). Unset: no header.
        "EXAMSYS_NODE_NAME": env("NODE_NAME") or None,
        "EXAMSYS_UPLOAD_DIR": env("UPLOAD_DIR") or str(instance_path / "uploads"),
        # The organisations' Ed25519 signing keys (checkpoints, archive manifests): files here,
        # or EXAMSYS_SIGNING_KEY_<ORG CODE> in the environment; never in the database.
        "EXAMSYS_KEY_DIR": env("KEY_DIR") or str(instance_path / "keys"),
        "EXAMSYS_SIGNING_KEYS": signing_keys_from_env(),
        # Long work (examsys.jobs): results are files here; the queue is a SQLite file beside them
        # unless Redis is configured (several nodes need Redis). Immediate: run each job in the
        # process that asks for it, right after its request commits (tests; a single-process try-out).
        "EXAMSYS_JOB_DIR": env("JOB_DIR") or str(instance_path / "jobs"),
        "EXAMSYS_JOBS_IMMEDIATE": env_bool("JOBS_IMMEDIATE", False),
        "EXAMSYS_MAX_UPLOAD_MB": env_int("MAX_UPLOAD_MB", 50),
        # The workforce's warnings list certificates expiring within this many days.
        "EXAMSYS_CERT_WARNING_DAYS": env_int("CERT_WARNING_DAYS", 60),
        "MAX_CONTENT_LENGTH": env_int("MAX_UPLOAD_MB", 50) * 1024 * 1024,
        # Argon2id cost: OWASP's first recommended configuration (19 MiB, 2 passes, 1 lane). RFC
        # 9106's 64 MiB × 4 lanes made every staff sign-in add 64 MiB to a web worker (four at
        # once in its four threads), which alone broke the 200 MB a worker may hold on an exam
        # day; hashes made with other costs still verify and are re-hashed at the next sign-in.
        # Tests lower it through overrides.
        "EXAMSYS_ARGON2": {"time_cost": 2, "memory_cost": 19456, "parallelism": 1},
    }
    if not ("SECRET_KEY" in overrides and "EXAMSYS_DATA_KEY" in overrides):
        secrets_ = load_secrets(instance_path)
        cfg["SECRET_KEY"] = secrets_.secret_key
        cfg["EXAMSYS_DATA_KEY"] = secrets_.data_key
    cfg.update(overrides)
    # Parsed once here, from the environment or an override, so a malformed value stops start-up.
    cfg["EXAMSYS_HOLIDAYS"] = parse_dates(PREFIX + "HOLIDAYS", cfg.get("EXAMSYS_HOLIDAYS", env("HOLIDAYS")))
    cfg["EXAMSYS_EXTRA_WORKDAYS"] = parse_dates(PREFIX + "EXTRA_WORKDAYS",
                                                cfg.get("EXAMSYS_EXTRA_WORKDAYS", env("EXTRA_WORKDAYS")))
    cfg["EXAMSYS_MARK_MARGIN"] = parse_fraction(PREFIX + "MARK_MARGIN",
                                                cfg.get("EXAMSYS_MARK_MARGIN", env("MARK_MARGIN")),
                                                MARK_MARGIN_DEFAULT)
    proxies = cfg["EXAMSYS_PROXY_COUNT"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise InvalidSetting(PREFIX + "PROXY_COUNT", proxies,
                             "the number of reverse proxies in front of the app, 0 to 5 (usually 0 or 1)")
    cfg["EXAMSYS_AUTOSAVE_RATE"] = parse_rate(PREFIX + "AUTOSAVE_RATE", cfg.get("EXAMSYS_AUTOSAVE_RATE"),
                                              AUTOSAVE_RATE_DEFAULT)
    cfg["EXAMSYS_ARCHIVE_RETENTION_YEARS"] = parse_years(
        PREFIX + "ARCHIVE_RETENTION_YEARS",
        cfg.get("EXAMSYS_ARCHIVE_RETENTION_YEARS", env("ARCHIVE_RETENTION_YEARS")), ARCHIVE_RETENTION_YEARS_DEFAULT)
    return cfg
