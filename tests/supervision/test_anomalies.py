"""Each anomaly flag: raised with its evidence when the record shows it, silent when it does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from examsys.supervision.anomalies import (
    AttemptRecord,
    Save,
    SessionRecord,
    Signal,
    Thresholds,
    attempt_flags,
    batch_flags,
    batch_median_rate,
    concurrent_login,
    copying,
    device_change,
    fast_answering,
    focus_loss,
    ip_change,
    last_saves,
    silence_burst,
)
from examsys.supervision.copying import PairResult

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def steady(n=40, every=1.5, ip="10.0.0.5", start=0.5) -> list[Save]:
    """n saves, one item each, `every` minutes apart: an ordinary candidate."""
    return [Save(form_item_id=i, seq=1, answer="A", saved_at=at(start + i * every), ip=ip, id=100 + i)
            for i in range(n)]


def record(**kw) -> AttemptRecord:
    return AttemptRecord(attempt_id=kw.pop("attempt_id", 1), started_at=T0, finished_at=at(70), **kw)


def test_an_ordinary_attempt_has_no_flags():
    rec = record(saves=steady(), sessions=[SessionRecord(created_at=at(-2), ip="10.0.0.5", user_agent="UA1")],
                 signals=[Signal("focus_lost", "client", at(3))])
    assert attempt_flags(rec, median_rate=0.7) == []


def test_focus_losses_at_the_threshold_are_flagged_counting_each_departure_once():
    # Each departure reports page_hidden and focus_lost a moment apart: 5 departures, 10 events.
    signals = [Signal(kind, "client", at(m) + timedelta(seconds=s), id=10 * m + s)
               for m in (5, 10, 15, 20, 25) for kind, s in (("page_hidden", 0), ("focus_lost", 1))]
    flag = focus_loss(record(signals=signals))
    assert flag.code == "focus_loss" and flag.severity == "medium"
    assert "5 次" in flag.explanation and "10 条" in flag.explanation
    assert [e.at for e in flag.evidence] == [at(m) for m in (5, 10, 15, 20, 25)]
    assert flag.evidence[0].source == "integrity_event" and flag.evidence[0].source_id == 50
    assert focus_loss(record(signals=signals[:8])) is None
    assert focus_loss(record(signals=signals[:8]), Thresholds(focus_losses=4)) is not None


def test_an_ip_change_during_the_attempt_is_flagged_at_the_save_where_it_happened():
    saves = steady(10) + steady(5, ip="172.16.8.9", start=20)
    flag = ip_change(record(saves=saves))
    assert flag.code == "ip_change"
    assert [(e.at, e.details["ip"], e.details["previous_ip"]) for e in flag.evidence] == \
        [(at(20), "172.16.8.9", "10.0.0.5")]
    assert "10.0.0.5" in flag.explanation and "172.16.8.9" in flag.explanation
    assert ip_change(record(saves=steady(10))) is None


def test_the_server_ip_change_signal_alone_is_enough():
    sig = Signal("ip_change", "server", at(9), {"from": "1.1.1.1", "to": "2.2.2.2"}, id=7)
    flag = ip_change(record(signals=[sig]))
    assert flag.evidence[0].source_id == 7 and "2 个" in flag.explanation


def test_a_second_browser_during_the_attempt_is_flagged_but_not_one_before_it():
    before = SessionRecord(created_at=at(-60), ended_at=at(-30), end_reason="logout", user_agent="UA-old", id=1)
    during = SessionRecord(created_at=at(-1), user_agent="UA1", id=2)
    other = SessionRecord(created_at=at(30), user_agent="UA2", id=3)
    assert device_change(record(sessions=[before, during])) is None
    flag = device_change(record(sessions=[during, other]))
    assert flag.severity == "high" and {e.source_id for e in flag.evidence} == {2, 3}
    signal = Signal("user_agent_change", "server", at(12), {"from": "UA1", "to": "UA2"})
    assert device_change(record(signals=[signal])).evidence[0].kind == "user_agent_change"


def test_a_session_replaced_during_the_attempt_is_a_concurrent_login():
    replaced = SessionRecord(created_at=at(-1), ended_at=at(25), end_reason="replaced", ip="10.0.0.5", id=4)
    flag = concurrent_login(record(sessions=[replaced]))
    assert flag.code == "concurrent_login" and flag.evidence[0].at == at(25)
    assert flag.evidence[0].source == "candidate_session" and flag.evidence[0].source_id == 4
    logout = SessionRecord(created_at=at(-1), ended_at=at(25), end_reason="logout")
    early = SessionRecord(created_at=at(-50), ended_at=at(-40), end_reason="replaced")
    assert concurrent_login(record(sessions=[logout, early])) is None
    signals = [Signal("concurrent_login", "server", at(30)), Signal("stale_session", "server", at(31))]
    flag = concurrent_login(record(signals=signals))
    assert [e.kind for e in flag.evidence] == ["concurrent_login", "stale_session"]
    assert "1 次" in flag.explanation


def test_answering_far_faster_than_the_batch_median_is_flagged():
    fast = record(saves=steady(40, every=0.1))  # ~10 items a minute
    ordinary = [record(attempt_id=i, saves=steady(40, every=1.5)) for i in range(2, 6)]
    median = batch_median_rate([fast, *ordinary])
    assert 0.6 < median < 0.7
    flag = fast_answering(fast, median)
    assert flag.severity == "high" and "本批次中位数" in flag.explanation
    assert [e.kind for e in flag.evidence] == ["first_save", "last_save"]
    assert fast_answering(ordinary[0], median) is None
    # Too few items say nothing about speed.
    assert fast_answering(record(saves=steady(5, every=0.1)), median) is None


def test_the_fast_answering_signal_alone_is_enough():
    signal = Signal("fast_answering", "server", at(3), {"answered": 20, "elapsed_seconds": 30})
    flag = fast_answering(record(saves=steady(40), signals=[signal]), median_rate=0.7)
    assert flag is not None and flag.severity == "medium"
    assert [e.kind for e in flag.evidence] == ["first_save", "fast_answering", "last_save"]


def test_silence_then_a_burst_of_saves_is_flagged():
    saves = steady(5) + [Save(form_item_id=50 + i, seq=1, answer="B", saved_at=at(30 + i * 0.1), ip="10.0.0.5")
                         for i in range(12)]
    flag = silence_burst(record(saves=saves))
    assert flag.code == "silence_burst"
    assert flag.evidence[0].kind == "last_save_before_silence" and flag.evidence[0].at == at(6.5)
    assert len(flag.evidence) == 13 and "12 题" in flag.explanation and "24 分钟" in flag.explanation
    # The same silence followed by an ordinary pace is only a pause.
    paused = steady(5) + [Save(form_item_id=50 + i, seq=1, answer="B", saved_at=at(30 + i)) for i in range(12)]
    assert silence_burst(record(saves=paused)) is None


def _pair(flagged=True):
    return PairResult(room=1, copier=1, source=2, k_index=1e-9, identical_incorrect=7, trials=20, p_match=0.1,
                      expected=2.0, common_items=40, identical_answers=30, threshold=1e-6, flagged=flagged,
                      items=[3, 4])


def test_a_flagged_copying_pair_flags_both_attempts_with_the_items():
    saves = {1: last_saves(steady(10)), 2: last_saves(steady(10, start=1))}
    flag = copying(1, [_pair()], saves)
    assert flag.code == "copying" and "7 题" in flag.explanation and "2.0" in flag.explanation
    assert [(e.source_id, e.at, e.details["other_saved_at"]) for e in flag.evidence] == \
        [(3, at(5), at(5.5)), (4, at(6.5), at(7))]
    assert copying(2, [_pair()], saves).evidence[0].details["other_attempt_id"] == 1
    assert copying(1, [_pair(flagged=False)], saves) is None
    assert copying(3, [_pair()], saves) is None


def test_batch_flags_orders_by_severity_and_judges_speed_against_the_batch():
    replaced = SessionRecord(created_at=at(-1), ended_at=at(25), end_reason="replaced")
    fast = record(attempt_id=1, saves=steady(40, every=0.1), sessions=[replaced])
    others = [record(attempt_id=i, saves=steady(40, every=1.5)) for i in range(2, 6)]
    flags = batch_flags([fast, *others], [_pair()])
    assert [f.code for f in flags[1]] == ["concurrent_login", "fast_answering", "copying"]
    assert [f.code for f in flags[2]] == ["copying"]
    assert flags[3] == [] and flags[1][0].severity_label == "高"
