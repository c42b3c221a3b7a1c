"""Verifying the process record: a clean record verifies; each kind of tampering is found at the
right first bad event; a checkpoint catches a truncated tail and a restored older database; an
inclusion proof holds for an event and fails for an altered one."""

from __future__ import annotations

import random

import pytest
import rfc8785
from sqlalchemy import select, text

from examsys import audit, clock
from examsys.accounts.models import OrgKind
from examsys.audit import chain, checkpoints, proofs, runs
from examsys.audit.actions import AuditAction
from examsys.audit.models import AnswerHistory, AuditEvent, VerificationRun
from examsys.audit.verify import canonical_of, event_rows, verify_database
from examsys.delivery.exam import services as exam
from examsys.errors import ValidationError
from tests import factories
from tests.audit.tampering import tamper
from tests.delivery.world import build_world


@pytest.fixture
def world(db, frozen_clock, app, tmp_path):
    app.config["EXAMSYS_KEY_DIR"] = str(tmp_path / "keys")
    w = build_world(db)
    factories.Factories(db).org(OrgKind.AUTHORITY)
    db.session.commit()
    return w


def _exam(w, entry=0, saves=6):
    attempt = exam.start_attempt(w.entries[entry])
    label = next(label for label, form in w.forms.items() if form.id == attempt.form_id)
    items = [w.form_items[(label, "single")].id]
    for n in range(saves):
        frozen = clock.now()
        clock.freeze(frozen.replace(microsecond=(frozen.microsecond + 1) % 1_000_000))
        exam.save_response(attempt, items[0], "ABCD"[n % 4], n + 1, ip="10.0.0.8")
    exam.submit(attempt)
    audit.record(AuditAction.BATCH_UPDATED, obj=w.batch, data={"note": "staff action"})
    return attempt


def _scope_rows(db, scope):
    return db.session.execute(select(AuditEvent.id, AuditEvent.seq).where(AuditEvent.scope == scope)
                              .order_by(AuditEvent.seq)).all()


def test_a_clean_record_verifies_with_the_attempt_sealed_into_its_batch(world, db):
    attempt = _exam(world)
    report = verify_database()
    assert report.ok, report.failures
    size, head = report.heads[chain.attempt_scope(attempt.id)]
    assert size >= 8  # start, 6 saves, submit (and the scorer's event)
    seal = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.sealed"))
    assert seal.scope == chain.batch_scope(world.batch.id)
    assert (seal.data["size"], seal.data["head"]) == (size, head) or seal.data["size"] < size
    assert report.history_rows == 6
    assert db.session.scalar(select(AnswerHistory.answer).where(AnswerHistory.seq == 6)) == "B"


def test_canonical_form_is_rfc8785(world, db):
    _exam(world)
    for row in event_rows():
        assert canonical_of(row) == rfc8785.dumps(__import__("orjson").loads(canonical_of(row)))


@pytest.mark.parametrize("case", ["edited", "deleted", "inserted", "reordered"])
def test_each_tampering_is_found_at_the_first_bad_event(world, db, case):
    attempt = _exam(world)
    scope = chain.attempt_scope(attempt.id)
    rows = _scope_rows(db, scope)
    target = rows[3]  # seq 4: a save
    expected_seq = tamper(db, case, scope, target.seq)
    report = verify_database()
    assert not report.ok
    first = report.first
    assert (first.scope, first.seq) == (scope, expected_seq), first
    words = {"edited": "被改动", "deleted": "缺失", "inserted": "插入", "reordered": "插入或替换"}[case]
    assert words in first.what


def test_an_altered_answer_history_row_is_found(world, db):
    attempt = _exam(world)
    tamper(db, "history", chain.attempt_scope(attempt.id), 3)
    report = verify_database()
    assert [f.scope for f in report.failures] == [chain.attempt_scope(attempt.id)]
    assert "作答历史" in report.first.what


def test_a_deleted_attempt_chain_is_found_through_its_seal(world, db):
    attempt = _exam(world)
    tamper(db, "drop_chain", chain.attempt_scope(attempt.id), 0)
    report = verify_database()
    assert any(f.scope == chain.attempt_scope(attempt.id) and "不存在" in f.what for f in report.failures)


def test_checkpoint_catches_a_truncated_tail_and_a_restored_older_database(world, db):
    _exam(world)
    note = checkpoints.take(None)
    assert runs.verify(None, note).ok
    scope = chain.batch_scope(world.batch.id)
    last = _scope_rows(db, scope)[-1]
    tamper(db, "truncate", scope, last.seq)
    assert verify_database().ok  # the chain alone still looks whole
    report = runs.verify(None, note)
    assert not report.ok and report.first.scope == scope and "截断" in report.first.what
    # a different event now takes the removed slot: the older database, written on since
    audit.record(AuditAction.BATCH_UPDATED, obj=world.batch, data={"note": "after the restore"})
    report = runs.verify(None, note)
    assert report.first.scope == scope and report.first.seq == last.seq and "改写" in report.first.what
    assert db.session.scalar(select(VerificationRun.ok).order_by(VerificationRun.id.desc()).limit(1)) is False


def test_a_forged_or_unsigned_checkpoint_is_refused(world, db):
    _exam(world)
    note = checkpoints.take(None)
    lines = note.split("\n")
    lines[4] = lines[4][:-1] + ("0" if lines[4][-1] != "0" else "1")
    with pytest.raises(ValidationError, match="签名"):
        checkpoints.parse("\n".join(lines))
    with pytest.raises(ValidationError):
        checkpoints.parse("examsys/NOPE\n1\nAAAA\n")


def test_inclusion_proof_holds_for_a_random_event_and_fails_for_an_altered_one(world, db):
    _exam(world)
    _exam(world, entry=1)
    tree = proofs.batch_tree(world.batch.id)
    event_id = random.Random(3).choice(tree.event_ids)
    proof = proofs.prove(world.batch.id, event_id)
    assert proofs.check_proof(proof, tree.root) == (True, "事件属于该批次的过程记录")
    altered = {**proof, "event": {**proof["event"], "data": {**(proof["event"]["data"] or {}), "x": 1}}}
    assert proofs.check_proof(altered, tree.root)[0] is False
    moved = {**proof, "index": (proof["index"] + 1) % proof["size"]}
    assert proofs.check_proof(moved, tree.root)[0] is False


def test_the_append_only_triggers_refuse_update_and_delete(world, db):
    _exam(world)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events",
                      "UPDATE answer_history SET seq = 99", "DELETE FROM answer_history"):
        with pytest.raises(Exception, match="只能追加"), db.session.begin_nested():
            db.session.execute(text(statement))


def test_the_status_page_shows_the_last_verification(world, db, client, login_as):
    from examsys.permissions import Role

    login_as(Role.ORG_ADMIN, org=world.org)
    assert "尚未校验过" in client.get("/status").get_data(as_text=True)
    attempt = _exam(world)
    runs.verify()
    db.session.commit()
    page = client.get("/status").get_data(as_text=True)
    assert "通过" in page and "最近一次校验" in page and "全部记录链" in page
    tamper(db, "edited", chain.attempt_scope(attempt.id), 2)
    runs.verify()
    page = client.get("/status").get_data(as_text=True)
    assert "未通过" in page and "被改动" in page


def test_each_kind_of_event_lands_in_its_chain(world, db, client):
    """A candidate's sign-in joins their roster entry's chain; staff actions on a batch join the
    batch's chain; what the candidate does in the attempt joins the attempt's chain; the seal
    closes both candidate chains in the batch's chain."""
    from examsys.delivery.exam import candidate_auth

    _token, entry = candidate_auth.login(world.tickets[2], world.id_numbers[2], "ROOM01", ip="10.0.0.9",
                                         user_agent="pytest")
    attempt = _exam(world, entry=2)
    scopes = dict(db.session.execute(select(AuditEvent.action, AuditEvent.scope)
                                     .where(AuditEvent.action.in_(["candidate_session.opened", "attempt.started",
                                                                   "attempt.answer_saved", "attempt.sealed",
                                                                   "batch.updated"]))).all())
    assert scopes["candidate_session.opened"] == chain.entry_scope(world.entries[2].id)
    assert scopes["attempt.started"] == scopes["attempt.answer_saved"] == chain.attempt_scope(attempt.id)
    assert scopes["attempt.sealed"] == scopes["batch.updated"] == chain.batch_scope(world.batch.id)
    seal = db.session.scalar(select(AuditEvent.data).where(AuditEvent.action == "attempt.sealed"))
    assert (seal["entry"], seal["entry_size"]) == (world.entries[2].id, 1)


def test_a_sign_in_cut_from_a_sealed_entry_chain_is_found(world, db):
    """Two sign-ins, then the attempt closes: its seal vouches for the entry chain's two links,
    so deleting the second (the chain's tail) is found although the chain alone looks whole."""
    from examsys.delivery.exam import candidate_auth

    for _ in range(2):
        candidate_auth.login(world.tickets[2], world.id_numbers[2], "ROOM01", ip="10.0.0.9", user_agent="pytest")
    _exam(world, entry=2)
    scope = chain.entry_scope(world.entries[2].id)
    assert [seq for _id, seq in _scope_rows(db, scope)] == [1, 2, 3]  # opened, replaced, opened
    assert verify_database().ok
    tamper(db, "truncate", scope, 3)
    report = verify_database()
    assert [f.scope for f in report.failures] == [scope]
    assert "封存" in report.first.what
