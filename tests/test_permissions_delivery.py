"""The delivery access rules of examsys.permissions, tested directly: each answers a Decision
with a stable code (compared here) and a Chinese message (never compared)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from examsys import permissions as p
from examsys.errors import PermissionDenied
from examsys.permissions import Role


def user(uid: int = 1, org: int = 10, *roles: Role, name: str = "张三"):
    roles = set(roles)
    return NS(id=uid, organisation_id=org, display_name=name, is_authenticated=True, roles=roles,
              permissions=p.permissions_for(roles), has_role=lambda r: r in roles)


def staff(uid: int, role: str):
    return NS(user_id=uid, role=role)


def batch(org: int = 10, *staff_rows):
    return NS(organisation_id=org, staff=list(staff_rows))


def test_staff_of_a_batch_are_proctors_of_its_own_organisation():
    assert p.may_staff_batch(user(1, 10, Role.PROCTOR), 10).allowed
    other_org = p.may_staff_batch(user(1, 11, Role.PROCTOR), 10, "proctor")
    not_proctor = p.may_staff_batch(user(1, 10, Role.EXAM_ADMIN), 10, "marker")
    assert (other_org.code, not_proctor.code) == ("not_org_proctor", "not_org_proctor")
    assert other_org.status == 403 and other_org.message and not other_org


def test_a_supervisor_holds_the_supervisor_role():
    assert p.may_be_supervisor(user(1, 99, Role.SUPERVISOR)).allowed
    assert p.may_be_supervisor(user(1, 10, Role.PROCTOR)).code == "not_supervisor"
    assert p.may_be_supervisor(None).code == "not_supervisor"


def test_tickets_are_printed_by_managers_and_the_batch_staff():
    b = batch(10, staff(2, "proctor"))
    assert p.may_print_tickets(user(1, 10, Role.EXAM_ADMIN), b).allowed
    assert p.may_print_tickets(user(2, 10, Role.PROCTOR), b).allowed
    assert p.may_print_tickets(user(3, 10, Role.PROCTOR), b).code == "not_batch_staff"
    assert p.may_print_tickets(user(4, 11, Role.EXAM_ADMIN), b).code == "not_batch_staff"


def test_markers_hold_mark_in_the_batch_organisation_and_are_listed_when_the_batch_lists_any():
    unlisted = batch(10)
    assert p.may_mark(user(1, 10, Role.PROCTOR), unlisted).allowed
    assert p.may_mark(user(1, 11, Role.PROCTOR), unlisted).code == "not_marker"
    assert p.may_mark(user(1, 10, Role.EXAM_ADMIN), unlisted).code == "not_marker"
    listed = batch(10, staff(2, "marker"), staff(1, "proctor"))
    assert p.may_mark(user(2, 10, Role.PROCTOR), listed).allowed
    assert p.may_mark(user(1, 10, Role.PROCTOR), listed).code == "not_marker"


def test_nobody_marks_an_item_twice_or_arbitrates_their_own():
    item = NS(marks=[NS(marker_id=1), NS(marker_id=2)])
    assert p.may_mark_item(user(3), item).allowed
    assert p.may_mark_item(user(1), item).code == "marked_already"


def test_results_are_handled_with_result_review_in_the_own_organisation():
    b = batch(10)
    assert p.may_handle_results(user(1, 10, Role.EXAM_ADMIN), b).allowed
    assert p.may_handle_results(user(1, 11, Role.EXAM_ADMIN), b).code == "not_result_reviewer"
    assert p.may_handle_results(user(1, 10, Role.PROCTOR), b).code == "not_result_reviewer"


def test_review_is_a_second_persons_check():
    b, admin = batch(10), user(1, 10, Role.EXAM_ADMIN)
    assert p.may_review_results(admin, b, computed_by={2}, marked_in_batch=False).allowed
    assert p.may_review_results(admin, b, computed_by={1}, marked_in_batch=False).code == "reviewer_computed"
    assert p.may_review_results(admin, b, computed_by=set(), marked_in_batch=True).code == "reviewer_marked"
    outsider = user(1, 11, Role.EXAM_ADMIN)
    assert p.may_review_results(outsider, b, computed_by=set(), marked_in_batch=False).code == "not_result_reviewer"


def test_a_correction_is_decided_by_someone_other_than_who_asked():
    b, correction = batch(10), NS(requested_by_id=1)
    assert p.may_decide_correction(user(2, 10, Role.EXAM_ADMIN), correction, b).allowed
    refused = p.may_decide_correction(user(1, 10, Role.EXAM_ADMIN), correction, b)
    assert refused.code == "self_approval"
    with pytest.raises(PermissionDenied) as raised:
        refused.enforce()
    assert raised.value.code == "self_approval" and raised.value.status == 403
    assert p.may_decide_correction(user(2, 11, Role.EXAM_ADMIN), correction, b).code == "not_result_reviewer"
