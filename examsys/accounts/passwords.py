"""Staff passwords: the policy a new password must meet, and hashing with Argon2id.

The policy: at least MIN_LENGTH characters, not one of the 10,000 most common passwords, and not
containing the username. Length and the list do the work that composition rules ("letters and
digits") only pretend to: `aaaaaaaaa1` met those. The list (data/common-passwords.txt, one per
line, most common first) is the top 10,000 of the ranked password list that zxcvbn 4.5.0
(MIT, data/common-passwords.LICENSE) ships, itself drawn from a public dump of ten million leaked
passwords; it is lower-case, and a password is compared lower-cased."""

from __future__ import annotations

import secrets
import threading
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from examsys.errors import ValidationError

MIN_LENGTH = 12
COMMON_PASSWORDS_FILE = "data/common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("examsys.accounts").joinpath(COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raises ValidationError (field `password`) naming the rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(_("密码至少须有 %(n)d 个字符", n=MIN_LENGTH), field="password")
    lowered = password.lower()
    if lowered in common_passwords():
        raise ValidationError(_("该密码是最常见的密码之一，很容易被猜中，请换一个"), field="password")
    name = (username or "").strip().lower()
    if name and name in lowered:
        raise ValidationError(_("密码不能包含用户名"), field="password")


# One Argon2 computation at a time per process: each holds its whole memory cost (19 MiB) while it
# runs, so a worker's threads signing in together would add that once per thread. At ~30 ms a
# hash, queueing sign-ins inside one worker costs nothing a person notices.
_ONE_AT_A_TIME = threading.Lock()


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _params() -> tuple[int, int, int]:
    p = current_app.config["EXAMSYS_ARGON2"]
    return p["time_cost"], p["memory_cost"], p["parallelism"]


def hasher() -> PasswordHasher:
    return _hasher(*_params())


def hash_password(password: str) -> str:
    with _ONE_AT_A_TIME:
        return hasher().hash(password)


def verify(hash_: str, password: str) -> bool:
    try:
        with _ONE_AT_A_TIME:
            return hasher().verify(hash_, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash_for(params: tuple[int, int, int]) -> str:
    with _ONE_AT_A_TIME:
        return _hasher(*params).hash(secrets.token_hex(16))


def dummy_hash() -> str:
    """A hash of a random secret with the configured cost: checking a password against it costs
    what checking a real account's does, and never succeeds."""
    return _dummy_hash_for(_params())
