"""The unit of work (examsys.transaction): a request commits when its view returns, rolls back
when anything raises, and writes what must survive a refusal in a transaction of its own;
concurrency failures answer 409; CLI commands commit once or not at all."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from examsys import create_app, transaction
from examsys.accounts import services as accounts
from examsys.accounts.models import Organisation, OrgKind
from examsys.audit.models import AuditEvent
from examsys.errors import PermissionDenied, ValidationError
from examsys.extensions import db as _db
from examsys.permissions import public

probe = Blueprint("txprobe", __name__, url_prefix="/txprobe")


def _org(code: str) -> Organisation:
    return accounts.create_organisation(code, f"机构{code}", OrgKind.SOCIAL)


def _mark(code: str) -> None:
    """Stands for a record that must survive a refusal (e.g. a failed login's counter)."""
    _org(code)


@probe.post("/ok/<code>")
@public
def ok(code):
    _org(code)
    return "ok"


@probe.post("/boom/<code>")
@public
def boom(code):
    _org(code)
    raise RuntimeError("unexpected")


@probe.post("/refuse/<code>")
@public
def refuse(code):
    _org(code)
    transaction.on_rollback(lambda: _mark(code + "-KEPT"))
    raise PermissionDenied("不允许")


@probe.post("/form/<code>")
@public
def form(code):
    def service():
        _org(code + "-HALF")
        transaction.on_rollback(lambda: _mark(code + "-KEPT"))
        raise ValidationError("第 3 行：题干不能为空", field="stem")

    result, error = transaction.attempt(service)
    assert result is None and error is not None
    _org(code + "-AFTER")  # the request goes on after showing the refusal on its page
    return jsonify({"message": error.message})


@probe.post("/stale")
@public
def stale():
    raise StaleDataError("UPDATE statement on table 'x' expected to update 1 row(s); 0 were matched.")


@probe.post("/duplicate/<code>")
@public
def duplicate(code):
    _db.session.add(Organisation(code=code, name="甲", kind=OrgKind.SOCIAL, active=True))
    _db.session.add(Organisation(code=code, name="乙", kind=OrgKind.SOCIAL, active=True))
    _db.session.flush()
    return "unreachable"


@probe.post("/late/<code>/<int:fail>")
@public
def late(code, fail):
    transaction.before_commit(lambda: _org(code))
    if fail:
        raise ValidationError("不保存")
    assert _codes_now() == set()  # nothing written while the view works
    return "ok"


def _codes_now() -> set[str]:
    return set(_db.session.scalars(select(Organisation.code).where(Organisation.code.like("TX%"))))


@probe.get("/early")
@public
def early():
    return "view"


@pytest.fixture(scope="module")
def tx_app(app):
    """A second app on the same database, with the probe routes (routes can't be added to the
    shared app once it has served a request)."""
    probe_app = create_app({**{k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "EXAMSYS_DATA_KEY", "WTF_CSRF_ENABLED",
        "EXAMSYS_LOGIN_RATE", "EXAMSYS_ARGON2", "EXAMSYS_UPLOAD_DIR", "SERVER_NAME")}})
    probe_app.register_blueprint(probe)
    yield probe_app
    with probe_app.app_context():
        _db.engine.dispose()


@pytest.fixture
def tx(tx_app, db):
    return tx_app.test_client()


def _codes(tx_app) -> set[str]:
    with tx_app.app_context():
        return set(_db.session.scalars(select(Organisation.code).where(Organisation.code.like("TX%"))))


def _actions(tx_app) -> list[str]:
    with tx_app.app_context():
        return list(_db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_view_that_returns_commits_its_work(tx, tx_app):
    assert tx.post("/txprobe/ok/TX1").status_code == 200
    assert _codes(tx_app) == {"TX1"}


def test_an_exception_rolls_back_everything_the_request_wrote(tx, tx_app):
    assert tx.post("/txprobe/boom/TX2").status_code == 500
    assert _codes(tx_app) == set()


def test_a_refusal_keeps_only_what_must_survive_it(tx, tx_app):
    before = len(_actions(tx_app))
    resp = tx.post("/txprobe/refuse/TX3")
    assert resp.status_code == 403
    assert _codes(tx_app) == {"TX3-KEPT"}  # the refused work is gone, the record stays
    new = _actions(tx_app)[before:]
    assert new[-1].startswith("permission.denied")


def test_attempt_undoes_the_refused_call_only(tx, tx_app):
    resp = tx.post("/txprobe/form/TX4")
    assert resp.status_code == 200
    assert resp.get_json()["message"] == "第 3 行：题干不能为空"
    assert _codes(tx_app) == {"TX4-KEPT", "TX4-AFTER"}


def test_optimistic_locking_miss_is_a_409_page_in_chinese(tx):
    resp = tx.post("/txprobe/stale")
    assert resp.status_code == 409
    assert transaction.STALE_MESSAGE in resp.get_data(as_text=True)


def test_optimistic_locking_miss_is_a_409_conflict_in_json(tx):
    resp = tx.post("/txprobe/stale", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "conflict"


def test_a_unique_race_is_a_409_and_nothing_is_written(tx, tx_app):
    resp = tx.post("/txprobe/duplicate/TX5", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "conflict"
    assert _codes(tx_app) == set()


def test_other_integrity_errors_stay_errors():
    exc = IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed: organisations.name"))
    assert transaction.as_domain_error(exc) is exc


def test_cli_command_commits_once_when_it_returns(tx_app, db):
    @click.command()
    @transaction.command
    def make_org():
        _org("TX6")

    with tx_app.app_context():
        result = CliRunner().invoke(make_org)
    assert result.exit_code == 0, result.output
    assert _codes(tx_app) == {"TX6"}


def test_cli_command_refusal_is_a_message_and_nothing_is_written(tx_app, db):
    @click.command()
    @transaction.command
    def make_org():
        _org("TX7")
        raise ValidationError("机构代码格式不正确")

    with tx_app.app_context():
        result = CliRunner().invoke(make_org)
    assert result.exit_code == 1
    assert "机构代码格式不正确" in result.output
    assert _codes(tx_app) == set()


def test_before_commit_writes_at_the_commit_and_not_on_failure(tx, tx_app):
    assert tx.post("/txprobe/late/TX8/0").status_code == 200
    assert tx.post("/txprobe/late/TX9/1").status_code == 422
    assert _codes(tx_app) == {"TX8"}
