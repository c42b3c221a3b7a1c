"""Concurrent changes are answered with 409 and a Chinese message, never a 500 or a lost update,
for every model with an optimistic lock (version_id_col) outside delivery, through its page: the
form carried an old version (someone saved in between), or someone committed a change after the
request loaded the row (the flush finds the version moved on). Two creates racing past the
uniqueness check get 409 as well. Nothing of the refused request is stored.

Delivery's models (Batch, Attempt) are covered in test_conflicts_delivery.py."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image
from sqlalchemy import func, select

from examsys import transaction
from examsys.accounts import services as accounts_services
from examsys.accounts.models import Candidate, Organisation, OrgKind, User
from examsys.assembly import services as assembly
from examsys.assembly.models import Paper, PaperBlueprint, PaperStatus
from examsys.audit.models import AuditEvent
from examsys.bank.models import Item, ItemStatus
from examsys.extensions import db as _db
from examsys.permissions import Role
from examsys.standards import services as standards
from examsys.standards.models import Standard
from tests.assembly.test_app_blueprints import _form as blueprint_form
from tests.assembly.test_app_papers import _world_for
from tests.bank import conftest as bank_conftest
from tests.bank.test_views import _editor_data
from tests.concurrency import assert_conflict_page, changed_underneath, created_underneath
from tests.factories import PASSWORD

_codes = itertools.count(1)
bank = bank_conftest.bank  # the bank's world fixture


def _events() -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditEvent))


def _fresh(model, row_id):
    _db.session.expire_all()
    return _db.session.get(model, row_id)


def test_every_versioned_model_is_covered(app):
    """A new optimistic lock needs a conflict test here, in test_conflicts_delivery.py or (the
    indicator system's drafts) in tests/supervision/test_indicator_versions.py."""
    versioned = {m.class_.__name__ for m in _db.Model.registry.mappers if m.version_id_col is not None}
    assert versioned == {"User", "Candidate", "Standard", "Item", "PaperBlueprint", "Paper", "Batch", "Attempt",
                         "IndicatorSetVersion"}


# --- accounts ------------------------------------------------------------------------------------


def _user_form(user: User, version: int) -> dict:
    return {"version": str(version), "username": user.username, "display_name": "改名",
            "organisation_id": str(user.organisation_id), "roles": [r.value for r in user.roles],
            "active": "y", "submit": "保存"}


def test_user_saved_from_a_stale_form_is_409(client, login_as, make, db):
    admin = login_as(Role.ORG_ADMIN)
    user = make.user(roles=Role.WRITER, org=admin.organisation)
    db.session.commit()
    seen = user.version
    assert client.get(f"/users/{user.id}").status_code == 200
    user.display_name = "别人先改了"
    db.session.commit()
    before = _events()
    resp = client.post(f"/users/{user.id}", data=_user_form(user, seen))
    assert resp.status_code == 409 and "该用户已被他人修改" in resp.get_data(as_text=True)
    assert _fresh(User, user.id).display_name == "别人先改了" and _events() == before


def test_user_changed_while_saving_is_409(client, login_as, make, db):
    admin = login_as(Role.ORG_ADMIN)
    user = make.user(roles=Role.WRITER, org=admin.organisation)
    db.session.commit()
    before = _events()
    with changed_underneath(User, user.id) as fired:
        resp = client.post(f"/users/{user.id}", data=_user_form(user, user.version))
    assert fired and resp.status_code == 409
    assert_conflict_page(resp)
    assert _fresh(User, user.id).display_name != "改名" and _events() == before


def test_password_reset_of_a_user_changed_meanwhile_is_409(client, login_as, make, db):
    admin = login_as(Role.ORG_ADMIN)
    user = make.user(roles=Role.WRITER, org=admin.organisation)
    db.session.commit()
    old_hash, before = user.password_hash, _events()
    with changed_underneath(User, user.id) as fired:
        resp = client.post(f"/users/{user.id}/password", data={"reset-password": "NewPassw0rd-123"})
    assert fired
    assert_conflict_page(resp)
    assert _fresh(User, user.id).password_hash == old_hash and _events() == before


def test_candidate_photo_of_a_candidate_changed_meanwhile_is_409(client, login_as, make, db):
    admin = login_as(Role.ORG_ADMIN)
    cand = make.candidate(admin.organisation)
    db.session.commit()
    buf = io.BytesIO()
    Image.new("RGB", (40, 50), (200, 180, 160)).save(buf, "PNG")
    before = _events()
    with changed_underneath(Candidate, cand.id) as fired:
        resp = client.post(f"/candidates/{cand.id}/photo", data={"photo": (io.BytesIO(buf.getvalue()), "me.png")},
                           content_type="multipart/form-data")
    assert fired
    assert_conflict_page(resp)
    assert _fresh(Candidate, cand.id).photo_sha256 is None and _events() == before


def test_two_organisations_created_with_the_same_code_at_once_is_409(client, login_as, db):
    login_as(Role.PROVINCIAL_ADMIN)
    code = f"RACE{next(_codes):03d}"
    city = accounts_services.default_city()  # an inserted row names its city itself
    with created_underneath(Organisation, code=code, name="先到的机构", kind=OrgKind.SOCIAL, active=True,
                            city_id=city.id) as fired:
        resp = client.post("/organisations/new", data={"code": code, "name": "后到的机构", "kind": "social"})
    assert fired
    assert_conflict_page(resp, transaction.DUPLICATE_MESSAGE)
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.code == code)) == 0


# --- standards -----------------------------------------------------------------------------------


def _standard(db) -> Standard:
    std = standards.create_standard(f"9-99-{next(_codes):02d}-01", "电工", "2018", [5, 4])
    db.session.commit()
    return std


def _standard_form(std: Standard, version: int) -> dict:
    return {"version": str(version), "code": std.code, "name": "电工（修订）", "edition": std.edition,
            "levels": ["5", "4"]}


def test_standard_saved_from_a_stale_form_is_409(client, login_as, db):
    login_as(Role.PROVINCIAL_ADMIN)
    std = _standard(db)
    seen = std.version
    std.name = "别人先改了"
    db.session.commit()
    resp = client.post(f"/standards/{std.id}/edit", data=_standard_form(std, seen))
    assert resp.status_code == 409 and "该职业标准已被他人修改" in resp.get_data(as_text=True)
    assert _fresh(Standard, std.id).name == "别人先改了"


def test_standard_changed_while_saving_is_409(client, login_as, db):
    login_as(Role.PROVINCIAL_ADMIN)
    std = _standard(db)
    before = _events()
    with changed_underneath(Standard, std.id) as fired:
        resp = client.post(f"/standards/{std.id}/edit", data=_standard_form(std, std.version))
    assert fired
    assert_conflict_page(resp)
    assert _fresh(Standard, std.id).name == "电工" and _events() == before


# --- bank ----------------------------------------------------------------------------------------


def _login(client, user):
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


@pytest.fixture
def item(bank, db):
    it = bank.item("single", status="draft")
    db.session.commit()
    return it


def test_item_retired_while_someone_changes_it_is_409(client, bank, item, db):
    _login(client, bank.reviewer)
    before = _events()
    with changed_underneath(Item, item.id) as fired:
        resp = client.post(f"/bank/items/{item.id}/retire", data={"reason": "题目过时"})
    assert fired
    assert_conflict_page(resp)
    assert _fresh(Item, item.id).status != ItemStatus.RETIRED and _events() == before


def test_item_edit_from_a_stale_form_is_409(client, bank, item, db):
    _login(client, bank.writer)
    seen = item.version
    assert client.post(f"/bank/items/{item.id}/edit", data=_editor_data(bank, expected_version=str(seen),
                                                                        note="先到的修改")).status_code == 302
    versions = len(_fresh(Item, item.id).versions)
    resp = client.post(f"/bank/items/{item.id}/edit", data=_editor_data(bank, expected_version=str(seen),
                                                                        note="后到的修改"))
    assert resp.status_code == 409 and "已被他人修改" in resp.get_data(as_text=True)
    assert len(_fresh(Item, item.id).versions) == versions


def test_item_edited_while_someone_changes_it_is_409(client, bank, item, db):
    _login(client, bank.writer)
    versions, before = len(item.versions), _events()
    with changed_underneath(Item, item.id) as fired:
        resp = client.post(f"/bank/items/{item.id}/edit", data=_editor_data(
            bank, expected_version=str(item.version), note="并发修改"))
    assert fired
    assert_conflict_page(resp)
    assert len(_fresh(Item, item.id).versions) == versions and _events() == before


# --- assembly ------------------------------------------------------------------------------------


def test_blueprint_saved_from_a_stale_form_is_409(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    seen = pb.version
    pb.name = "别人先改的细目表"
    db.session.commit()
    resp = client.post(f"/assembly/blueprints/{pb.id}", data=blueprint_form(assembly.snapshot(pb),
                                                                             version=str(seen)))
    assert resp.status_code == 409 and "该细目表已被他人修改" in resp.get_data(as_text=True)
    assert _fresh(PaperBlueprint, pb.id).name == "别人先改的细目表"


def test_blueprint_changed_while_saving_is_409(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    data = assembly.snapshot(pb) | {"name": "我的修改"}
    before = _events()
    with changed_underneath(PaperBlueprint, pb.id) as fired:
        resp = client.post(f"/assembly/blueprints/{pb.id}", data=blueprint_form(data, version=str(pb.version)))
    assert fired
    assert_conflict_page(resp)
    assert _fresh(PaperBlueprint, pb.id).name != "我的修改" and _events() == before


@pytest.fixture
def draft(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    assert client.post(f"/assembly/blueprints/{pb.id}/assemble").status_code == 302
    return db.session.scalars(select(Paper).where(Paper.blueprint_id == pb.id)).one()


def test_paper_frozen_while_someone_changes_it_is_409(client, draft, db):
    before = _events()
    with changed_underneath(Paper, draft.id) as fired:
        resp = client.post(f"/assembly/papers/{draft.id}/freeze")
    assert fired
    assert_conflict_page(resp)
    assert _fresh(Paper, draft.id).status == PaperStatus.DRAFT and _events() == before


def test_paper_discarded_while_someone_changes_it_is_409(client, draft, db):
    before = _events()
    with changed_underneath(Paper, draft.id) as fired:
        resp = client.post(f"/assembly/papers/{draft.id}/discard")
    assert fired
    assert_conflict_page(resp)
    assert _fresh(Paper, draft.id) is not None and _events() == before
