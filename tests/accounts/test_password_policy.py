"""The password policy: at least 12 characters, none of the 10,000 most common passwords (a list
shipped in the package), never containing the username; each refusal says why, in Chinese."""

from importlib import resources

import pytest

from examsys.accounts import passwords, services
from examsys.demo.loader import USERS, demo_password
from examsys.errors import ValidationError
from examsys.permissions import Role
from tests.factories import PASSWORD


def test_the_list_is_shipped_in_the_package_and_has_10000_entries():
    text = resources.files("examsys.accounts").joinpath("data/common-passwords.txt").read_text("utf-8")
    assert len(text.split()) == 10_000 == len(passwords.common_passwords())
    assert {"123456", "password", "qwerty123456", "1qaz2wsx3edc"} <= passwords.common_passwords()


@pytest.mark.parametrize(("password", "message"), [
    ("aaaaaaaaa1", "至少须有 12 个字符"),
    ("short-pw-1", "至少须有 12 个字符"),
    ("qwerty123456", "最常见的密码"),
    ("1QAZ2WSX3EDC", "最常见的密码"),  # compared without case
    ("my-Zhangsan-2026!", "不能包含用户名"),
])
def test_weak_passwords_are_refused_with_a_reason(app, password, message):
    with app.test_request_context(), pytest.raises(ValidationError) as exc:
        passwords.check_password_policy(password, username="zhangsan")
    assert message in exc.value.message and exc.value.field == "password"


def test_a_long_uncommon_password_passes(app):
    with app.test_request_context():
        passwords.check_password_policy("correct horse battery staple", username="zhangsan")


def test_create_user_and_reset_apply_the_policy_with_the_username(make, db):
    org = make.org()
    with pytest.raises(ValidationError, match="不能包含用户名"):
        services.create_user(None, org, username="liming", display_name="李明", password="LiMing-2026-abc",
                             roles={Role.WRITER})
    user = make.user(org=org)
    with pytest.raises(ValidationError, match="至少须有"):
        services.reset_password(None, user, "aaaaaaaaa1")


def test_demo_passwords_meet_the_policy(app):
    with app.test_request_context():
        for username, *_ in USERS:
            passwords.check_password_policy(demo_password(username), username=username)


def test_production_cost_is_owasps_and_old_hashes_are_rehashed_at_sign_in(make, db, app, tmp_path):
    """The default cost holds 19 MiB per hash (not RFC 9106's 64 MiB × 4 lanes, which alone broke a
    web worker's 200 MB); a hash made with the old cost still verifies and is replaced by one with
    the configured cost when its owner signs in."""
    from argon2 import PasswordHasher

    from examsys.config import build_config

    defaults = build_config(tmp_path, {"SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "d"})["EXAMSYS_ARGON2"]
    assert defaults == {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    user = make.user()
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=2).hash(PASSWORD)
    db.session.commit()
    services.authenticate(user.username, PASSWORD)
    assert "m=1024,t=1,p=1" in user.password_hash  # the suite's configured cost


def test_argon2_runs_one_at_a_time_per_process(app, monkeypatch):
    """Threads of one worker signing in together queue for the hash instead of each holding its
    memory cost at once."""
    import threading
    import time

    active, peak = [0], [0]

    class Probe:
        def hash(self, password):
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            active[0] -= 1
            return "x"

    monkeypatch.setattr(passwords, "hasher", lambda: Probe())
    threads = [threading.Thread(target=passwords.hash_password, args=("p",)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1
