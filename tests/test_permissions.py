"""Permission rules at the policy level, independent of any route."""

from types import SimpleNamespace

import pytest

from examsys.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    can_access_org_object,
    can_manage_user,
    can_reveal_id_number,
    has_permission,
    permissions_for,
)


def fake_user(roles, org_id=1):
    roles = frozenset(roles)
    return SimpleNamespace(is_authenticated=True, organisation_id=org_id, roles=roles,
                           permissions=permissions_for(roles),
                           has_role=lambda r, roles=roles: r in roles)


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
    assert can_manage_user(admin, SimpleNamespace(organisation_id=1))
    assert not can_manage_user(admin, SimpleNamespace(organisation_id=2))
    assert not can_manage_user(fake_user({Role.WRITER}, 1), SimpleNamespace(organisation_id=1))
    assert can_manage_user(fake_user({Role.PROVINCIAL_ADMIN}, 9), SimpleNamespace(organisation_id=2))


def test_reveal_policy_needs_permission_and_tenancy():
    assert can_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 1)
    assert not can_reveal_id_number(fake_user({Role.EXAM_ADMIN}, 1), 2)
    assert not can_reveal_id_number(fake_user({Role.PROCTOR}, 1), 1)
    # The province oversees but does not read personal data in full.
    assert not can_reveal_id_number(fake_user({Role.PROVINCIAL_ADMIN}, 9), 1)
