"""The oversight access rules as decisions, per role: the province everywhere, a city
administrator within its city, an organisation on its own records, supervisors on their checks,
everyone else refused with a stable code."""

from __future__ import annotations

import pytest

from examsys.permissions import (
    may_answer_finding,
    may_assess,
    may_close_finding,
    may_manage_directory,
    may_run_plans,
    may_score_indicators,
    may_view_organisation_file,
    may_view_spot_check,
)


class _Check:
    def __init__(self, supervisor_id):
        self.supervisor_id = supervisor_id


class _Finding:
    def __init__(self, organisation_id):
        self.organisation_id = organisation_id


def _who(province, name):
    mine, other = province.orgs[0], province.orgs[1]  # city 1, city 2
    return {"province": province.admin, "city": province.city_admin, "own_org": province.org_admins[mine.id],
            "other_org": province.org_admins[other.id], "supervisor": province.supervisors[1],
            "other_supervisor": province.supervisors[2]}[name]


@pytest.mark.parametrize("name, directory_mine, directory_other, plans, file_mine, assess", [
    ("province", True, True, True, True, True),
    ("city", True, False, False, True, False),
    ("own_org", False, False, False, True, False),
    ("other_org", False, False, False, False, False),
    ("supervisor", False, False, False, False, False),
])
def test_rules_per_role(province, name, directory_mine, directory_other, plans, file_mine, assess):
    user = _who(province, name)
    mine, other = province.orgs[0], province.orgs[1]
    assert bool(may_manage_directory(user, mine)) is directory_mine
    assert bool(may_manage_directory(user, other)) is directory_other
    assert bool(may_run_plans(user)) is plans
    assert bool(may_view_organisation_file(user, mine)) is file_mine
    assert bool(may_assess(user)) is assess
    refused = may_manage_directory(user, other)
    if not refused:
        assert refused.code == "directory.not_your_city"


def test_findings_rules(province):
    sup, other_sup = province.supervisors[1], province.supervisors[2]
    check, finding = _Check(sup.id), _Finding(province.orgs[0].id)
    assert may_view_spot_check(sup, check, province.orgs[0])
    assert not may_view_spot_check(other_sup, check, province.orgs[0])
    assert may_close_finding(sup, check) and not may_close_finding(other_sup, check)
    assert not may_close_finding(province.admin, check)  # the province reads, the supervisor closes
    assert may_answer_finding(province.org_admins[province.orgs[0].id], finding)
    assert may_answer_finding(province.org_admins[province.orgs[1].id], finding).code == "finding.answer_denied"
    assert may_score_indicators(province.org_admins[province.orgs[0].id], province.orgs[0])  # internal supervision
    assert not may_score_indicators(province.org_admins[province.orgs[0].id], province.orgs[1])
