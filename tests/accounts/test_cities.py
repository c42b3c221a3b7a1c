"""Cities: every organisation is in one (the province's own entry when none is chosen); the
organisation form sets and changes it."""

from __future__ import annotations

from sqlalchemy import select

from examsys.accounts import services
from examsys.accounts.models import DEFAULT_CITY_CODE, Organisation
from examsys.permissions import Role


def test_the_form_files_an_organisation_in_a_city(db, client, login_as):
    city = services.create_city("C9", "南湖市")
    db.session.commit()
    login_as(Role.PROVINCIAL_ADMIN)
    assert "南湖市" in client.get("/organisations/new").get_data(as_text=True)
    resp = client.post("/organisations/new", data={"code": "NH-1", "name": "南湖评价中心", "kind": "social",
                                                   "city_id": str(city.id), "active": "y"})
    assert resp.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.code == "NH-1"))
    assert org.city_id == city.id
    assert "南湖市" in client.get("/organisations").get_data(as_text=True)


def test_without_a_city_the_province_entry(db, make):
    assert make.org().city.code == DEFAULT_CITY_CODE
