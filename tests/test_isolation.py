"""Each test's writes, committed or not, are gone in the next test."""

from sqlalchemy import select

from examsys.accounts import services
from examsys.accounts.models import Organisation, OrgKind


def test_a_commits(db):
    services.create_organisation("ISO-1", "隔离测试", OrgKind.SOCIAL)
    db.session.commit()
    assert db.session.scalar(select(Organisation).where(Organisation.code == "ISO-1")) is not None


def test_b_sees_nothing_of_a(db):
    assert db.session.scalar(select(Organisation).where(Organisation.code == "ISO-1")) is None


def test_c_commits_through_a_request(client, login_as, db):
    login_as(__import__("examsys.permissions", fromlist=["Role"]).Role.PROVINCIAL_ADMIN)
    client.post("/organisations/new", data={"code": "ISO-2", "name": "请求提交", "kind": "social"})
    assert db.session.scalar(select(Organisation).where(Organisation.code == "ISO-2")) is not None


def test_d_sees_nothing_of_c(db):
    assert db.session.scalar(select(Organisation).where(Organisation.code == "ISO-2")) is None
