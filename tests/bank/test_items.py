"""Items and versions: creation, immutability, edits with optimistic locking, retire, faults,
revision flags, diffs."""

import pytest

from examsys import transaction
from examsys.bank import services, workflow
from examsys.bank.diff import version_diff
from examsys.bank.models import FaultReport, ItemStatus, VersionStatus
from examsys.errors import ConcurrentChange, Conflict, PermissionDenied, ValidationError
from examsys.permissions import Role


def test_create_item_sanitises_and_derives_fields(bank, db):
    content = bank.content("single", stem='<p onclick="x()">频率 <script>bad()</script>（  ）Hz</p>')
    item = bank.item("single", content=content, levels=(4, 5))
    v = item.latest_version
    assert v.number == 1 and v.status == VersionStatus.DRAFT and v.note == "新建试题"
    assert v.content["stem"] == "<p>频率 （  ）Hz</p>"
    assert v.content["reference_answer"] == "" and v.content["scoring_points"] == []
    assert v.content_hash == services.content_hash("single", v.content) and len(v.content_hash) == 64
    assert item.level_mask == (1 << 4) | (1 << 5) and item.levels == [5, 4]
    assert item.search_text == "频率 ( )hz 50 60 100 220"
    assert item.status == ItemStatus.DRAFT and item.active_version_id is None
    [event] = bank.events("item.created", item.id)
    assert event.actor_user_id == bank.writer.id and event.organisation_id == bank.org.id
    assert event.data["version_id"] == v.id


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"difficulty": 6}, "difficulty"),
    ({"points": 0}, "points"),
    ({"levels": (1,)}, "levels"),
    ({"qtype": "matching"}, "qtype"),
])
def test_create_item_refuses_bad_metadata(bank, kwargs, field):
    qtype = kwargs.pop("qtype", "single")
    with pytest.raises(ValidationError) as exc:
        bank.item(qtype, **kwargs)
    assert exc.value.field == field


def test_create_submitted_runs_the_checks(bank):
    with pytest.raises(ValidationError) as exc:
        bank.item("single", content=bank.content("single", key="Z"), status="submitted")
    assert "答案: 答案 Z 不是已有的选项" in exc.value.message
    item = bank.item("single", status="submitted")
    assert item.status == ItemStatus.SUBMITTED and item.latest_version.submitted_at is not None


def test_only_writers_of_the_organisation_create(bank, make):
    with pytest.raises(PermissionDenied):
        bank.item(author=bank.reviewer)
    with pytest.raises(PermissionDenied):
        bank.item(author=make.user(roles=Role.WRITER))  # another organisation


def test_stored_version_content_is_immutable(bank, db):
    item = bank.item()
    db.session.flush()
    item.latest_version.content = {**item.latest_version.content, "key": "B"}
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()


def edit(bank, item, expected, stem="<p>我国电网的工频为（  ）Hz。</p>", note="改写题干", author=None):
    return services.save_edit(author or bank.writer, item, expected_version=expected,
                              content=bank.content("single", stem=stem),
                              point=bank.points["A-01-002"], levels=[4], difficulty=2, points=1, note=note)


def test_save_edit_makes_a_new_version_and_withdraws_the_pending_one(bank):
    item = bank.item()
    first = item.latest_version
    v2 = edit(bank, item, item.version)
    assert v2.number == 2 and item.latest_version is v2 and first.status == VersionStatus.WITHDRAWN
    assert first.content["stem"] == "<p>我国工频交流电的频率为（  ）Hz。</p>"  # untouched
    assert item.point_id == bank.points["A-01-002"].id and item.difficulty == 2  # never approved
    assert "电网" in item.search_text
    [event] = bank.events("item.edited", item.id)
    assert event.data == {"version_id": v2.id, "number": 2, "note": "改写题干", "withdrawn": [first.id]}


def test_edit_needs_a_note(bank):
    item = bank.item()
    with pytest.raises(ValidationError) as exc:
        edit(bank, item, item.version, note="  ")
    assert exc.value.field == "note"


def test_concurrent_edits_conflict_and_nothing_is_lost(bank, db):
    item = bank.item()
    loaded = item.version  # both editors opened the form at this version
    mine = edit(bank, item, loaded, stem="<p>甲的修改（  ）</p>", note="甲")
    with pytest.raises(Conflict, match="已被他人修改"):
        edit(bank, item, loaded, stem="<p>乙的修改（  ）</p>", note="乙")
    assert item.latest_version is mine and len(item.versions) == 2
    assert len(bank.events("item.edited", item.id)) == 1


def test_stale_flush_becomes_conflict(bank, db):
    """Another transaction saved between our read and our flush: the version column catches it,
    and callers (through the unit of work) see a ConcurrentChange (409) that fails the request,
    never the ORM's StaleDataError nor a refusal shown on the form."""
    item = bank.item()
    db.session.execute(db.text("UPDATE items SET version = version + 1 WHERE id = :i"), {"i": item.id})
    with pytest.raises(ConcurrentChange) as caught:
        transaction.attempt(lambda: edit(bank, item, item.version))
    assert caught.value.status == 409 and caught.value.message == transaction.STALE_MESSAGE


def test_editing_an_approved_item_keeps_the_active_version_in_the_bank(bank):
    item = bank.approved()
    active = item.active_version
    v2 = edit(bank, item, item.version)
    assert item.active_version is active and item.status == ItemStatus.APPROVED
    assert item.point_id == bank.points["A-01-001"].id  # the bank still sees the approved version
    workflow.submit(bank.writer, v2)
    workflow.approve(bank.reviewer, v2)
    assert item.active_version is v2 and active.status == VersionStatus.SUPERSEDED
    assert item.point_id == bank.points["A-01-002"].id


def test_retire(bank):
    item = bank.approved()
    pending = edit(bank, item, item.version)
    with pytest.raises(PermissionDenied):
        services.retire(bank.writer, item, reason="过时")
    with pytest.raises(ValidationError):
        services.retire(bank.reviewer, item, reason="")
    services.retire(bank.reviewer, item, reason="标准已修订，题目过时")
    assert item.status == ItemStatus.RETIRED and pending.status == VersionStatus.WITHDRAWN
    assert item.active_version.status == VersionStatus.APPROVED  # papers keep what they pinned
    [event] = bank.events("item.retired", item.id)
    assert event.data == {"reason": "标准已修订，题目过时", "previous_status": "approved"}
    with pytest.raises(Conflict):
        services.retire(bank.reviewer, item, reason="again")
    with pytest.raises(Conflict):
        edit(bank, item, item.version)


def test_report_fault_opens_a_revision_closed_by_the_next_approval(bank, make):
    item = bank.approved()
    report = services.report_fault(bank.reviewer2, item, reason="选项B 与选项D 表述有歧义")
    assert item.needs_revision and item.revision_reason == "选项B 与选项D 表述有歧义"
    services.report_fault(None, item, reason="区分度为负", source="statistics")
    assert item.revision_reason == "选项B 与选项D 表述有歧义\n区分度为负"
    events = bank.events("item.fault_reported", item.id)
    assert [e.data["source"] for e in events] == ["user", "statistics"]
    assert events[0].data["fault_report_id"] == report.id
    with pytest.raises(PermissionDenied):
        services.report_fault(make.user(roles=Role.WRITER), item, reason="外机构")
    with pytest.raises(ValidationError):
        services.report_fault(bank.writer, item, reason=" ")
    v2 = edit(bank, item, item.version)
    workflow.submit(bank.writer, v2)
    workflow.approve(bank.reviewer, v2)
    assert not item.needs_revision and item.revision_reason is None
    assert all(r.resolved_at is not None for r in bank.db.session.query(FaultReport).filter_by(item_id=item.id))


def test_flag_needs_revision(bank):
    items = [bank.approved(), bank.approved("judge")]
    assert services.flag_needs_revision(items, "鉴定点 A-01-001 在 2024 版中已删除") == 2
    assert services.flag_needs_revision(items, "鉴定点 A-01-001 在 2024 版中已删除") == 0
    assert all(i.needs_revision for i in items)
    assert len(bank.events("item.flagged_for_revision")) == 2


def test_version_diff(bank):
    item = bank.item()
    v1 = item.latest_version
    v2 = services.save_edit(
        bank.writer, item, expected_version=item.version,
        content=bank.content("single", stem="<p>我国工频交流电的频率是（  ）Hz。</p>",
                             options=[{"label": "A", "text": "<strong>50</strong>"},
                                      {"label": "B", "text": "60"}, {"label": "C", "text": "120"},
                                      {"label": "D", "text": "220"}, {"label": "E", "text": "380"}],
                             key="A"),
        point=bank.points["A-01-002"], levels=[4], difficulty=3, points=1, note="改")
    diffs = {d.field: d for d in version_diff(v1, v2)}
    assert list(diffs)[:6] == ["stem", "option:A", "option:B", "option:C", "option:D", "option:E"]
    stem = diffs["stem"]
    assert stem.changed and stem.label == "题干"
    [row] = stem.rows
    assert row.kind == "replace"
    assert [s for s in row.old if s[1]] == [("为", True)] and [s for s in row.new if s[1]] == [("是", True)]
    assert diffs["option:A"].format_only and not diffs["option:A"].changed
    assert diffs["option:C"].old == ["100"] and diffs["option:C"].new == ["120"]
    assert diffs["option:E"].rows[0].kind == "insert" and diffs["option:E"].label == "选项E"
    assert diffs["point"].old == ["A-01-001 直流电路"] and diffs["point"].new == ["A-01-002 交流电路"]
    assert not diffs["key"].changed
    changed = [d.field for d in version_diff(v1, v2, only_changed=True)]
    assert changed == ["stem", "option:A", "option:C", "option:E", "point"]
