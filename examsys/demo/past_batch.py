"""The demo's past batch: "电工四级理论知识考试（第一期）" of SKILL-01, sat two weeks before the
first `examsys demo`, closed, scored, its results computed, checked (复核) by a second exam admin
and published — with the whole history written by the real services, so its process record
(hash-chained events, answer history, integrity signals, sessions) is what production writes.

History, in Beijing time (D = the exam day): the exam admin assembles and freezes the paper
(D-12), creates the batch (D-10) for one room of 24 candidates with both proctors, imports the
roster; the provincial admin assigns the supervisor (D-9); the exam admin files the batch (D-7).
On D, from 09:00, the candidates sign in, start, autosave and hand in (`examsys.demo.past_plan`
scripts who does what: a copying pair, a candidate who keeps leaving the page, two closed by
the sweeper); the exam admin closes the batch after the window and scores it (objective items
only: nothing to mark), computes the results on D+1, a second exam admin checks them, and the
first publishes them on D+2.

Staff and candidates act inside a request context carrying the audit context a request of theirs
would carry (user or candidate, address, browser), so every event names its actor as in
production. The clock is driven through `examsys.clock` and restored at the end. Idempotent: a
second call finds the batch by name. Flushes only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, g
from sqlalchemy import select

from examsys import clock
from examsys.accounts import idnumber
from examsys.accounts.candidates import id_index
from examsys.assembly.models import Paper
from examsys.assembly.queries import effective_versions
from examsys.audit.services import AuditContext
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Batch
from examsys.delivery.scoring import services as scoring
from examsys.demo import past_plan
from examsys.demo.delivery import demo_paper, roster_xlsx
from examsys.extensions import db
from examsys.supervision import services as supervision

NAME = "电工四级理论知识考试（第一期）"
SEED = 20261110
DAYS_AGO = 14
ROOM = "第1考场"
SURNAMES = "黄林罗梁宋谢韩唐冯于董萧程曹袁邓许傅沈"
GIVEN = ["子轩", "雨桐", "浩然", "思远", "佳怡", "俊杰", "欣怡", "宇航", "梓涵", "明辉"]
STAFF_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
              "Chrome/122.0.0.0 Safari/537.36"
EXAM_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
             "Chrome/120.0.0.0 Safari/537.36"
STAFF_ADDRESSES = {"examadmin": "10.12.0.21", "examadmin2": "10.12.0.22", "proctor": "10.12.1.250",
                   "province": "172.16.8.10"}
FOCUS_NOTE = "该考生多次切换离开考试页面，已当场口头提醒，考后由督导核查"


# --- time -----------------------------------------------------------------------------------------


def exam_day(now: datetime) -> date:
    """The day the past batch was sat: two weeks before `now`, in Beijing."""
    return clock.to_display(now).date() - timedelta(days=DAYS_AGO)


def beijing(day: date, hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """Aware UTC instant of `hour:minute` Beijing time, `days` after `day`."""
    local = datetime.combine(day + timedelta(days=days), time(hour, minute), tzinfo=clock.DISPLAY_TZ)
    return local.astimezone(UTC)


def world_start(now: datetime) -> datetime:
    """When the demo world (organisations, users, bank) was set up: well before the past batch."""
    return beijing(exam_day(now), 9, 30, days=-40)


# --- who acts -----------------------------------------------------------------------------------


def staff_context(user) -> AuditContext:
    """The audit context a request of `user`'s would carry (examsys.web builds the same)."""
    return AuditContext(user_id=user.id, label=user.username, roles=",".join(sorted(r.value for r in user.roles)),
                        organisation_id=user.organisation_id, ip=STAFF_ADDRESSES.get(user.username, "10.12.0.30"),
                        user_agent=STAFF_AGENT)


@contextmanager
def acting(ctx: AuditContext) -> Iterator[None]:
    """Run service calls as inside a request of `ctx`'s: their audit events carry its actor,
    address and browser."""
    with current_app.test_request_context("/", environ_base={"REMOTE_ADDR": ctx.ip or ""},
                                          headers={"User-Agent": ctx.user_agent or ""}):
        g.audit_context = ctx
        try:
            yield
        finally:
            g.pop("audit_context", None)


def seat_address(seat: int) -> str:
    return f"10.12.1.{100 + seat}"


# --- the roster -----------------------------------------------------------------------------------


def past_candidates(registered: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, ID number) of the 24 candidates in roster order: the registered demo candidates
    first, then 19 fictional ones (checksum-valid, made up, stable)."""
    out = list(registered)
    for i in range(24 - len(out)):
        first17 = f"320506{1988 + i % 13:04d}{1 + (i * 5) % 12:02d}{1 + (i * 11) % 28:02d}{310 + i:03d}"
        out.append((SURNAMES[i] + GIVEN[(i * 3) % len(GIVEN)], idnumber.make_valid(first17)))
    return out


def _plan_items(forms) -> dict[str, list[past_plan.PlanItem]]:
    """Per form label, its items in the order the candidates see them (the batch shuffles nothing)."""
    out = {}
    for form in forms:
        versions = effective_versions(form)
        out[form.label] = [
            past_plan.PlanItem(ref=fi.id, qtype=versions[fi.id].qtype.value, key=versions[fi.id].content.get("key"),
                               options=tuple(o["label"] for o in versions[fi.id].content.get("options") or []),
                               difficulty=int(versions[fi.id].difficulty or 3), place=f"{form.label}-{n}")
            for n, fi in enumerate(sorted(form.items, key=lambda f: (f.section, f.position)), start=1)]
    return out


# --- the sitting ----------------------------------------------------------------------------------


class _Sitting:
    """Replays the script: each step at its instant, through the exam services."""

    def __init__(self, batch: Batch, entries: list, people: list[tuple[str, str]], proctor) -> None:
        self.batch, self.entries, self.people, self.proctor = batch, entries, people, proctor
        self.attempts: dict = {}
        self.specs: dict = {}

    def context(self, who: int) -> AuditContext:
        entry = self.entries[who]
        return exam.candidate_context(entry, ip=seat_address(entry.seat_no), user_agent=EXAM_AGENT)

    def run(self, step: past_plan.Step) -> None:
        clock.freeze(step.at)
        entry, attempt = self.entries[step.who], self.attempts.get(step.who)
        if step.kind == "save":
            spec = self.specs.get(step.item) or self.specs.setdefault(step.item, exam.answer_spec(attempt, step.item))
            exam.save_response(attempt, step.item, step.answer, step.seq, flagged=step.flagged,
                               ip=seat_address(entry.seat_no), user_agent=EXAM_AGENT, spec=spec)
        elif step.kind == "login":
            exam.login(entry.ticket_no, self.people[step.who][1], entry.room.access_code,
                       ip=seat_address(entry.seat_no), user_agent=EXAM_AGENT)
        elif step.kind == "sweep":  # the sweeper runs from cron, as no one
            exam.sweep()
        elif step.kind == "note":
            with acting(staff_context(self.proctor)):
                batch = exam.get_proctored(self.batch.id, self.proctor)
                exam.proctor_note(self.proctor, batch, reason=FOCUS_NOTE, attempt_id=attempt.id)
        else:
            with acting(self.context(step.who)):
                if step.kind == "start":
                    self.attempts[step.who] = exam.start_attempt(entry)
                elif step.kind == "signal":
                    exam.record_client_event(attempt, step.data["kind"], {},
                                             occurred_at=(step.at - timedelta(milliseconds=240)).isoformat())
                elif step.kind == "submit":
                    exam.submit(attempt)
                elif step.kind == "survey":
                    exam.submit_survey(entry, step.data, "")


def _sit(batch: Batch, people: list[tuple[str, str]], proctor) -> None:
    entries = sorted(batch.roster, key=lambda e: e.seat_no)
    if [e.candidate.id_number_index for e in entries] != [id_index(number) for _name, number in people]:
        raise ValueError("past batch: seats are not in roster order")
    items = _plan_items(db.session.get(Paper, batch.paper_id).forms)
    steps = past_plan.script([items[e.form_label] for e in entries], window_start=batch.window_start,
                             duration=timedelta(minutes=batch.duration_minutes),
                             grace=timedelta(seconds=batch.grace_seconds), seed=SEED)
    sitting = _Sitting(batch, entries, people, proctor)
    for step in steps:
        sitting.run(step)


# --- the batch's life -----------------------------------------------------------------------------


def _summary(batch: Batch) -> dict:
    return {"id": batch.id, "name": batch.name, "state": batch.state.value}


def _prepare(org, standard, users: dict, blueprint, people: list[tuple[str, str]], day: date) -> Batch:
    """Paper, batch, roster, supervisor and filing, days before the exam."""
    admin = users["examadmin"]
    proctors = [users["proctor"].id, users["proctor2"].id]
    clock.freeze(beijing(day, 10, 5, days=-12))
    with acting(staff_context(admin)):
        paper = demo_paper(blueprint, admin)
    clock.freeze(beijing(day, 14, 10, days=-10))
    data = batches.BatchInput(
        standard_id=standard.id, level=paper.level, name=NAME, venue="示范省电工职业技能评价中心 机房一",
        window_start=beijing(day, 9), window_end=beijing(day, 11), paper_id=paper.id,
        rooms=[batches.RoomInput(name=ROOM, capacity=30, proctor_ids=proctors)], marker_ids=proctors,
        # One order for everyone: the organisation's choice for this sitting (the copying pair copies
        # from a neighbour's screen, which a shuffled paper would have made much harder).
        settings={"start_jitter_seconds": 0, "require_access_code": True, "shuffle_items": False,
                  "shuffle_options": False})
    with acting(staff_context(admin)):
        batch = batches.create_batch(admin, org, data)
        clock.advance(timedelta(minutes=17, seconds=41))
        result = batches.import_roster(admin, batch, "第一期考生名单.xlsx", roster_xlsx(people))
        if not result.ok:
            raise ValueError("; ".join(str(e) for e in result.errors))
    clock.freeze(beijing(day, 9, 42, days=-9))
    with acting(staff_context(users["province"])):
        supervision.assign(users["province"], batch, users["supervisor"])
    clock.freeze(beijing(day, 10, 16, days=-7))
    with acting(staff_context(admin)):
        batches.file_batch(admin, batch)
    return batch


def _results(batch: Batch, users: dict, day: date) -> None:
    """Closing and scoring after the window, results the next day, 复核 by a second person,
    publication the day after."""
    admin, checker = users["examadmin"], users["examadmin2"]
    clock.freeze(beijing(day, 11, 3))
    with acting(staff_context(admin)):
        batches.close_batch(admin, batch)
        clock.advance(timedelta(minutes=4, seconds=12))
        scoring.score_batch(batch)
    clock.freeze(beijing(day, 9, 37, days=1))
    with acting(staff_context(admin)):
        scoring.compute_results(batch, admin)
    clock.freeze(beijing(day, 15, 12, days=1))
    with acting(staff_context(checker)):
        review = scoring.review_batch(batch, checker, note="逐人核对合分与客观题登分，未发现问题")
    if not review.passed:
        raise ValueError(f"past batch: 复核 found {review.findings}")
    clock.freeze(beijing(day, 9, 20, days=2))
    with acting(staff_context(admin)):
        scoring.publish(batch, admin)


def load_past_batch(org, standard, users: dict, blueprint, registered: list[tuple[str, str]], *,
                    now: datetime) -> dict:
    """Create (once) the past batch of `org` with its history, two weeks before `now`; returns
    {id, name, state}. `users` maps demo usernames (examadmin, examadmin2, proctor, proctor2,
    supervisor, province) to User rows; `registered` are (name, ID number) of the organisation's
    registered candidates, who sit it with 19 others. The clock is left as it was found. Raises
    what the services raise (nothing for the demo data)."""
    existing = db.session.scalar(select(Batch).where(Batch.organisation_id == org.id, Batch.name == NAME))
    if existing is not None:
        return _summary(existing)
    day = exam_day(now)
    people = past_candidates(registered)
    with clock.frozen(clock.now()):
        batch = _prepare(org, standard, users, blueprint, people, day)
        _sit(batch, people, users["proctor"])
        _results(batch, users, day)
    return _summary(batch)
