"""Permission rules at the policy level, independent of any route."""

from types import SimpleNamespace

import pytest

from examsys import permissions
from examsys.errors import Conflict, PermissionDenied
from examsys.permissions import (
    ROLE_PERMISSIONS,
    Decision,
    Permission,
    Role,
    can_access_org_object,
    has_permission,
    may_approve,
    may_grant_roles,
    may_import_items,
    may_manage_user,
    may_manage_users_of,
    may_report_fault,
    may_reset_password,
    may_retire_item,
    may_reveal_id_number,
    may_review,
    may_review_any,
    may_search_items,
    may_set_enemy_group,
    may_write_items,
    permissions_for,
)


def fake_user(roles, org_id=1, user_id=None):
    roles = frozenset(roles)
    return SimpleNamespace(id=user_id or id(roles), is_authenticated=True, organisation_id=org_id, roles=roles,
                           permissions=permissions_for(roles),
                           has_role=lambda r, roles=roles: r in roles)


def refused(decision: Decision, code: str, status: int = 403) -> bool:
    """The decision refuses with `code` and `status`, and says why in Chinese."""
    return (not decision and decision.code == code and decision.status == status
            and any("\u4e00" <= ch <= "\u9fff" for ch in decision.message))


def test_every_role_has_a_row():
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_permissions_are_a_union_of_roles():
    both = permissions_for({Role.WRITER, Role.REVIEWER})
    assert Permission.ITEM_WRITE in both and Permission.ITEM_REVIEW in both
    assert Permission.ITEM_REVIEW not in permissions_for({Role.WRITER})


@pytest.mark.parametrize("role,perm,expected", [
    (Role.WRITER, Permission.ITEM_WRITE, True),
    (Role.WRITER, Permission.ITEM_REVIEW, False),
    (Role.REVIEWER, Permission.ITEM_WRITE, False),
    (Role.PROCTOR, Permission.CANDIDATE_ID_REVEAL, False),
    (Role.EXAM_ADMIN, Permission.CANDIDATE_ID_REVEAL, True),
    (Role.ORG_ADMIN, Permission.ORG_MANAGE, False),
    (Role.PROVINCIAL_ADMIN, Permission.ORG_MANAGE, True),
    (Role.SUPERVISOR, Permission.SUPERVISE, True),
    (Role.SUPERVISOR, Permission.BATCH_MANAGE, False),
])
def test_role_table(role, perm, expected):
    assert has_permission(fake_user({role}), perm) is expected


def test_anonymous_has_nothing():
    anon = SimpleNamespace(is_authenticated=False)
    assert not any(has_permission(anon, p) for p in Permission)
    assert not can_access_org_object(anon, 1)


def test_tenancy_policy():
    assert can_access_org_object(fake_user({Role.WRITER}, 1), 1)
    assert not can_access_org_object(fake_user({Role.WRITER}, 1), 2)
    assert can_access_org_object(fake_user({Role.PROVINCIAL_ADMIN}, 9), 2)


def test_user_management_policy():
    admin = fake_user({Role.ORG_ADMIN}, 1)
    assert may_manage_user(admin, SimpleNamespace(organisation_id=1))
    assert not may_manage_user(admin, SimpleNamespace(organisation_id=2))
    assert not may_manage_user(fake_user({Role.WRITER}, 1), SimpleNamespace(organisation_id=1))
    assert may_manage_user(fake_user({Role.PROVINCIAL_ADMIN}, 9), SimpleNamespace(organisation_id=2))


def test_reveal_policy_needs_permission_and_tenancy():
    assert may_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 1)
    assert not may_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 2)
    assert not may_reveal_id_number(fake_user({Role.PROCTOR}, 1), 1)
    # The province oversees but does not read personal data in full.
    assert not may_reveal_id_number(fake_user({Role.PROVINCIAL_ADMIN}, 9), 1)


# --- accounts rules (Decisions) -------------------------------------------------------------------


def test_managing_users_of_an_organisation():
    assert may_manage_users_of(None, 5)  # the system (CLI, demo loader)
    assert may_manage_users_of(fake_user({Role.ORG_ADMIN}, 1), 1)
    assert may_manage_users_of(fake_user({Role.PROVINCIAL_ADMIN}, 9), 1)
    assert refused(may_manage_users_of(fake_user({Role.ORG_ADMIN}, 1), 2), "accounts.other_organisation")


def test_managing_a_user_is_a_decision():
    target = SimpleNamespace(id=77, organisation_id=1)
    assert may_manage_user(fake_user({Role.ORG_ADMIN}, 1), target)
    assert refused(may_manage_user(fake_user({Role.ORG_ADMIN}, 2), target), "accounts.other_organisation")
    assert refused(may_manage_user(fake_user({Role.WRITER}, 1), target), "accounts.other_organisation")


def test_only_the_province_grants_the_provincial_admin_role():
    assert may_grant_roles(fake_user({Role.PROVINCIAL_ADMIN}, 9), {Role.PROVINCIAL_ADMIN})
    assert may_grant_roles(None, {Role.PROVINCIAL_ADMIN})
    assert may_grant_roles(fake_user({Role.ORG_ADMIN}, 1), {Role.WRITER})
    assert refused(may_grant_roles(fake_user({Role.ORG_ADMIN}, 1), {Role.PROVINCIAL_ADMIN}),
                   "accounts.grant_provincial_admin")


def test_resetting_a_password():
    writer = fake_user({Role.WRITER}, 1, user_id=5)
    assert may_reset_password(writer, SimpleNamespace(id=5, organisation_id=1))  # one's own
    assert may_reset_password(fake_user({Role.ORG_ADMIN}, 1), SimpleNamespace(id=6, organisation_id=1))
    assert refused(may_reset_password(writer, SimpleNamespace(id=6, organisation_id=1)),
                   "accounts.reset_password_denied")


def test_revealing_an_id_number_is_a_decision():
    assert may_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 1)
    assert refused(may_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 2), "candidate.reveal_denied")
    assert refused(may_reveal_id_number(fake_user({Role.PROVINCIAL_ADMIN}, 9), 1), "candidate.reveal_denied")


# --- bank rules (Decisions) -----------------------------------------------------------------------


def _version(author_id=100, org_id=1, status="submitted", reviewers=()):
    return SimpleNamespace(author_id=author_id, status=status, item=SimpleNamespace(organisation_id=org_id),
                           reviews=[SimpleNamespace(reviewer_id=r) for r in reviewers])


def test_searching_and_writing_items():
    assert may_search_items(fake_user({Role.WRITER}))
    assert refused(may_search_items(fake_user({Role.PROCTOR})), "bank.view_denied")
    assert may_write_items(fake_user({Role.WRITER}, 1), 1)
    assert refused(may_write_items(fake_user({Role.WRITER}, 1), 2), "bank.write_denied")
    assert refused(may_write_items(fake_user({Role.REVIEWER}, 1), 1), "bank.write_denied")


def test_review_policy_four_eyes():
    reviewer = fake_user({Role.REVIEWER}, 1, user_id=7)
    assert may_review(reviewer, _version())
    assert refused(may_review(fake_user({Role.WRITER}, 1), _version()), "review.no_permission")
    assert refused(may_review(None, _version()), "review.no_permission")
    assert refused(may_review(reviewer, _version(org_id=2)), "review.other_organisation")
    assert refused(may_review(reviewer, _version(author_id=7)), "review.own_version")
    assert may_review_any(reviewer)
    assert refused(may_review_any(fake_user({Role.WRITER})), "review.no_permission")


def test_approval_needs_a_submitted_version_not_yet_reviewed_by_this_reviewer():
    reviewer = fake_user({Role.REVIEWER}, 1, user_id=7)
    assert may_approve(reviewer, _version())
    assert refused(may_approve(reviewer, _version(status="draft")), "review.not_submitted", 409)
    assert refused(may_approve(reviewer, _version(reviewers=(7,))), "review.already_reviewed", 409)
    assert may_approve(reviewer, _version(reviewers=(8,)))
    assert refused(may_approve(reviewer, _version(author_id=7, status="draft")), "review.own_version")


def test_retiring_reporting_and_grouping_items():
    item = SimpleNamespace(organisation_id=1)
    assert may_retire_item(fake_user({Role.REVIEWER}, 1), item)
    assert refused(may_retire_item(fake_user({Role.WRITER}, 1), item), "bank.retire_denied")
    assert refused(may_retire_item(fake_user({Role.REVIEWER}, 2), item), "bank.retire_denied")
    assert may_report_fault(fake_user({Role.WRITER}, 1), item)
    assert may_report_fault(fake_user({Role.PROVINCIAL_ADMIN}, 9), item)
    assert refused(may_report_fault(fake_user({Role.WRITER}, 2), item), "bank.report_denied")
    assert may_set_enemy_group(fake_user({Role.WRITER}, 1), item)
    assert may_set_enemy_group(fake_user({Role.REVIEWER}, 1), item)
    assert refused(may_set_enemy_group(fake_user({Role.EXAM_ADMIN}, 1), item), "bank.enemy_group_denied")
    assert refused(may_set_enemy_group(fake_user({Role.WRITER}, 2), item), "bank.enemy_group_denied")


def test_importing_items():
    assert may_import_items(fake_user({Role.WRITER}, 1), 1)
    assert refused(may_import_items(fake_user({Role.WRITER}, 1), 2), "bank.import_denied")
    assert refused(may_import_items(fake_user({Role.REVIEWER}, 1), 1), "bank.import_denied")
    assert refused(may_import_items(fake_user({Role.WRITER}, 1), 1, approve=True), "bank.import_approve_denied")
    assert may_import_items(fake_user({Role.WRITER, Role.REVIEWER}, 1), 1, approve=True)


def test_enforce_raises_by_status_with_the_rules_code():
    with pytest.raises(PermissionDenied) as denied:
        may_review(fake_user({Role.REVIEWER}, 1, user_id=7), _version(author_id=7)).enforce()
    assert denied.value.code == "review.own_version" and denied.value.status == 403
    with pytest.raises(Conflict) as conflict:
        may_approve(fake_user({Role.REVIEWER}, 1, user_id=7), _version(status="approved")).enforce()
    assert conflict.value.code == "review.not_submitted" and conflict.value.status == 409


def test_no_rule_answers_with_text_only():
    """Every access rule of the bank and accounts sections returns a Decision, not a message."""
    assert not hasattr(permissions, "review_refusal")
