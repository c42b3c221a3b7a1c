"""Spot checks and rectification: the drawn supervisor records a check and findings with photos
through the bank's upload path; the organisation answers with evidence; the supervisor closes
or reopens; overdue findings reach the city and the province but not another city; who may see
and do what."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.errors import Conflict, NotFound, PermissionDenied
from examsys.supervision import services as supervision
from examsys.supervision.checks import services as checks
from tests.supervision.conftest import login


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def checked(province, db):
    batch = province.batches[0]  # organisation 0, city 1
    sup = province.supervisors[1]
    supervision.assign(province.admin, batch, sup)
    check = checks.record_check(sup, batch, mode="after", checked_on=date(2026, 10, 1),
                                checklist=[{"code": "T1", "ok": False, "note": "1 名考评员证过期"},
                                           {"code": "P2", "ok": True}], summary="事后资料检查")
    finding = checks.add_finding(sup, check, severity="major", text="考评员证过期仍上岗", indicator="T1",
                                 photos=[("photo.png", _png())])
    db.session.commit()
    return check, finding, sup


def test_check_finding_answer_close_reopen(province, checked, db):
    check, finding, sup = checked
    assert len(finding.photos) == 1 and finding.due_on == date(2026, 10, 16)
    org_admin = province.org_admins[province.orgs[0].id]
    with pytest.raises(Conflict):
        checks.close(sup, finding, "")  # nothing answered yet
    with pytest.raises(PermissionDenied):
        checks.answer(province.org_admins[province.orgs[1].id], finding, "不是本机构")
    checks.answer(org_admin, finding, "已更换持证考评员", [("e.png", _png())])
    with pytest.raises(PermissionDenied):
        checks.close(province.supervisors[2], finding, "")  # not the check's supervisor
    checks.close(sup, finding, "核验属实")
    assert finding.status == "closed"
    checks.reopen(sup, finding, "复查发现仍未持证", date(2026, 12, 31))
    assert finding.status == "open" and [s.kind for s in finding.steps] == ["answer", "close", "reopen"]
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "spot_finding")))
    assert actions == {"spot_finding.recorded", "spot_finding.answered", "spot_finding.closed", "spot_finding.reopened"}


def test_overdue_goes_to_the_city_and_province_only(province, checked):
    _check, finding, _sup = checked
    later = finding.due_on + timedelta(days=1)
    assert checks.overdue(None, later) == [finding]
    assert checks.overdue(province.city_admin, later) == [finding]  # organisation 0 is in the first city
    assert checks.overdue(province.city_admin, finding.due_on) == []


def test_only_the_assigned_supervisor_records_a_check(province):
    with pytest.raises(NotFound):
        checks.record_check(province.supervisors[3], province.batches[1], mode="live", checklist=[{"code": "T1"}],
                            summary="")


def test_who_sees_a_check(province, checked, client, db):
    check, finding, sup = checked
    url = f"/spot-checks/{check.id}"
    for user, status in ((sup, 200), (province.admin, 200), (province.city_admin, 200),
                         (province.org_admins[province.orgs[0].id], 200),
                         (province.org_admins[province.orgs[1].id], 404), (province.supervisors[2], 404)):
        login(client, user)
        assert client.get(url).status_code == status, user.username
    photo = client.get(f"/spot-checks/findings/{finding.id}/photos/{finding.photos[0]}")
    assert photo.status_code == 404  # the other supervisor
    login(client, province.org_admins[province.orgs[0].id])
    assert client.get(f"/spot-checks/findings/{finding.id}/photos/{finding.photos[0]}").status_code == 200
    viewed = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "spot_check.viewed")).all()
    assert len(viewed) >= 2  # the province and the city looked at another organisation's check


def test_the_organisation_answers_through_the_page(province, checked, client, db):
    _check, finding, _sup = checked
    login(client, province.org_admins[province.orgs[0].id])
    resp = client.post(f"/spot-checks/findings/{finding.id}/answer",
                       data={"text": "已整改", "evidence": (io.BytesIO(_png()), "e.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    db.session.refresh(finding)
    assert finding.status == "answered" and finding.steps[0].evidence
