"""Papers in the app: assembling drafts that meet every rule (checked independently), infeasible
blueprints with reasons, freezing (pinned versions, exposure, immutability), replacements,
per-candidate order, the paper pages and their permissions and tenancy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from examsys import transaction
from examsys.assembly import services
from examsys.assembly.checker import check_forms
from examsys.assembly.models import Paper, PaperFormItem, PaperReplacement, PaperStatus
from examsys.assembly.queries import form_view, replacement_candidates
from examsys.audit.models import AuditEvent
from examsys.bank.models import Item
from examsys.errors import Conflict, ValidationError
from examsys.permissions import Role
from tests.assembly.app_factories import blueprint_data, make_bank, make_item, make_standard, new_version


@pytest.fixture
def world(db, make):
    """An exam admin's organisation with a standard, a bank and a saved blueprint."""
    org = make.org()
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    items = make_bank(org, standard, admin)
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard))
    db.session.commit()
    return {"org": org, "admin": admin, "standard": standard, "items": items, "pb": pb}


def _solver_view(pb):
    data = services.snapshot(pb)
    return services.bank_for(data, pb.organisation_id).items, services.to_form_spec(data)


def test_assemble_makes_a_draft_meeting_every_rule(world, db):
    pb = world["pb"]
    paper = services.assemble(world["admin"], pb, seed=11)
    assert paper.status == PaperStatus.DRAFT and [f.label for f in paper.forms] == ["A", "B"]
    bank, spec = _solver_view(pb)
    forms = [{"label": f.label, "items": [fi.item_id for fi in f.items]} for f in paper.forms]
    assert check_forms(bank, spec, forms) == []  # the independent checker, not the stored report
    assert paper.compliance["ok"] is True
    for form in paper.forms:
        for fi in form.items:
            item = db.session.get(Item, fi.item_id)
            assert fi.item_version_id == item.active_version_id
            assert pb.sections[fi.section]["type"] == item.qtype.value
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper.assembled")).one()


def test_retired_and_unapproved_items_are_never_used(world, db):
    org, admin, standard = world["org"], world["admin"], world["standard"]
    from examsys.bank.models import ItemStatus

    retired = make_item(org, standard, admin, "A-01-001", "judge")
    retired.status = ItemStatus.RETIRED
    draft = make_item(org, standard, admin, "A-01-001", "judge", status=ItemStatus.DRAFT)
    other_level = make_item(org, standard, admin, "A-01-001", "judge", levels=(5,))
    ids = {it.id for it in services.bank_for(services.snapshot(world["pb"]), org.id).items}
    assert not ids & {retired.id, draft.id, other_level.id}
    assert len(ids) == len(world["items"])


def test_infeasible_blueprint_names_the_rule_and_the_numbers(world, db):
    pb = world["pb"]
    pb.content_rules = [{"kp_prefix": "A-02", "types": ["multi"], "min": 2, "max": 2}]  # 2 multi on A-02
    pb.sections = [{"type": "judge", "count": 4, "points": 1.0}, {"type": "single", "count": 6, "points": 1.0},
                   {"type": "multi", "count": 2, "points": 1.0}]
    db.session.flush()
    papers_before = db.session.scalar(select(func.count()).select_from(Paper))
    _, error = transaction.attempt(lambda: services.assemble(world["admin"], pb, seed=1))
    assert isinstance(error, services.Infeasible)
    reason = error.reasons[0]
    assert reason["rule"] == "content[0]"
    assert (reason["needed"], reason["available"]) == (4, 2)  # two forms × 2, sharing nothing; bank has 2
    assert "鉴定范围 A-02 的多项选择题" in reason["message"] and "仅 2 道" in reason["message"]
    # The refusal keeps only the audit event of the failed attempt.
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper_blueprint.assembly_failed")).one()
    assert db.session.scalar(select(func.count()).select_from(Paper)) == papers_before


def test_infeasible_page_lists_reasons_without_a_traceback(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    make_bank(admin.organisation, standard, admin, per_point={"judge": 1, "single": 6, "multi": 2})
    pb = services.save_blueprint(admin, admin.organisation, standard, blueprint_data(standard))
    db.session.commit()
    resp = client.post(f"/assembly/blueprints/{pb.id}/assemble")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "无法按细目表组卷" in html and "判断题每份试卷需要 4 道" in html and "仅 6 道" in html
    assert "Traceback" not in html
    assert db.session.scalar(select(Paper.id)) is None
    # The failed attempt is on record (kept through the refusal), and nothing else was written.
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper_blueprint.assembly_failed")).one()
    assert failed.object_id == str(pb.id) and failed.data["reasons"]
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper.assemble")).all()


def test_freeze_pins_versions_and_counts_exposure_once(world, db):
    admin = world["admin"]
    paper = services.assemble(admin, world["pb"], seed=3)
    fi = paper.forms[0].items[0]
    item = db.session.get(Item, fi.item_id)
    pinned = fi.item_version_id
    old_stem = item.active_version.content["stem"]
    used = {i.item_id for f in paper.forms for i in f.items}
    before = {i.id: i.exposure for i in world["items"]}
    services.freeze(admin, paper)
    assert paper.status == PaperStatus.FROZEN and paper.frozen_at is not None
    for it in world["items"]:
        assert it.exposure == before[it.id] + (1 if it.id in used else 0)
    with pytest.raises(Conflict):
        services.freeze(admin, paper)  # a second freeze changes nothing
    assert sum(it.exposure for it in world["items"]) == sum(before.values()) + len(used)

    new_version(item, admin, stem="修订后的题干（  ）。")
    db.session.expire_all()
    row = next(r for r in form_view(paper, paper.forms[0]).rows if r.form_item.id == fi.id)
    assert row.version.id == pinned and row.version.content["stem"] == old_stem


def test_freeze_refuses_a_draft_whose_items_changed(world, db):
    admin = world["admin"]
    paper = services.assemble(admin, world["pb"], seed=3)
    item = db.session.get(Item, paper.forms[0].items[0].item_id)
    new_version(item, admin, stem="组卷后才修订的题干")
    with pytest.raises(Conflict) as exc:
        services.freeze(admin, paper)
    assert "已修订或停用" in exc.value.message and str(item.id) in exc.value.message


def test_frozen_form_items_cannot_be_updated_or_deleted(world, db):
    paper = services.assemble(world["admin"], world["pb"], seed=5)
    services.freeze(world["admin"], paper)
    db.session.commit()
    fi = db.session.get(PaperFormItem, paper.forms[0].items[0].id)
    fi.points = 5.0
    with pytest.raises(ValueError, match="frozen"):
        db.session.flush()
    db.session.rollback()
    fi = db.session.get(PaperFormItem, paper.forms[0].items[0].id)
    db.session.delete(fi)
    with pytest.raises(ValueError, match="frozen"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Conflict):
        services.discard(world["admin"], db.session.get(Paper, paper.id))


def test_replacement_is_recorded_audited_and_applied(world, db):
    admin = world["admin"]
    paper = services.assemble(admin, world["pb"], seed=5)
    fi = paper.forms[0].items[0]
    with pytest.raises(ValidationError):  # drafts are re-assembled, not patched
        services.replace_item(admin, paper, fi, db.session.get(Item, fi.item_id).active_version, reason="x")
    services.freeze(admin, paper)
    candidates = replacement_candidates(paper, fi)
    assert candidates and all(c.qtype.value == world["pb"].sections[fi.section]["type"] for c in candidates)
    on_form = {i.item_id for f in paper.forms for i in f.items}
    assert not on_form & {c.id for c in candidates}  # none from any form of the paper
    new = candidates[0].active_version
    with pytest.raises(ValidationError) as exc:
        services.replace_item(admin, paper, fi, new, reason="  ")
    assert exc.value.field == "reason"
    other_type = next(it for it in world["items"] if it.qtype.value != new.qtype.value and it.id not in on_form)
    with pytest.raises(ValidationError, match="题型"):
        services.replace_item(admin, paper, fi, other_type.active_version, reason="题干有误")
    rep = services.replace_item(admin, paper, fi, new, reason="题干表述有歧义")
    assert db.session.scalars(select(PaperReplacement)).one() is rep
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper.item_replaced")).one()
    assert event.data["old_version_id"] == fi.item_version_id and event.data["new_version_id"] == new.id
    assert event.data["reason"] == "题干表述有歧义"
    assert fi.item_version_id != new.id  # the pinned row itself never changes
    row = next(r for r in form_view(paper, paper.forms[0]).rows if r.form_item.id == fi.id)
    assert row.version.id == new.id and row.replacement is rep
    with pytest.raises(ValidationError, match="已在本试卷"):
        services.replace_item(admin, paper, paper.forms[0].items[1], new, reason="重复")
    b_item = db.session.get(Item, paper.forms[1].items[-1].item_id)
    with pytest.raises(ValidationError, match="已在本试卷"):  # would add to what A and B share
        services.replace_item(admin, paper, paper.forms[0].items[-1], b_item.active_version, reason="x")


def test_candidate_order_is_reproducible_from_the_seed(world):
    paper = services.assemble(world["admin"], world["pb"], seed=5)
    form = paper.forms[0]
    first = services.candidate_order(form, 1234)
    assert first == services.candidate_order(form, 1234)
    assert first != services.candidate_order(form, 4321)
    assert sorted(o["form_item_id"] for o in first) == sorted(fi.id for fi in form.items)
    sections = [o["section"] for o in first]
    assert sections == sorted(sections)  # items shuffle within their section only
    single = next(o for o in first if o["option_order"])
    assert sorted(single["option_order"]) == list("ABCD")


# --- pages --------------------------------------------------------------------------------------


def _world_for(user, db):
    standard = make_standard()
    make_bank(user.organisation, standard, user)
    pb = services.save_blueprint(user, user.organisation, standard, blueprint_data(standard))
    db.session.commit()
    return pb


def test_assemble_inspect_freeze_through_the_pages(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    resp = client.post(f"/assembly/blueprints/{pb.id}/assemble")
    assert resp.status_code == 302
    paper = db.session.scalars(select(Paper)).one()
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "合规报告" in html and "全部规则满足" in html and "A卷" in html and "B卷" in html
    assert "鉴定范围 B-01 继电控制（单项选择题）" in html
    assert client.post(f"/assembly/papers/{paper.id}/freeze").status_code == 302
    db.session.expire_all()
    assert db.session.get(Paper, paper.id).status == PaperStatus.FROZEN
    html = client.get(f"/assembly/papers/{paper.id}").get_data(as_text=True)
    assert "已定稿" in html and "替换" in html
    resp = client.post(f"/assembly/papers/{paper.id}/discard", follow_redirects=True)
    assert "已定稿的试卷不能删除" in resp.get_data(as_text=True)


def test_reassemble_replaces_the_draft_and_discard_deletes_it(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    client.post(f"/assembly/blueprints/{pb.id}/assemble")
    first = db.session.scalars(select(Paper)).one()
    first_id, first_seed = first.id, first.seed
    resp = client.post(f"/assembly/papers/{first_id}/reassemble")
    assert resp.status_code == 302
    db.session.expire_all()
    second = db.session.scalars(select(Paper)).one()
    assert second.id != first_id and second.seed != first_seed
    assert client.post(f"/assembly/papers/{second.id}/discard").status_code == 302
    assert db.session.scalar(select(Paper.id)) is None


def test_replace_page_records_a_replacement(client, login_as, db):
    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    paper = services.assemble(admin, pb, seed=2)
    services.freeze(admin, paper)
    db.session.commit()
    fi = paper.forms[1].items[0]
    url = f"/assembly/papers/{paper.id}/items/{fi.id}/replace"
    page = client.get(url)
    assert page.status_code == 200 and "替换试题" in page.get_data(as_text=True)
    new = replacement_candidates(paper, fi)[0].active_version
    resp = client.post(url, data={"version_id": new.id, "reason": ""})
    assert resp.status_code == 422 and "请填写替换原因" in resp.get_data(as_text=True)
    resp = client.post(url, data={"version_id": new.id, "reason": "答案有争议"})
    assert resp.status_code == 302
    html = client.get(f"/assembly/papers/{paper.id}").get_data(as_text=True)
    assert "已替换" in html and "答案有争议" in html


def test_papers_of_another_organisation_are_not_found(client, login_as, make, db):
    owner = make.user(roles=Role.EXAM_ADMIN)
    pb = _world_for(owner, db)
    paper = services.assemble(owner, pb, seed=2)
    db.session.commit()
    login_as(Role.EXAM_ADMIN)
    assert client.get(f"/assembly/papers/{paper.id}").status_code == 404
    for url in (f"/assembly/papers/{paper.id}/forms/A/paper.pdf", f"/assembly/papers/{paper.id}/forms/A/key.pdf",
                f"/assembly/papers/{paper.id}/compliance.pdf"):
        assert client.post(url).status_code == 404, url
    assert client.post(f"/assembly/papers/{paper.id}/freeze").status_code == 404
    assert paper.name not in client.get("/assembly/papers").get_data(as_text=True)


def test_paper_permissions(client, login_as, make, db):
    org = make.org()
    owner = make.user(roles=Role.EXAM_ADMIN, org=org)
    pb = _world_for(owner, db)
    paper = services.assemble(owner, pb, seed=2)
    db.session.commit()
    login_as(Role.ORG_ADMIN, org=org)  # may view papers, not assemble or manage blueprints
    assert client.get(f"/assembly/papers/{paper.id}").status_code == 200
    assert client.post(f"/assembly/papers/{paper.id}/freeze").status_code == 403
    assert client.get(f"/assembly/blueprints/{pb.id}").status_code == 403
    client.post("/logout")
    login_as(Role.WRITER, org=org)
    assert client.get(f"/assembly/papers/{paper.id}").status_code == 403
    assert client.post(f"/assembly/papers/{paper.id}/forms/A/paper.pdf").status_code == 403


def test_a_paper_kept_as_a_record_without_sections_opens(client, login_as, db):
    """Papers entered as records of past sittings (the demo's certificate-data batches) keep only
    the pass mark and duration in their snapshot; their page opened with a 500 (KeyError)."""
    from examsys.assembly.models import PaperForm

    admin = login_as(Role.EXAM_ADMIN)
    pb = _world_for(admin, db)
    paper = Paper(organisation_id=pb.organisation_id, blueprint_id=pb.id, standard_id=pb.standard_id,
                  level=pb.level, name="往期试卷记录", status=PaperStatus.FROZEN, seed=1,
                  blueprint_snapshot={"pass_mark": 60.0, "total_points": 100, "duration_minutes": 90},
                  created_by_id=admin.id)
    db.session.add(paper)
    db.session.flush()
    db.session.add(PaperForm(paper_id=paper.id, label="A"))
    db.session.commit()
    resp = client.get(f"/assembly/papers/{paper.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "往期试卷记录" in html and "没有合规报告" in html
    assert "合规报告 PDF" not in html
