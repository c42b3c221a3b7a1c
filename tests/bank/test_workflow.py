"""Review into the bank: the full workflow, the review policy, two approvals, batch approval."""

import pytest

from examsys import permissions, signals
from examsys.bank import services, workflow
from examsys.bank.models import ItemStatus, ReviewDecision, VersionStatus
from examsys.errors import Conflict, PermissionDenied, ValidationError
from examsys.permissions import Role


def test_full_workflow(bank, frozen_clock):
    item = bank.item("multi")
    v1 = item.latest_version
    assert workflow.submit(bank.writer, v1) == []
    assert v1.status == VersionStatus.SUBMITTED and item.status == ItemStatus.SUBMITTED
    [event] = bank.events("item_version.submitted", v1.id)
    assert event.data["from"] == "draft" and event.object_type == "item_version"

    review = workflow.return_version(bank.reviewer, v1, comment="请核对答案",
                                     field_comments={"key": "铜不是绝缘材料，答案正确但解析缺失"})
    assert review.decision == ReviewDecision.RETURN
    assert v1.status == VersionStatus.RETURNED and item.status == ItemStatus.RETURNED
    [event] = bank.events("item_version.returned", v1.id)
    assert event.actor_user_id == bank.reviewer.id
    assert event.data["field_comments"] == [{"field": "key", "comment": "铜不是绝缘材料，答案正确但解析缺失"}]

    frozen_clock.advance(__import__("datetime").timedelta(hours=1))
    v2 = services.save_edit(bank.writer, item, expected_version=item.version,
                            content=bank.content("multi", explanation="铜是导体。"),
                            point=bank.points["A-01-001"], levels=[4], difficulty=3, points=2,
                            note="按审核意见补充解析")
    assert v1.status == VersionStatus.RETURNED  # a returned version keeps its history
    workflow.submit(bank.writer, v2)
    workflow.approve(bank.reviewer, v2, comment="同意入库")
    assert v2.status == VersionStatus.APPROVED and item.active_version is v2
    assert item.status == ItemStatus.APPROVED and v2.decided_at is not None
    [event] = bank.events("item_version.approved", v2.id)
    assert event.data["final"] is True and event.data["comment"] == "同意入库"


def test_submit_reports_every_problem(bank):
    item = bank.item("single", content=bank.content("single", key="AB", options=[
        {"label": "A", "text": "50"}, {"label": "B", "text": ""}, {"label": "C", "text": "50"}]),
        point=None, levels=())
    with pytest.raises(ValidationError) as exc:
        workflow.submit(bank.writer, item.latest_version)
    fields = [p["field"] for p in exc.value.details["problems"]]
    assert set(fields) == {"options", "key", "point", "levels"}
    assert "选项: 选项B 为空" in exc.value.message and "鉴定点: 请选择鉴定点" in exc.value.message
    assert bank.events("item_version.submitted") == []


def test_submit_only_the_latest_draft_or_returned(bank):
    item = bank.approved()
    with pytest.raises(Conflict):
        workflow.submit(bank.writer, item.latest_version)  # already approved


def test_submit_warns_about_near_duplicates(bank):
    existing = bank.approved("single")
    twin = bank.item("single", content=bank.content("single", stem="<p>我国工频交流电的频率为（ ）赫兹。</p>"))
    warnings = workflow.submit(bank.writer, twin.latest_version)
    assert [w.item for w in warnings] == [existing] and warnings[0].score >= 0.6
    assert twin.latest_version.status == VersionStatus.SUBMITTED  # a warning never blocks
    [event] = bank.events("item_version.submitted", twin.latest_version.id)
    assert event.data["similar"][0]["item_id"] == existing.id


def test_reviewer_never_approves_own_version(bank, make):
    both = make.user(roles=(Role.WRITER, Role.REVIEWER), org=bank.org)
    item = bank.item(author=both)
    workflow.submit(both, item.latest_version)
    assert not permissions.can_review(both, item.latest_version)
    with pytest.raises(PermissionDenied) as refused:
        workflow.approve(both, item.latest_version)
    assert refused.value.code == "review.own_version"
    with pytest.raises(PermissionDenied):
        workflow.return_version(both, item.latest_version, comment="x")
    assert item.latest_version.status == VersionStatus.SUBMITTED
    assert bank.events("item_version.approved") == []


def test_review_policy(bank, make):
    item = bank.item(status="submitted")
    version = item.latest_version
    assert permissions.can_review(bank.reviewer, version)
    assert not permissions.can_review(bank.writer, version)  # no ITEM_REVIEW
    assert not permissions.can_review(make.user(roles=Role.REVIEWER), version)  # another organisation
    assert not permissions.can_review(make.user(roles=Role.PROVINCIAL_ADMIN), version)
    with pytest.raises(PermissionDenied, match="本机构"):
        workflow.approve(make.user(roles=Role.REVIEWER), version)


def test_two_approvals_from_two_reviewers(bank):
    bank.org.require_two_approvals = True
    item = bank.item(status="submitted")
    version = item.latest_version
    approved = []
    with signals.item_version_approved.connected_to(lambda sender, **_: approved.append(sender)):
        workflow.approve(bank.reviewer, version)
    assert version.status == VersionStatus.SUBMITTED and item.active_version_id is None
    assert approved == []  # the first of two approvals does not yet put it in the bank
    with pytest.raises(Conflict) as again:
        workflow.approve(bank.reviewer, version)
    assert again.value.code == "review.already_reviewed" and again.value.status == 409
    with signals.item_version_approved.connected_to(lambda sender, **_: approved.append(sender)):
        workflow.approve(bank.reviewer2, version)
    assert approved == [version]  # announced once, when the version enters the bank
    assert version.status == VersionStatus.APPROVED and item.active_version is version
    first, second = bank.events("item_version.approved", version.id)
    assert (first.data["final"], first.data["approvals"]) == (False, 1)
    assert (second.data["final"], second.data["approvals"], second.data["needed"]) == (True, 2, 2)


def test_return_needs_a_comment_on_known_fields(bank):
    version = bank.item(status="submitted").latest_version
    with pytest.raises(ValidationError):
        workflow.return_version(bank.reviewer, version, comment=" ")
    with pytest.raises(ValidationError):
        workflow.return_version(bank.reviewer, version, field_comments=[{"field": "colour", "comment": "x"}])
    workflow.return_version(bank.reviewer, version, field_comments=[{"field": "stem", "comment": "题干不通顺"}])
    assert version.status == VersionStatus.RETURNED
    with pytest.raises(Conflict):
        workflow.approve(bank.reviewer2, version)


def test_batch_approve_is_all_or_nothing(bank, make):
    good = [bank.item(status="submitted").latest_version for _ in range(3)]
    own_item = bank.item(author=make.user(roles=(Role.WRITER, Role.REVIEWER), org=bank.org),
                         status="submitted")
    draft = bank.item().latest_version
    with pytest.raises(ValidationError) as exc:
        workflow.batch_approve(bank.reviewer, [*good, draft], comment="批量入库")
    assert [f["version_id"] for f in exc.value.details["failures"]] == [draft.id]
    assert all(v.status == VersionStatus.SUBMITTED for v in good)
    with pytest.raises(ValidationError) as exc:
        reviewer = own_item.created_by
        workflow.batch_approve(reviewer, [*good, own_item.latest_version, draft])
    assert len(exc.value.details["failures"]) == 2
    assert bank.events("item_version.approved") == []

    reviews = workflow.batch_approve(bank.reviewer, good, comment="批量入库")
    assert len(reviews) == 3 and all(v.status == VersionStatus.APPROVED for v in good)
    events = bank.events("item_version.approved")
    assert len(events) == 3 and all(e.data["batch"] and e.data["comment"] == "批量入库" for e in events)
    with pytest.raises(PermissionDenied):
        workflow.batch_approve(bank.writer, [draft])


def test_similar_warning_reads_well(bank):
    existing = bank.approved("single")
    twin = bank.item("single", content=bank.content("single", stem="<p>我国工频交流电的频率为（ ）赫兹。</p>"))
    [warning] = workflow.submit(bank.writer, twin.latest_version)
    assert str(warning).startswith(f"与已有试题 #{existing.id} 相似（相似度 ")
