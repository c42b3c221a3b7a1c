"""Indicators, supervision files and periodic assessment: computed indicators from the data,
entered scores with evidence (the authority, or the organisation on itself), the file page and
PDF, the expiring window with progress, the dossier and the decision updating the directory as an
audited change."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.errors import PermissionDenied, ValidationError
from examsys.supervision.assessment import services as assessment
from examsys.supervision.directory.scope import entry_of
from examsys.supervision.indicators import services as indicators
from tests.supervision.conftest import login


def test_computed_and_entered_indicators(province, db):
    org = province.orgs[0]
    card = indicators.scorecard(org, 2026)
    rows = {r.indicator.code: r for r in card.rows}
    assert rows["S2"].value.value == 1.0  # every batch filed seven days ahead
    assert rows["B2"].value.value == 1.0 and rows["S1"].score is None
    indicators.enter_score(province.admin, org, "S1", year=2026, score=75, evidence="缺申诉制度")
    with pytest.raises(ValidationError):
        indicators.enter_score(province.admin, org, "S2", year=2026, score=10, evidence="计算的指标")
    with pytest.raises(PermissionDenied):
        indicators.enter_score(province.org_admins[province.orgs[1].id], org, "S1", year=2026, score=1, evidence="x")
    own = indicators.enter_score(province.org_admins[org.id], org, "S1", year=2026, score=90, evidence="自查")
    assert own.context == "self"
    assert {r.indicator.code: r.score for r in indicators.scorecard(org, 2026).rows}["S1"] == 75


def test_window_progress_and_decision_update_the_directory(province, db):
    rows = assessment.due(None, date(2027, 1, 1), date(2027, 1, 31))
    assert len(rows) == 6 and assessment.progress(rows) == (0, 6)
    city_rows = assessment.due(province.city_admin, date(2027, 1, 1), date(2027, 1, 31))
    assert {r.entry.organisation.city_id for r in city_rows} == {province.cities[0].id}
    org = province.orgs[1]
    row = assessment.assessment_of(org)
    assessment.add_entry(province.admin, row, method="onsite", by="第三方评估公司", text="考场符合要求", score=88)
    with pytest.raises(PermissionDenied):
        assessment.decide(province.city_admin, row, decision="continue", reasons="x")
    assessment.decide(province.admin, row, decision="exit", reasons="连续两年抽查发现严重问题")
    entry = entry_of(org.id)
    assert entry.status == "withdrawn" and entry.changes[0].reason.startswith("定期评估结论：退出目录")
    assert row.dossier["organisation"]["code"] == org.code
    rows = assessment.due(None, date(2027, 1, 1), date(2027, 1, 31))
    assert assessment.progress(rows) == (1, 6)
    narrowed = assessment.assessment_of(province.orgs[2])
    assessment.decide(province.admin, narrowed, decision="narrow", reasons="五级不再评价",
                      scope=[{"occupation": province.standard.code, "name": "电工", "levels": [3, 4]}])
    e2 = entry_of(province.orgs[2].id)
    assert e2.scope[0]["levels"] == [3, 4] and e2.expires_on.year == 2030
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "assessment.decided"))


def test_file_and_dossier_pages_and_pdfs(province, db, client):
    org = province.orgs[0]
    db.session.commit()
    login(client, province.admin)
    assert "督导档案" in client.get(f"/oversight/organisations/{org.id}").get_data(as_text=True)
    pdf = client.get(f"/oversight/organisations/{org.id}/file.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/oversight/assessments/{org.id}").status_code == 200
    assert client.get(f"/oversight/assessments/{org.id}/dossier.pdf").data.startswith(b"%PDF")
    assert client.get("/oversight/").status_code == 200


@pytest.mark.parametrize("who, own, other, console", [
    ("admin", 200, 200, 200),
    ("city_admin", 200, 404, 200),  # organisation 0 in its city, organisation 1 not
    ("org_admin", 200, 404, 403),  # its own file only, no console
    ("supervisor", 404, 404, 403),
])
def test_access_to_files_per_role(province, db, client, who, own, other, console):
    user = {"admin": province.admin, "city_admin": province.city_admin,
            "org_admin": province.org_admins[province.orgs[0].id], "supervisor": province.supervisors[1]}[who]
    db.session.commit()
    login(client, user)
    assert client.get(f"/oversight/organisations/{province.orgs[0].id}").status_code == own
    assert client.get(f"/oversight/organisations/{province.orgs[1].id}").status_code == other
    assert client.get("/oversight/").status_code == console
    assert client.get("/directory/").status_code == 200 and client.get("/plans/").status_code == 200
