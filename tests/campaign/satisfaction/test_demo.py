"""The satisfaction demo: every page has something to show for the province, the city and the
organisation, and one social organisation is below the 90 % goal."""

from __future__ import annotations

from sqlalchemy import select

from examsys.accounts.models import Organisation, User
from examsys.campaign.satisfaction import services
from examsys.campaign.satisfaction.models import Questionnaire
from examsys.campaign.targets import Scope
from examsys.demo.loader import DEMO_PASSWORD, load_demo


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302


def test_the_demo_shows_satisfaction(db, frozen_clock, client):
    load_demo()
    db.session.commit()
    [target] = services.targets(2026, Scope())
    assert target.denominator >= 100
    rows = {r.organisation.code: r.count for r in services.overview(2026, Scope()).rows}
    assert rows["SKILL-02"].met is False and rows["SKILL-01"].met is True
    assert any(r.organisation.city.code == "C-DONG" for r in services.overview(2026, Scope()).rows)
    q = db.session.scalar(select(Questionnaire).where(Questionnaire.status == "published"))
    assert q.distributions and services.questionnaire_lines(
        db.session.scalar(select(Organisation).where(Organisation.code == "SKILL-02")))
    assert len(services.interviews_of([o.id for o in db.session.scalars(select(Organisation))])) >= 3
    skill02 = db.session.scalar(select(Organisation).where(Organisation.code == "SKILL-02"))
    detail = services.organisation_detail(skill02, 2026)
    assert detail.comments and detail.answers and len(detail.answers) < len(detail.comments)
    assert len(detail.months) >= 3

    for username in ("province", "cityadmin", "orgadmin", "supervisor"):
        _login(client, username)
        html = client.get("/satisfaction/?year=2026").get_data(as_text=True)
        assert "<svg" in html and "%" in html, username
        assert client.get("/satisfaction/interviews/").status_code == 200
    _login(client, "orgadmin")
    own = db.session.scalar(select(User).where(User.username == "orgadmin")).organisation_id
    assert "考生意见" in client.get(f"/satisfaction/organisations/{own}?year=2026").get_data(as_text=True)
    _login(client, "province")
    assert "<svg" in client.get(f"/satisfaction/questionnaires/{q.id}").get_data(as_text=True)
    assert client.get(f"/satisfaction/q/{q.token}").status_code == 200
