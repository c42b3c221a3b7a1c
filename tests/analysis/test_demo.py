"""The demo's statistics batch: marked, answers from an item-response model, the planted wrong key
and dead distractor flagged on the statistics, and the whole key fix done by the demo's people."""

from __future__ import annotations

from sqlalchemy import select

from examsys.accounts.models import User
from examsys.analysis import keyfix
from examsys.analysis import services as stats
from examsys.analysis.flags import FlagKind
from examsys.audit.verify import verify_database
from examsys.delivery.models import Batch, BatchState
from examsys.demo import stats_batch
from examsys.demo.loader import load_demo


def user(db, name):
    return db.session.scalar(select(User).where(User.username == name))


def test_demo_statistics_batch_shows_the_planted_faults_and_takes_a_key_fix(db, frozen_clock):
    summary = load_demo()
    batch = db.session.scalar(select(Batch).where(Batch.name == stats_batch.NAME))
    assert {"id": batch.id, "name": batch.name, "state": "marked"} in summary["batches"]
    assert batch.state == BatchState.MARKED and len(batch.roster) == stats_batch.CANDIDATES
    reports = stats.batch_statistics(batch)
    assert [r.stats.n for r in reports] == [30, 30]
    for report in reports:
        singles = [row for row in report.items if row.version.qtype.value == "single"]
        wrong, dead = singles[0], singles[1]
        assert FlagKind.LIKELY_WRONG_KEY in {f.kind for f in wrong.flags}
        assert FlagKind.DEAD_DISTRACTOR in {f.kind for f in dead.flags} or report.form.label == "B"
    first = reports[0]
    wrong = [row for row in first.items if row.version.qtype.value == "single"][0]
    flag = next(f for f in wrong.flags if f.kind == FlagKind.LIKELY_WRONG_KEY)
    assert stats.report_flags(user(db, "examadmin"), batch, [(wrong.form_item.id, flag.kind.value)]) == 1
    fix = keyfix.confirm_key(user(db, "reviewer"), batch, wrong.form_item, flag.evidence["option"], "核对教材后确认")
    rows = keyfix.preview(fix)
    changed = keyfix.apply_fix(user(db, "examadmin2"), fix)
    assert len(rows) == 30 and changed and all(r.changed for r in changed)
    assert stats.batch_statistics(batch)[0].items[wrong.position - 1].r > 0  # the regrade shows at once
    report = verify_database()
    assert report.ok, report.failures[:3]
