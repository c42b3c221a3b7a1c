"""Audit events land in the same transaction as their change, and encode control characters."""

from sqlalchemy import func, select

from examsys import audit
from examsys.accounts import services
from examsys.accounts.models import Organisation, OrgKind
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent


def test_rollback_takes_the_event_with_it(db):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    nested = db.session.begin_nested()
    services.create_organisation("RB-1", "回滚机构", OrgKind.SOCIAL)
    nested.rollback()
    assert db.session.scalar(select(Organisation).where(Organisation.code == "RB-1")) is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_change_and_event_commit_together(db):
    org = services.create_organisation("OK-1", "提交机构", OrgKind.EMPLOYER)
    db.session.commit()
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.created",
                                                     AuditEvent.object_id == str(org.id))).one()
    assert ev.organisation_id == org.id and ev.data["code"] == "OK-1"
    assert ev.occurred_at.tzinfo is not None


def test_control_characters_are_encoded(db):
    ev = db.session.get(AuditEvent, audit.record(AuditAction.PERMISSION_DENIED,
                                                 data={"note": "line1\nline2\x1b[31m\x00"}).id)
    assert ev.data["note"] == "line1\\x0aline2\\x1b[31m\\x00" or "\\x1b" in ev.data["note"]
    assert "\x1b" not in ev.data["note"] and "\x00" not in ev.data["note"]


def test_user_management_is_audited(client, login_as, db):
    from examsys.permissions import Role

    me = login_as(Role.ORG_ADMIN)
    client.post("/users/new", data={"username": "newbie", "display_name": "新人",
                                    "password": "pass-word-1234", "organisation_id": me.organisation_id,
                                    "roles": ["writer"]})
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")
                            .order_by(AuditEvent.id.desc())).first()
    assert ev.data["username"] == "newbie" and ev.actor_user_id == me.id
