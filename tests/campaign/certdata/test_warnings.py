"""Warning rules set by the province, their evaluation, and the warnings the city and the
province handle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from examsys import clock
from examsys.campaign.certdata import services as svc
from examsys.campaign.certdata import warnings
from examsys.campaign.certdata.models import CertWarning
from examsys.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.campaign.certdata.conftest import person

SEP = datetime(2026, 9, 8, 1, tzinfo=UTC)
OCT = datetime(2026, 10, 8, 1, tzinfo=UTC)
NOV = datetime(2026, 11, 8, 1, tzinfo=UTC)


def reported(world, org, when, n: int, back: int = 0, reason: str = "photo"):
    batch = world.batch(org, when, [(*person(), 70.0 + i) for i in range(n)])
    with clock.frozen(batch.published_at):
        svc.run_check(world.exam_admins[org.id], batch)
        report = svc.report(world.exam_admins[org.id], batch)
    if back:
        svc.enter_returns(world.p.admin, report, [r.id for r in report.records[:back]], reason, "")
    return report


def test_rules_start_at_their_defaults_and_only_the_province_changes_them(world, db):
    assert [(r.kind, r.threshold, r.months, r.count, r.id) for r in warnings.rules()] == [
        ("rate_above", 0.05, 3, 0, None), ("rise", 0.0, 3, 0, None), ("repeated_reason", 0.0, 3, 3, None)]
    with pytest.raises(PermissionDenied):
        warnings.save_rule(world.p.city_admin, "rate_above", threshold=0.1, months=3, count=None, active=True)
    with pytest.raises(ValidationError, match="退回率阈值") as exc:
        warnings.save_rule(world.p.admin, "rate_above", threshold=1.5, months=3, count=None, active=True)
    assert exc.value.field == "threshold"
    with pytest.raises(ValidationError, match="统计月数"):
        warnings.save_rule(world.p.admin, "rise", threshold=None, months=1, count=None, active=True)
    with pytest.raises(ValidationError, match="出现次数"):
        warnings.save_rule(world.p.admin, "repeated_reason", threshold=None, months=3, count=1, active=True)
    rule = warnings.save_rule(world.p.admin, "rate_above", threshold=0.1, months=2, count=None, active=True)
    assert (rule.threshold, rule.months) == (0.1, 2)
    assert svc.targets(2026, svc.Scope())[1].goal == 0.1  # the return-rate target follows the rule


def test_evaluation_raises_each_warning_once_per_month(world, db):
    noisy, quiet, rising = world.p.orgs[0], world.p.orgs[3], world.p.orgs[1]
    reported(world, noisy, OCT, 10, back=3)  # 3 photo returns: rate and repeated reason
    reported(world, quiet, OCT, 10)
    reported(world, quiet, NOV, 10)
    for when, back in ((SEP, 1), (OCT, 2), (NOV, 3)):
        reported(world, rising, when, 10, back=back, reason="name")
    raised = warnings.evaluate()
    got = {(w.organisation_id, w.rule.kind) for w in raised}
    assert got == {(noisy.id, "rate_above"), (noisy.id, "repeated_reason"), (rising.id, "rate_above"),
                   (rising.id, "rise"), (rising.id, "repeated_reason")}
    rise = next(w for w in raised if w.rule.kind == "rise")
    assert "逐月上升" in rise.message and "10.0% → 20.0% → 30.0%" in rise.message
    assert all(w.period == "2026-11" and w.status == "open" for w in raised)
    assert warnings.evaluate() == []  # once per rule, organisation and month
    warnings.save_rule(world.p.admin, "repeated_reason", threshold=None, months=3, count=3, active=False)
    with clock.frozen(datetime(2026, 12, 2, 1, tzinfo=UTC)):
        again = warnings.evaluate()
    assert {w.rule.kind for w in again} <= {"rate_above", "rise"} and all(w.period == "2026-12" for w in again)


def test_the_city_sees_its_own_and_closes_with_a_note(world, db):
    c1_org, c2_org = world.p.orgs[0], world.p.orgs[1]
    reported(world, c1_org, NOV, 4, back=2)
    reported(world, c2_org, NOV, 4, back=2)
    warnings.evaluate()
    mine = warnings.visible_warnings(world.p.city_admin)
    assert mine and {w.organisation_id for w in mine} == {c1_org.id}
    assert len(warnings.visible_warnings(world.p.admin)) > len(mine)
    assert warnings.visible_warnings(world.exam_admins[c1_org.id]) == []
    foreign = db.session.scalar(select(CertWarning).where(CertWarning.organisation_id == c2_org.id))
    with pytest.raises(NotFound):
        warnings.warning_for(world.p.city_admin, foreign.id)
    w = mine[0]
    warnings.handle(world.p.city_admin, w, "acknowledge", "")
    assert w.status == "acknowledged"
    with pytest.raises(ValidationError, match="处理说明"):
        warnings.handle(world.p.city_admin, w, "close", "")
    warnings.handle(world.p.city_admin, w, "close", "已约谈机构负责人，照片采集改为现场拍摄")
    assert w.status == "closed" and w.note.startswith("已约谈")
    with pytest.raises(Conflict):
        warnings.handle(world.p.admin, w, "close", "再次关闭")


def test_the_command_evaluates_the_rules(app, world, db):
    reported(world, world.p.orgs[0], NOV, 4, back=2)
    result = CliRunner().invoke(app.cli, ["campaign", "warnings"])
    assert result.exit_code == 0, result.output
    assert "机构0：" in result.output and "raised 1 warning(s)" in result.output
    assert db.session.scalar(select(CertWarning.id).limit(1)) is not None
