"""The certificate-data access rules as decisions, role by role (the stable codes, not the text)."""

from __future__ import annotations

from examsys.permissions import (
    may_enter_return,
    may_explain_problem,
    may_handle_warning,
    may_report_certdata,
    may_resubmit_record,
    may_set_warning_rules,
    may_view_certdata,
)


def test_each_rule_by_role(world):
    p = world.p
    own, same_city, other_city = p.orgs[0], p.orgs[2], p.orgs[1]
    exam, admin = world.exam_admins[own.id], world.org_admins[own.id]
    assert may_view_certdata(exam, own) and may_view_certdata(admin, own)
    assert may_view_certdata(exam, other_city).code == "certdata.view_denied"
    assert may_view_certdata(p.city_admin, same_city) and not may_view_certdata(p.city_admin, other_city)
    assert may_view_certdata(p.admin, other_city)
    assert may_report_certdata(exam, own) and may_report_certdata(admin, own).code == "certdata.report_denied"
    assert may_report_certdata(p.admin, own).code == "certdata.report_denied"  # the province never reports for them
    assert may_explain_problem(admin, own) and may_explain_problem(exam, own).code == "certdata.explain_denied"
    assert may_explain_problem(world.org_admins[same_city.id], own).code == "certdata.explain_denied"
    assert may_resubmit_record(exam, own) and may_resubmit_record(admin, own)
    assert may_resubmit_record(p.city_admin, own).code == "certdata.resubmit_denied"
    assert may_enter_return(p.admin, other_city) and may_enter_return(p.city_admin, own)
    assert may_enter_return(p.city_admin, other_city).code == "certdata.return_denied"
    assert may_enter_return(exam, own).code == "certdata.return_denied"
    assert may_set_warning_rules(p.admin) and may_set_warning_rules(p.city_admin).code == "certdata.rules_denied"
    assert may_handle_warning(p.city_admin, same_city) and may_handle_warning(p.admin, other_city)
    assert may_handle_warning(p.city_admin, other_city).code == "certdata.warning_denied"
    assert may_handle_warning(admin, own).code == "certdata.warning_denied"
    assert not may_view_certdata(None, own)
