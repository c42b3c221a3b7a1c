"""The workforce pages as a city administrator uses them: a course with a bad field gets the
field's Chinese message and nothing is written; a good one, then its attendance; a qualification
and a dispatch through the forms; an organisation's administrator reads but records nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from examsys.accounts.models import CertificateKind
from examsys.campaign.workforce.models import Dispatch, TrainingCourse
from tests.supervision.conftest import login


def test_city_admin_records_a_course_and_its_attendance(client, world, db):
    p = world.p
    c1 = p.cities[0]
    login(client, p.city_admin)
    form = client.get("/campaign/workforce/courses/new").get_data(as_text=True)
    assert "西江市" not in form  # only the own city is offered
    count = db.session.scalar(select(func.count(TrainingCourse.id)))
    bad = client.post("/campaign/workforce/courses/new", data={"audience": "management", "city_id": c1.id,
                                                               "title": "二期培训", "held_on": "2026-10-08",
                                                               "hours": ""})
    assert bad.status_code == 200 and "请填写学时" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(TrainingCourse.id))) == count
    ok = client.post("/campaign/workforce/courses/new", data={"audience": "management", "city_id": c1.id,
                                                              "title": "二期培训", "held_on": "2026-10-08",
                                                              "hours": "4"})
    assert ok.status_code == 303
    course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.title == "二期培训"))
    page = client.get(f"/campaign/workforce/courses/{course.id}").get_data(as_text=True)
    assert p.city_admin.display_name in page and world.city2_admin.display_name not in page
    saved = client.post(f"/campaign/workforce/courses/{course.id}/attendance", data={"present": [p.city_admin.id]})
    assert saved.status_code == 303
    db.session.refresh(course)
    assert {(a.user_id, a.attended) for a in course.attendance} == {(p.city_admin.id, True),
                                                                     (world.city1_admin2.id, False)}
    # Another city's course id posted to: refused, nothing written.
    other = db.session.scalar(select(TrainingCourse).where(TrainingCourse.city_id == p.cities[1].id))
    assert client.post(f"/campaign/workforce/courses/{other.id}/attendance", data={}).status_code == 404


def test_qualification_and_dispatch_through_the_forms(client, world, db):
    p = world.p
    login(client, p.city_admin)
    resp = client.post("/campaign/workforce/qualifications/new", data={
        "user_id": world.uncertified.id, "kind": "examiner", "number": "KPY-9", "qualified_on": "2026-11-01",
        "valid_until": "2026-10-01"})
    assert resp.status_code == 200 and "有效期至须晚于认定日期" in resp.get_data(as_text=True)
    resp = client.post("/campaign/workforce/qualifications/new", data={
        "user_id": world.uncertified.id, "kind": "examiner", "number": "KPY-9", "qualified_on": "2026-11-01",
        "valid_until": "2029-10-31"})
    assert resp.status_code == 303
    db.session.refresh(world.uncertified)
    assert world.uncertified.valid_certificate(CertificateKind.EXAMINER, world.uncertified.certificates[0].valid_until)
    upcoming = p.add_batches(p.orgs[0], 1, p.batches[0].window_start.replace(month=12, day=20))[0]
    db.session.commit()
    resp = client.post("/campaign/workforce/dispatches/new", data={
        "user_id": world.uncertified.id, "kind": "examiner", "batch_id": upcoming.id, "note": "派遣"})
    assert resp.status_code == 303
    assert db.session.scalar(select(Dispatch).where(Dispatch.batch_id == upcoming.id)).user_id == world.uncertified.id
    page = client.get("/campaign/workforce/qualifications?year=2026").get_data(as_text=True)
    assert "KPY-9" in page and "派遣" in page


def test_an_organisation_admin_reads_but_records_nothing(client, world, db):
    p = world.p
    login(client, p.org_admins[p.orgs[0].id])
    for path in ("/campaign/workforce/courses/new", "/campaign/workforce/qualifications/new",
                 "/campaign/workforce/dispatches/new"):
        assert client.get(path).status_code == 403
    assert client.get("/campaign/workforce/warnings").status_code == 200
    assert client.get("/campaign/workforce/qualifications").status_code == 200
    course = db.session.scalar(select(TrainingCourse))
    assert client.get(f"/campaign/workforce/courses/{course.id}").status_code == 404
