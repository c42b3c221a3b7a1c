"""Supervisors belong to the authority: an organisation admin can neither appoint one nor record
a supervisor certificate (service and form); the province assigns supervisors to any
organisation's batch, never to one of the supervisor's own organisation nor one they declared a
conflict with; the assigned supervisor becomes the batch's supervisor of record for filing."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace as NS

import pytest
from sqlalchemy import select

from examsys import permissions as p
from examsys.accounts import services as accounts
from examsys.accounts.models import CertificateKind, OrgKind, User, UserRole
from examsys.audit.models import AuditEvent
from examsys.errors import Conflict, PermissionDenied, ValidationError
from examsys.permissions import Role
from examsys.supervision import services as supervision
from examsys.supervision.models import SupervisionAssignment
from tests.factories import PASSWORD
from tests.supervision.conftest import login


def test_an_org_admin_cannot_appoint_a_supervisor(make, db):
    org = make.org()
    admin = make.user(roles=Role.ORG_ADMIN, org=org)
    with pytest.raises(PermissionDenied) as refused:
        accounts.create_user(admin, org, username="sup-own", display_name="本机构督导", password=PASSWORD,
                             roles={Role.SUPERVISOR})
    assert refused.value.code == "accounts.appoint_supervisor"
    examiner = make.user(roles=Role.PROCTOR, org=org)
    with pytest.raises(PermissionDenied):
        accounts.update_user(admin, examiner, expected_version=examiner.version, display_name="x",
                             roles={Role.PROCTOR, Role.SUPERVISOR}, active=True, certificates=[])
    cert = accounts.CertificateInput(kind=CertificateKind.SUPERVISOR, number="S-1", valid_until=date(2030, 1, 1))
    with pytest.raises(PermissionDenied):
        accounts.update_user(admin, examiner, expected_version=examiner.version, display_name="x",
                             roles={Role.PROCTOR}, active=True, certificates=[cert])


def test_the_province_appoints_supervisors_of_the_authority_only(make, db):
    province, org = make.org(OrgKind.AUTHORITY), make.org()
    admin = make.user(roles=Role.PROVINCIAL_ADMIN, org=province)
    sup = accounts.create_user(admin, province, username="sup-prov", display_name="督导员", password=PASSWORD,
                               roles={Role.SUPERVISOR})
    assert sup.has_role(Role.SUPERVISOR)
    with pytest.raises(ValidationError):
        accounts.create_user(admin, org, username="sup-org", display_name="督导员", password=PASSWORD,
                             roles={Role.SUPERVISOR})


def test_the_user_form_of_an_org_admin_offers_no_supervisor(client, login_as, db):
    admin = login_as(Role.ORG_ADMIN)
    html = client.get("/users/new").get_data(as_text=True)
    assert 'value="supervisor"' not in html and "督导员证编号" not in html
    resp = client.post("/users/new", data={"username": "sneaky", "display_name": "督导", "password": "abcdef123456",
                                           "organisation_id": admin.organisation_id, "roles": ["supervisor"]})
    assert resp.status_code in (200, 403, 422)
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None


def test_the_provincial_admins_form_offers_it(client, login_as):
    login_as(Role.PROVINCIAL_ADMIN)
    html = client.get("/users/new").get_data(as_text=True)
    assert 'value="supervisor"' in html and "督导员证编号" in html


def test_assignment_rules_at_the_policy_level():
    def user(uid, org, *roles):
        roles = set(roles)
        return NS(id=uid, organisation_id=org, display_name="某", is_authenticated=True,
                  permissions=p.permissions_for(roles), has_role=lambda r: r in roles)

    province, sup, batch = user(1, 1, Role.PROVINCIAL_ADMIN), user(2, 1, Role.SUPERVISOR), NS(organisation_id=10)
    assert p.may_assign_supervisor(province, sup, batch, conflicted=False).allowed
    assert p.may_assign_supervisor(user(3, 10, Role.ORG_ADMIN), sup, batch,
                                   conflicted=False).code == "supervision.assign_denied"
    assert p.may_assign_supervisor(province, user(4, 10, Role.SUPERVISOR), batch,
                                   conflicted=False).code == "supervision.own_organisation"
    assert p.may_assign_supervisor(province, sup, batch, conflicted=True).code == "supervision.conflict_declared"
    assert p.may_assign_supervisor(province, user(5, 1, Role.PROCTOR), batch,
                                   conflicted=False).code == "supervision.not_supervisor"
    running = NS(organisation_id=10, supervision_assignments=[NS(supervisor_id=2, ended_at=None)])
    assert p.may_supervise_batch(sup, running).allowed
    assert p.may_supervise_batch(sup, batch).code == "supervision.not_assigned"


def test_assignment_is_refused_for_the_own_organisation_and_a_declared_conflict(delivery_world, authority, make, db):
    w = delivery_world
    # A supervisor of the organisation itself (appointed before the authority alone appointed them).
    own = make.user(roles=Role.PROCTOR, org=w.org)
    db.session.add(UserRole(user_id=own.id, role=Role.SUPERVISOR))
    db.session.flush()
    db.session.expire(own)
    with pytest.raises(Conflict) as refused:
        supervision.assign(authority.admin, w.batch, own)
    assert refused.value.code == "supervision.own_organisation"
    other = make.user(roles=Role.SUPERVISOR, org=authority.province, certificates=(CertificateKind.SUPERVISOR,))
    supervision.declare_conflict(other, w.org, "曾在该机构任职")
    with pytest.raises(Conflict) as refused:
        supervision.assign(authority.admin, w.batch, other)
    assert refused.value.code == "supervision.conflict_declared"
    with pytest.raises(Conflict):
        supervision.declare_conflict(other, w.org, "再次申报")
    assert [a.supervisor_id for a in supervision.running_assignments(w.batch)] == [authority.supervisor.id]


def test_a_new_assignment_replaces_the_running_one_and_is_recorded(delivery_world, authority, make, db):
    w = delivery_world
    second = make.user(roles=Role.SUPERVISOR, org=authority.province, certificates=(CertificateKind.SUPERVISOR,))
    supervision.assign(authority.admin, w.batch, second)
    assert w.batch.supervisor_id == second.id  # filed and open: the supervisor of record
    rows = db.session.scalars(select(SupervisionAssignment).order_by(SupervisionAssignment.id)).all()
    assert [(r.supervisor_id, r.ended_at is None) for r in rows] == [(authority.supervisor.id, False),
                                                                      (second.id, True)]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.scope == f"batch/{w.batch.id}",
                                                                 AuditEvent.object_type == "supervision_assignment")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["supervision_assignment.created", "supervision_assignment.ended",
                       "supervision_assignment.created"]


def test_the_province_assigns_and_sees_conflicts_through_the_pages(client, delivery_world, authority, make, db):
    w = delivery_world
    other = make.user(roles=Role.SUPERVISOR, org=authority.province, certificates=(CertificateKind.SUPERVISOR,))
    db.session.commit()
    login(client, other)
    resp = client.post("/supervision/conflicts", data={"organisation_id": w.org.id, "reason": "亲属在该机构任职"})
    assert resp.status_code == 303
    login(client, authority.admin)
    assert "亲属在该机构任职" in client.get("/supervision/conflicts").get_data(as_text=True)
    page = client.get("/supervision/assignments").get_data(as_text=True)
    assert w.batch.name in page and authority.supervisor.display_name in page
    client.post(f"/supervision/batches/{w.batch.id}/assign", data={f"b{w.batch.id}-supervisor_id": other.id})
    assert [a.supervisor_id for a in supervision.running_assignments(w.batch)] == [authority.supervisor.id]
    login(client, w.admin)  # an organisation's exam admin assigns nobody
    assert client.get("/supervision/assignments").status_code == 403
    assert client.post(f"/supervision/batches/{w.batch.id}/assign",
                       data={f"b{w.batch.id}-supervisor_id": other.id}).status_code == 403
