"""Tenancy: another organisation's objects are 404; the provincial admin sees all."""

from examsys.accounts.models import OrgKind
from examsys.permissions import Role


def test_org_admin_gets_404_for_other_orgs_objects(client, make, login_as, db):
    other = make.org()
    foreign_user = make.user(roles=Role.WRITER, org=other)
    foreign_cand = make.candidate(other, name="外机构考生")
    me = login_as(Role.ORG_ADMIN)
    own_cand = make.candidate(me.organisation, name="本机构考生")
    db.session.commit()
    assert client.get(f"/users/{foreign_user.id}").status_code == 404
    assert client.post(f"/users/{foreign_user.id}/password",
                       data={"reset-password": "new-pass-12345"}).status_code == 404
    assert client.get(f"/candidates/{foreign_cand.id}").status_code == 404
    assert client.get(f"/candidates/{own_cand.id}").status_code == 200
    listing = client.get("/candidates").get_data(as_text=True)
    assert "本机构考生" in listing and "外机构考生" not in listing


def test_provincial_admin_sees_all(client, make, login_as, db):
    other = make.org()
    cand = make.candidate(other, name="某机构考生")
    login_as(Role.PROVINCIAL_ADMIN)
    db.session.commit()
    assert client.get(f"/candidates/{cand.id}").status_code == 200
    assert "某机构考生" in client.get("/candidates").get_data(as_text=True)


def test_org_admin_cannot_create_user_in_other_org(client, make, login_as, db):
    other = make.org(OrgKind.EMPLOYER)
    login_as(Role.ORG_ADMIN)
    db.session.commit()
    resp = client.post("/users/new", data={
        "username": "intruder", "display_name": "X", "password": "pass-word-1234",
        "organisation_id": other.id, "roles": ["writer"]})
    # The foreign organisation is not even a choice: the form refuses it, naming no other tenant.
    assert resp.status_code in (200, 404)
    assert other.name not in resp.get_data(as_text=True)
    from sqlalchemy import select

    from examsys.accounts.models import User

    assert db.session.scalar(select(User).where(User.username == "intruder")) is None


def test_org_admin_cannot_grant_provincial_admin(client, make, login_as, db):
    me = login_as(Role.ORG_ADMIN)
    db.session.commit()
    client.post("/users/new", data={
        "username": "sneaky", "display_name": "X", "password": "pass-word-1234",
        "organisation_id": me.organisation_id, "roles": ["provincial_admin"]})
    from sqlalchemy import select

    from examsys.accounts.models import User

    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None
