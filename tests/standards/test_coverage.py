"""Coverage: counts per point by status and type for one organisation and level, in one grouped
query; gaps (points below N, empty ranges, missing types); the X/Y/Z shares; the page."""

from examsys.bank.models import ItemStatus, QType
from examsys.permissions import Role
from examsys.standards import coverage as cov


def _rows(result):
    return {p.point.code: p for p in result.all_points}


def test_counts_by_status_and_type(db, standard, make, make_item):
    user = make.user()
    org = user.organisation
    for qtype in (QType.JUDGE, QType.SINGLE, QType.SINGLE, QType.MULTI):
        make_item(org, user, standard, "B-001", qtype=qtype)
    make_item(org, user, standard, "B-001", status=ItemStatus.SUBMITTED)
    make_item(org, user, standard, "B-001", status=ItemStatus.DRAFT)
    make_item(org, user, standard, "B-001", status=ItemStatus.RETURNED)
    make_item(org, user, standard, "B-001", status=ItemStatus.RETIRED)
    make_item(org, user, standard, "A-01-001", levels=(5,))  # another level
    other = make.user()
    make_item(other.organisation, other, standard, "B-001")  # another organisation
    result = cov.coverage(standard, 4, org)
    rows = _rows(result)
    b1 = rows["B-001"].counts
    assert (b1.approved, b1.review, b1.writing) == (4, 1, 2)
    assert b1.approved_by_type == {QType.JUDGE: 1, QType.SINGLE: 2, QType.MULTI: 1}
    assert rows["B-001"].shortfall == 0
    assert rows["A-01-001"].counts.total == 0 and rows["A-01-001"].shortfall == 4
    assert result.totals.approved == 4
    b = next(r for r in result.all_ranges if r.range.code == "B")
    assert b.counts.total == 7 and b.missing_types == [] and b.approved_share == 100.0
    # B-001 only applies to level 4: it is not listed at level 5.
    assert "B-001" not in _rows(cov.coverage(standard, 5, org))
    assert _rows(cov.coverage(standard, 5, org))["A-01-001"].counts.approved == 1


def test_gaps(db, standard, make, make_item):
    user = make.user()
    org = user.organisation
    org.coverage_min_items = 2
    make_item(org, user, standard, "B-001", qtype=QType.JUDGE)
    make_item(org, user, standard, "B-001", qtype=QType.JUDGE)
    make_item(org, user, standard, "B-002", qtype=QType.SINGLE)
    result = cov.coverage(standard, 4, org)
    assert result.min_items == 2
    below = {p.point.code: p.shortfall for p in result.points_below}
    assert below == {"A-01-001": 2, "A-01-002": 2, "A-02-001": 2, "B-002": 1, "B-003": 2}
    assert [r.range.code for r in result.empty_ranges] == ["A-01", "A-02"]
    b = next(r for r in result.type_gaps if r.range.code == "B")
    assert b.missing_types == [QType.MULTI]
    assert result.shortfall_total == 9 and result.points_met == 1


def test_importance_shares(db, standard, make, make_item):
    user = make.user()
    org = user.organisation
    for _ in range(3):
        make_item(org, user, standard, "B-003")  # Z
    make_item(org, user, standard, "B-001")  # X
    shares = {s.importance.value: s for s in cov.coverage(standard, 4, org).shares}
    assert shares["X"].points == 3 and round(shares["X"].point_share) == 50
    assert shares["Z"].approved_share == 75.0
    warnings = {s.importance.value for s in cov.coverage(standard, 4, org).share_warnings}
    assert warnings == {"X", "Y", "Z"}  # X 25% of the bank vs 50% of points, Y 0% vs 33%, Z 75% vs 17%


def test_one_query_for_the_counts(db, standard, make, make_item, count_queries):
    user = make.user()
    for code in ("B-001", "B-002", "A-01-001"):
        make_item(user.organisation, user, standard, code)
    standard.ranges, standard.points  # noqa: B018 - the tree is loaded by the page anyway
    for rng in standard.ranges:
        rng.children, rng.points  # noqa: B018
    with count_queries() as counter:
        cov.coverage(standard, 4, user.organisation)
    assert counter["n"] == 1


def test_page_for_writer_and_province(client, login_as, db, standard, make, make_item):
    writer = login_as(Role.WRITER)
    make_item(writer.organisation, writer, standard, "B-001", qtype=QType.JUDGE)
    db.session.commit()
    resp = client.get(f"/standards/{standard.id}/coverage?level=4")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "缺口" in html and "差 3 道" in html and "三相异步电动机" in html
    assert "没有任何试题的鉴定范围" in html
    # A writer cannot look at another organisation's bank by passing ?org=.
    other = make.org()
    db.session.commit()
    resp = client.get(f"/standards/{standard.id}/coverage?level=4&org={other.id}")
    assert writer.organisation.name in resp.get_data(as_text=True)


def test_province_picks_the_organisation(client, login_as, db, standard, make, make_item):
    writer = make.user()
    make_item(writer.organisation, writer, standard, "B-001")
    db.session.commit()
    login_as(Role.PROVINCIAL_ADMIN)
    html = client.get(f"/standards/{standard.id}/coverage?level=4&org={writer.organisation_id}").get_data(
        as_text=True)
    assert writer.organisation.name in html and "差 3 道" in html

