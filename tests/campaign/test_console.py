"""The console: every number recomputed from the raw rows (sampling from the draws' stored picks,
filings from the directory and the assessments, online theory from the batches); the console
gathers every provider's targets per city and organisation; 领航型; the JSON report's shape;
the pages and their drill-downs for the province and a city; tenancy; the summary PDF."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date

import pytest
from sqlalchemy import select

from examsys.accounts.models import Organisation, OrgKind
from examsys.campaign.console import services as console
from examsys.campaign.console import supervision_targets
from examsys.campaign.targets import Scope, Target
from examsys.campaign.workforce.models import TrainingCourse
from examsys.delivery.models import Batch, BatchState
from examsys.supervision.assessment import services as assessment
from examsys.supervision.assessment.models import Assessment
from examsys.supervision.directory.models import DirectoryEntry
from examsys.supervision.plans import services as plans
from examsys.supervision.plans.models import SupervisionDraw
from tests.jobs.pdfs import pdf_via_job
from tests.supervision.conftest import login

KEYS = ["satisfaction", "data_checked", "return_rate", "staff_trained", "certified_staff", "filing_expired_assessed",
        "sampling_social", "sampling_employer", "online_theory"]


def _by_key(targets):
    return {t.key: t for t in targets}


def _raw_sampling(db, kind: OrgKind, city_id: int | None) -> tuple[int, int]:
    picked = {p["batch"] for d in db.session.scalars(select(SupervisionDraw)) if d.result for p in d.result["picks"]}
    rows = db.session.execute(select(Batch.id, Organisation.city_id).join(
        Organisation, Organisation.id == Batch.organisation_id).where(
        Organisation.kind == kind, Batch.state != BatchState.PLANNED, Batch.filed_at.is_not(None))).all()
    rows = [r for r in rows if city_id is None or r.city_id == city_id]
    return sum(1 for r in rows if str(r.id) in picked), len(rows)


@pytest.fixture
def drawn(world, db):
    plan = plans.create_plan(world.p.admin, 2026)
    plans.perform_draw(world.p.admin, plans.commit_seed(world.p.admin, plan))
    db.session.commit()
    return plan


def test_sampling_recomputed_from_the_draws(world, drawn, db):
    for city_id in (None, *(c.id for c in world.p.cities)):
        got = _by_key(console.gather(2026, Scope(city_id=city_id)))
        assert (got["sampling_social"].numerator, got["sampling_social"].denominator) == \
            _raw_sampling(db, OrgKind.SOCIAL, city_id)
        assert (got["sampling_employer"].numerator, got["sampling_employer"].denominator) == \
            _raw_sampling(db, OrgKind.EMPLOYER, city_id)
    province = _by_key(console.gather(2026, Scope()))
    assert province["sampling_social"].goal == 0.5 and province["sampling_employer"].goal == 0.1
    assert province["sampling_social"].met and province["sampling_employer"].met  # the draw meets the plan's rates


def test_filings_expiring_and_online_theory_recomputed(world, db):
    # Every filing of the small province expires in January 2027: none in 2026.
    assert _by_key(console.gather(2026, Scope()))["filing_expired_assessed"].value is None
    entries = list(db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.expires_on >= date(2027, 1, 1),
                                                                   DirectoryEntry.expires_on <= date(2027, 12, 31))))
    decided = {a.organisation_id
               for a in db.session.scalars(select(Assessment).where(Assessment.decision.is_not(None)))}
    t = _by_key(console.gather(2027, Scope()))["filing_expired_assessed"]
    assert (t.numerator, t.denominator) == (sum(1 for e in entries if e.organisation_id in decided), len(entries)) \
        == (0, 6)
    # Online theory: social organisations with 2026 batches, all sat on a paper of examsys.
    social = [o for o in world.p.orgs if o.kind == OrgKind.SOCIAL]
    batches = list(db.session.scalars(select(Batch).where(Batch.state != BatchState.PLANNED)))
    with_rows = [o for o in social if any(b.organisation_id == o.id for b in batches)]
    online = [o for o in with_rows if all(b.paper_id is not None for b in batches if b.organisation_id == o.id)]
    t = _by_key(console.gather(2026, Scope()))["online_theory"]
    assert (t.numerator, t.denominator) == (len(online), len(with_rows)) == (0, 3)
    assert len(supervision_targets.rows("online_theory", 2026, Scope())) == t.denominator


def test_console_gathers_every_target_per_city_and_organisation(world, drawn, db):
    view = console.overview(2026)
    assert [t.key for t in view.targets] == KEYS
    assert [r.city.code for r in view.cities] == ["C01", "C02"]
    for row in view.cities:
        assert [t.as_json() for t in row.targets] == [t.as_json() for t in console.gather(2026, Scope(row.city.id))]
    assert {r.organisation.code for r in view.organisations} == {o.code for o in world.p.orgs}
    for row in view.organisations:
        assert [t.as_json() for t in row.targets] == \
            [t.as_json() for t in console.gather(2026, Scope(organisation_id=row.organisation.id))]
    # The city's overview lists only its organisations.
    city = console.overview(2026, world.p.cities[1])
    assert {r.organisation.city_id for r in city.organisations} == {world.p.cities[1].id}


def test_leading_counts_the_organisations_own_targets():
    met, short = Target("a", "A", 0.5, 0.6, 6, 10), Target("b", "B", 1.0, 0.5, 1, 2)
    none = Target("c", "C", 1.0, None)
    drawn_only = Target("sampling_social", "S", 0.5, 1.0, 2, 2)
    assert console.leading([met, none]) is True
    assert console.leading([met, short]) is False
    assert console.leading([none]) is False
    assert console.leading([drawn_only]) is False  # the province's sampling is not the organisation's merit


def test_leading_organisation_in_the_world(world, drawn, db):
    # orgs[0]: 3 of 4 proctors certified, no batch online -> not leading; nobody else has staff rows.
    view = console.overview(2026)
    assert view.leaders == []


def test_report_json_shape(app, world, drawn, db):
    result = app.test_cli_runner().invoke(args=["campaign", "report", "--year", "2026", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["year"] == 2026 and data["city"] is None
    assert [t["key"] for t in data["targets"]] == KEYS
    for t in data["targets"] + [t for c in data["cities"] for t in c["targets"]]:
        assert {"key", "label", "value", "goal", "met"} <= set(t)
    assert [c["code"] for c in data["cities"]] == ["C01", "C02"]
    staff = next(t for t in data["targets"] if t["key"] == "staff_trained")
    assert (staff["value"], staff["goal"], staff["met"]) == (pytest.approx(2 / 3), 1.0, False)
    one = app.test_cli_runner().invoke(args=["campaign", "report", "--year", "2026", "--city", "C02", "--json"])
    assert json.loads(one.output)["city"] == "C02"
    text = app.test_cli_runner().invoke(args=["campaign", "report", "--year", "2026"])
    assert "各市评价管理人员年度培训全覆盖" in text.output and "未达标" in text.output
    bad = app.test_cli_runner().invoke(args=["campaign", "report", "--year", "2026", "--city", "NOPE"])
    assert bad.exit_code != 0 and "--city" in bad.output


def test_pages_and_drill_downs_for_the_province(client, world, drawn, db):
    login(client, world.p.admin)
    page = client.get("/campaign/?year=2026").get_data(as_text=True)
    for label in ("各市评价管理人员年度培训全覆盖", "社会培训评价组织批次抽查比例", "<svg", "领航型机构", "东城市",
                  "西江市"):
        assert label in page
    t = _by_key(console.gather(2026, Scope()))
    drill = client.get("/campaign/drill/sampling_social?year=2026").get_data(as_text=True)
    assert drill.count("<tr>") - 1 == t["sampling_social"].denominator
    trained = client.get("/campaign/workforce/drill/trained?year=2026").get_data(as_text=True)
    assert trained.count("<tr>") - 1 == t["staff_trained"].denominator
    certified = client.get(f"/campaign/workforce/drill/certified?year=2026&org={world.p.orgs[0].id}")
    assert certified.get_data(as_text=True).count("<tr>") - 1 == 4
    assert client.get("/campaign/drill/nothing?year=2026").status_code == 404
    assert client.get("/campaign/?year=1999").status_code == 404


def test_tenancy_of_the_console(client, world, db):
    c1, c2 = world.p.cities
    login(client, world.p.city_admin)
    own = client.get("/campaign/?year=2026")
    assert own.status_code == 200 and "东城市" in own.get_data(as_text=True)
    assert client.get(f"/campaign/?year=2026&city={c2.id}").status_code == 403
    other_org = next(o for o in world.p.orgs if o.city_id == c2.id)
    assert client.get(f"/campaign/workforce/drill/certified?org={other_org.id}").status_code == 403
    assert client.get(f"/campaign/drill/online_theory?city={c2.id}").status_code == 403
    assert client.post(f"/campaign/summary.pdf?city={c2.id}").status_code == 403
    other_course = next(c for c in db.session.scalars(select(TrainingCourse)) if c.city_id == c2.id)
    assert client.get(f"/campaign/workforce/courses/{other_course.id}").status_code == 404
    login(client, world.p.org_admins[world.p.orgs[0].id])
    assert client.get("/campaign/?year=2026").status_code == 403
    page = client.get("/campaign/workforce/?year=2026")
    assert page.status_code == 200 and world.certified.display_name in page.get_data(as_text=True)
    assert client.get("/campaign/workforce/courses/new").status_code == 403


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_summary_pdf_reads_back(client, world, drawn, db):
    login(client, world.p.admin)
    resp = pdf_via_job(client, "/campaign/summary.pdf?year=2026")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=resp.data, capture_output=True,
                          check=True).stdout.decode()
    assert "年度工作总结数据" in text
    for t in console.gather(2026, Scope()):
        assert t.label in text
    assert "东城市" in text and "西江市" in text


def test_an_assessed_and_renewed_filing_still_counts_in_its_year(world, db):
    org = world.p.orgs[0]
    row = assessment.assessment_of(org)
    assessment.decide(world.p.admin, row, decision="continue", reasons="继续保留")
    db.session.commit()
    assert db.session.scalar(select(DirectoryEntry.expires_on).where(
        DirectoryEntry.organisation_id == org.id)).year == 2030  # renewed out of 2027
    t = _by_key(console.gather(2027, Scope()))["filing_expired_assessed"]
    assert (t.numerator, t.denominator) == (1, 6)
    rows = supervision_targets.rows("filing_expired_assessed", 2027, Scope(organisation_id=org.id))
    assert [(r.organisation.id, r.hit) for r in rows] == [(org.id, True)]
