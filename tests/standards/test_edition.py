"""New editions: the mapping decides which items move and which are flagged needs_revision (with
the reason), the old edition is superseded, one audit event; the worklist and the upload flow."""

import copy
import io

import pytest
from sqlalchemy import select

from examsys import signals
from examsys.audit.models import AuditEvent
from examsys.bank import services as bank
from examsys.bank.models import Item, ItemStatus
from examsys.errors import Conflict, ValidationError
from examsys.permissions import Role
from examsys.standards import services, treeimport
from examsys.standards.models import PointChange, PointMapping, StandardStatus
from tests.standards.conftest import point, xlsx


@pytest.fixture
def new_tree(small_tree):
    tree = copy.deepcopy(small_tree)
    b = tree["ranges"][1]
    b["points"][0]["name"] = "三相异步电动机的结构与工作原理"  # B-001 changed (same code, new name)
    b["points"][1]["code"] = "B-012"  # B-002 renumbered: mapped below as same
    del b["points"][2]  # B-003 removed
    b["points"].append({"code": "B-004", "name": "变频器", "importance": "X", "levels": [4]})
    return tree


def test_edition_moves_and_flags(db, standard, new_tree, make, make_item):
    user = make.user()
    org = user.organisation
    same = make_item(org, user, standard, "A-01-001")
    renumbered = make_item(org, user, standard, "B-002")
    changed = make_item(org, user, standard, "B-001")
    removed = make_item(org, user, standard, "B-003", status=ItemStatus.SUBMITTED)
    retired = make_item(org, user, standard, "B-003", status=ItemStatus.RETIRED)
    unplaced = make_item(org, user, standard, None)
    ids = {k: v.id for k, v in locals().items() if isinstance(v, Item)}
    same_version = same.version
    old_b003 = point(standard, "B-003")
    mapping = {"B-002": services.MappingEntry("B-012", PointChange.SAME),
               "B-003": services.MappingEntry(None, PointChange.REMOVED, "内容并入 B-004")}
    result = services.create_edition(standard, "2025", new_tree, mapping)
    new = result.standard
    db.session.flush()
    item = {k: db.session.get(Item, i) for k, i in ids.items()}

    assert standard.status == StandardStatus.SUPERSEDED and new.supersedes_id == standard.id
    assert new.code == standard.code and new.edition == "2025" and new.status == StandardStatus.CURRENT
    assert sorted(result.flagged) == sorted([ids["changed"], ids["removed"]])
    assert (item["same"].standard_id, item["same"].point_id) == (new.id, point(new, "A-01-001").id)
    assert item["renumbered"].point_id == point(new, "B-012").id and not item["renumbered"].needs_revision
    assert item["changed"].point_id == point(new, "B-001").id and item["changed"].needs_revision
    assert item["changed"].revision_reason == "职业标准 2018→2025 版：鉴定点 B-001 内容已变更"
    assert item["removed"].standard_id == standard.id and item["removed"].point_id == old_b003.id
    assert item["removed"].revision_reason == "职业标准 2018→2025 版：鉴定点 B-003 已删除（内容并入 B-004）"
    assert not item["retired"].needs_revision
    assert item["unplaced"].standard_id == new.id
    assert item["same"].version == same_version + 1  # bumped: an editor holding the old state gets a conflict

    rows = db.session.scalars(select(PointMapping).where(
        PointMapping.old_point_id.in_([p.id for p in standard.points]))).all()
    assert {(r.old_point.code, r.change, r.new_point.code if r.new_point else None) for r in rows} >= {
        ("B-001", PointChange.CHANGED, "B-001"), ("B-002", PointChange.SAME, "B-012"),
        ("B-003", PointChange.REMOVED, None), ("A-01-001", PointChange.SAME, "A-01-001")}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "standard.edition_created",
                                                         AuditEvent.object_id == str(new.id))).all()
    assert len(events) == 1 and events[0].data["mapping"] == {"same": 4, "changed": 1, "removed": 1}


def test_the_bank_flags_and_moves_the_items_with_one_event_each(db, standard, new_tree, make, make_item):
    """The bank writes the items of a new edition (bank.services.carry_over): each flagged item
    gets an item.flagged_for_revision event, each item only moved an item.edition_changed event; a reason
    piles up under an earlier one on its own line, as when the bank flags an item itself."""
    user = make.user()
    org = user.organisation
    same = make_item(org, user, standard, "A-01-001")
    changed = make_item(org, user, standard, "B-001")
    removed = make_item(org, user, standard, "B-003")
    bank.flag_needs_revision([changed], "统计：难度异常")
    received = []

    def on_edition(sender, **kwargs):
        received.append((sender, kwargs))

    with signals.standard_edition_created.connected_to(on_edition):
        result = services.create_edition(standard, "2025", new_tree, {
            "B-002": services.MappingEntry("B-012", PointChange.SAME),
            "B-003": services.MappingEntry(None, PointChange.REMOVED)})
    assert received == [(result.standard, {"previous": standard})]
    db.session.expire_all()
    assert db.session.get(Item, changed.id).revision_reason == \
        "统计：难度异常\n职业标准 2018→2025 版：鉴定点 B-001 内容已变更"
    events = {(e.object_id, e.action): e.data for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "item", AuditEvent.action.in_(["item.flagged_for_revision", "item.edition_changed"]),
        AuditEvent.object_id.in_([str(same.id), str(changed.id), str(removed.id)])))}
    flagged = "item.flagged_for_revision"
    assert set(events) == {(str(changed.id), flagged), (str(removed.id), flagged),
                           (str(same.id), "item.edition_changed")}
    assert events[(str(removed.id), flagged)]["reason"] == "职业标准 2018→2025 版：鉴定点 B-003 已删除"
    assert events[(str(same.id), "item.edition_changed")]["to_standard_id"] == result.standard.id
    flag_events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "item.flagged_for_revision", AuditEvent.object_id == str(changed.id))).all()
    assert len(flag_events) == 2  # the bank's own flag, then the new edition's


def test_edition_refusals(db, standard, new_tree):
    with pytest.raises(ValidationError, match="B-999 .*不在新版细目表中"):
        services.create_edition(standard, "2025", new_tree,
                                {"B-002": services.MappingEntry("B-999", PointChange.SAME)})
    with pytest.raises(ValidationError, match="标记为删除"):
        services.create_edition(standard, "2025", new_tree,
                                {"B-002": services.MappingEntry("B-012", PointChange.REMOVED)})
    with pytest.raises(Conflict):
        services.create_edition(standard, "2018", new_tree)
    services.create_edition(standard, "2025", new_tree)
    with pytest.raises(Conflict, match="已被替代"):
        services.create_edition(standard, "2026", new_tree)


def test_suggested_mapping(db, standard, new_tree):
    clean, _ = treeimport.validate_tree(new_tree)
    m = services.suggest_mapping(standard, clean)
    assert m["A-01-001"].change == PointChange.SAME
    assert m["B-001"].change == PointChange.CHANGED
    assert m["B-002"].change == PointChange.REMOVED  # renumbered: the user must map it by hand


def test_worklist_shows_own_organisation_only(client, login_as, db, standard, new_tree, make, make_item):
    writer = login_as(Role.WRITER)
    mine = make_item(writer.organisation, writer, standard, "B-003")
    other = make.user()
    theirs = make_item(other.organisation, other, standard, "B-003")
    services.create_edition(standard, "2025", new_tree)
    db.session.commit()
    html = client.get("/standards/worklist").get_data(as_text=True)
    assert "职业标准 2018→2025 版：鉴定点 B-003 已删除" in html
    assert f"#{mine.id}<" in html and f"#{theirs.id}<" not in html


def test_edition_upload_map_confirm(client, login_as, db, standard, new_tree, make, make_item):
    login_as(Role.PROVINCIAL_ADMIN)
    writer = make.user()
    item = make_item(writer.organisation, writer, standard, "B-002")
    db.session.commit()
    tree_file = treeimport.emit_tree_xlsx(new_tree)
    map_file = xlsx([("B-002", "B-012", "相同", "")], header=["原鉴定点代码", "新鉴定点代码", "变更类型", "说明"])
    resp = client.post(f"/standards/{standard.id}/edition", data={
        "edition": "2025", "file": (io.BytesIO(tree_file), "tree2025.xlsx"),
        "mapping": (io.BytesIO(map_file), "map.xlsx")}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "核对鉴定点对应关系" in html
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    b002 = point(standard, "B-002")
    assert f'name="target-{b002.id}" value="B-012"' in html
    form = {"payload": payload}
    for p in standard.points:
        form[f"change-{p.id}"] = "same" if p.code in ("A-01-001", "A-01-002", "A-02-001", "B-002") else (
            "changed" if p.code == "B-001" else "removed")
        form[f"target-{p.id}"] = {"B-002": "B-012", "B-003": ""}.get(p.code, p.code)
    form[f"change-{b002.id}"] = "changed"
    form[f"note-{b002.id}"] = "编号调整，内容补充了温升要求"
    resp = client.post(f"/standards/{standard.id}/edition/confirm", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert item.needs_revision
    assert item.revision_reason == "职业标准 2018→2025 版：鉴定点 B-002 已变更为 B-012（编号调整，内容补充了温升要求）"
