"""The satisfaction figures: the campaign target recomputed from the raw rows, the scopes, the
supervision indicator counting questionnaire scale answers too, and what each role's pages show
(a city administrator never sees another city's organisations)."""

from __future__ import annotations

from sqlalchemy import text

from examsys.accounts.models import OrgKind
from examsys.campaign.satisfaction import services
from examsys.campaign.satisfaction.models import Questionnaire, QuestionnaireResponse
from examsys.campaign.targets import Scope
from examsys.supervision.indicators import compute
from tests.campaign.satisfaction.conftest import login


def _raw(db, kind: str = "social", city_id: int | None = None) -> tuple[int, int]:
    """Satisfied and total answers of `kind` organisations' 2026 batches, from the tables."""
    where = "o.kind = :kind AND b.window_start >= :start AND b.window_start < :end AND b.state != 'planned'"
    params = {"kind": kind, "start": "2025-12-31 16:00:00", "end": "2026-12-31 16:00:00"}
    if city_id is not None:
        where += " AND o.city_id = :city"
        params["city"] = city_id
    hits = total = 0
    for table, extra in (("survey_responses", ""), ("questionnaire_responses", " AND r.satisfied IS NOT NULL")):
        row = db.session.execute(text(
            f"SELECT SUM(CASE WHEN r.satisfied THEN 1 ELSE 0 END), COUNT(*) FROM {table} r "  # noqa: S608
            f"JOIN batches b ON b.id = r.batch_id JOIN organisations o ON o.id = b.organisation_id "
            f"WHERE {where}{extra}"), params).one()
        hits += int(row[0] or 0)
        total += int(row[1])
    return hits, total


def test_the_target_is_recomputed_from_the_raw_rows(sat, db):
    [target] = services.targets(2026, Scope())
    hits, total = _raw(db)
    assert (target.numerator, target.denominator) == (hits, total) == (11, 14)  # employers left out
    assert target.key == "satisfaction" and target.goal == 0.9 and target.met is False
    assert target.endpoint == "satisfaction.index"
    city1 = sat.p.cities[0].id
    [by_city] = services.targets(2026, Scope(city_id=city1))
    assert (by_city.numerator, by_city.denominator) == _raw(db, city_id=city1) == (9, 10)
    [one] = services.targets(2026, Scope(organisation_id=sat.p.orgs[2].id))
    assert one.value is None and one.met is None
    assert services.targets(2025, Scope())[0].denominator == 0


def test_questionnaire_scale_answers_count_in_the_indicator_and_the_target(sat, db):
    org = sat.p.orgs[0]
    before = compute.satisfaction(org.id, 2026)
    assert (before.numerator, before.denominator) == (9, 10)
    entry = sat.entries[sat.p.batches[0].id][0][0]
    for satisfied in (False, None):  # None: a questionnaire without scale questions says nothing
        db.session.add(QuestionnaireResponse(questionnaire_id=_questionnaire(db, sat), roster_entry_id=entry.id,
                                             batch_id=entry.batch_id, organisation_id=org.id, answers={},
                                             satisfied=satisfied))
        db.session.flush()
    after = compute.satisfaction(org.id, 2026)
    assert (after.numerator, after.denominator) == (9, 11)
    [target] = services.targets(2026, Scope())
    assert (target.numerator, target.denominator) == _raw(db) == (11, 15)


def _questionnaire(db, sat) -> int:
    row = Questionnaire(title="问卷", created_by_id=sat.p.admin.id)
    db.session.add(row)
    db.session.flush()
    return row.id


def test_overview_per_organisation_question_and_month(sat):
    view = services.overview(2026, Scope())
    rows = {r.organisation.id: r.count for r in view.rows}
    assert (rows[sat.p.orgs[0].id].hits, rows[sat.p.orgs[0].id].total) == (9, 10)
    assert rows[sat.p.orgs[3].id].total == 3  # employers are shown, not counted in the target
    assert (view.total.hits, view.total.total) == (12, 17)
    assert [m for m, _c in view.months] == [f"2026-{m:02d}" for m in range(1, 12)]  # the year so far
    assert {m: c.total for m, c in view.months if c.total} == {"2026-02": 17}
    assert all(c.total == 17 for _t, c in view.questions)
    detail = services.organisation_detail(sat.p.orgs[1], 2026)
    assert len(detail.batches) == 1 and detail.count.total == 4
    assert [c.comment for c in detail.comments] == ["考场空调太冷", "考场空调太冷"]


def test_each_role_sees_its_own_area(sat, client):
    p = sat.p
    c1 = {o.name for o in p.orgs if o.city_id == p.cities[0].id and o.kind != OrgKind.AUTHORITY}
    c2 = {o.name for o in p.orgs if o.city_id == p.cities[1].id}
    login(client, p.city_admin)
    html = client.get("/satisfaction/?year=2026").get_data(as_text=True)
    assert all(name in html for name in c1) and not any(name in html for name in c2)
    assert "<svg" in html and "90%" in html
    other = p.orgs[1]  # city 2
    assert client.get(f"/satisfaction/organisations/{other.id}?year=2026").status_code == 404
    assert client.get(f"/satisfaction/?city_id={p.cities[1].id}").status_code == 404
    assert client.get(f"/satisfaction/?organisation_id={other.id}").status_code == 404
    assert client.get(f"/satisfaction/organisations/{p.orgs[0].id}?year=2026").status_code == 200

    login(client, p.org_admins[other.id])
    html = client.get("/satisfaction/?year=2026").get_data(as_text=True)
    assert other.name in html and p.orgs[0].name not in html
    assert client.get(f"/satisfaction/organisations/{p.orgs[0].id}").status_code == 404

    login(client, p.admin)
    html = client.get("/satisfaction/?year=2026").get_data(as_text=True)
    assert all(name in html for name in c1 | c2)
    html = client.get(f"/satisfaction/organisations/{other.id}?year=2026").get_data(as_text=True)
    assert "考场空调太冷" in html and "<svg" in html


def test_the_navigation_offers_satisfaction_to_the_roles_concerned(sat, client):
    p = sat.p
    for user in (p.admin, p.city_admin, p.org_admins[p.orgs[0].id], p.supervisors[1]):
        login(client, user)
        assert 'href="/satisfaction/"' in client.get("/").get_data(as_text=True), user.username
