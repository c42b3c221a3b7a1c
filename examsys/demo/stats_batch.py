"""The demo's batch for item statistics: "电工四级理论知识考试（第二期）" of SKILL-01, sat a week
before the first `examsys demo` by 60 candidates in two rooms (30 per form, the fewest the
statistics raise flags for) on the demo paper, closed, scored and its
results computed — marked, not yet checked (复核), so that a key fix can still be applied.

The answers come from an item-response model (2PL: ability θ ~ N(0, 1), slope 1.3, item
difficulty from the declared level), through the real exam services (login, start, autosave,
hand in), so the process record is what production writes. Two items are planted for the
statistics pages: on the first single-choice item of each form the stored key is not what the
model treats as right — the strong candidates pick the next option (likely wrong key) — and
on the second nobody picks the last option (dead distractor). About 2% of answers are left blank.

Idempotent: a second call finds the batch by name. Leaves the clock as it was found. Flushes only.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from examsys import clock
from examsys.accounts import idnumber
from examsys.accounts.candidates import id_index
from examsys.accounts.models import User
from examsys.assembly.models import Paper
from examsys.assembly.queries import effective_versions
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Batch
from examsys.delivery.scoring import services as scoring
from examsys.demo.delivery import demo_paper, roster_xlsx
from examsys.demo.past_batch import EXAM_AGENT, acting, beijing, seat_address, staff_context
from examsys.extensions import db
from examsys.supervision import services as supervision

NAME = "电工四级理论知识考试（第二期）"
SEED = 20261117
DAYS_AGO = 7
CANDIDATES = 60
ROOMS = ("第2考场", "第3考场")
# The second room's examiners (each room needs two with a valid examiner certificate): demo users.
EXTRA_PROCTORS = ("proctor3", "proctor4")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
GIVEN = ["文博", "晓雯", "志强", "海燕", "建国", "丽娟", "晨曦", "国栋", "雪梅", "天宇", "嘉怡", "立新"]
SLOPE = 1.3
BLANK = 0.02


def stats_candidates() -> list[tuple[str, str]]:
    """(name, ID number) of the 60 fictional candidates (checksum-valid, made up, stable)."""
    out = []
    for i in range(CANDIDATES):
        first17 = f"320583{1980 + i % 19:04d}{1 + (i * 7) % 12:02d}{1 + (i * 13) % 28:02d}{500 + i:03d}"
        out.append((SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 5) % len(GIVEN)], idnumber.make_valid(first17)))
    return out


def _answers(versions: list, theta: float, rng: random.Random) -> list:
    """One candidate's answers to the form's items in order (None = left blank)."""
    out = []
    singles = 0
    for v in versions:
        if rng.random() < BLANK:
            out.append(None)
            continue
        content = v.content or {}
        b = (int(v.difficulty or 3) - 3) * 0.6
        right = rng.random() < 1 / (1 + 2.718281828 ** (-SLOPE * (theta - b)))
        labels = [o["label"] for o in content.get("options") or []]
        key = content.get("key")
        if v.qtype.value == "judge":
            out.append(key if right else not key)
        elif v.qtype.value == "single":
            singles += 1
            others = [x for x in labels if x != key]
            if singles == 1:   # the planted wrong key: the model's right answer is the next option
                true = labels[(labels.index(key) + 1) % len(labels)]
                out.append(true if right else rng.choice([x for x in labels if x != true]))
            elif singles == 2:  # the planted dead distractor: nobody picks the last option
                dead = labels[-1] if labels[-1] != key else labels[-2]
                out.append(key if right else rng.choice([x for x in others if x != dead]))
            else:
                out.append(key if right else rng.choice(others))
        else:  # multi: a wrong answer swaps one keyed option for another
            keyed = sorted(key or [])
            if right or len(keyed) == len(labels):
                out.append(keyed)
            else:
                wrong = keyed[:]
                wrong.remove(rng.choice(keyed))
                wrong.append(rng.choice([x for x in labels if x not in keyed]))
                out.append(sorted(wrong))
    return out


def _prepare(org, standard, users: dict, blueprint, people, day: date) -> Batch:
    admin = users["examadmin"]
    clock.freeze(beijing(day, 14, 20, days=-10))
    extra = list(db.session.scalars(select(User.id).where(User.username.in_(EXTRA_PROCTORS)).order_by(User.username)))
    proctors = [users["proctor"].id, users["proctor2"].id]
    with acting(staff_context(admin)):
        paper = demo_paper(blueprint, admin)
        data = batches.BatchInput(
            standard_id=standard.id, level=paper.level, name=NAME, venue="示范省电工职业技能评价中心 机房二",
            window_start=beijing(day, 9), window_end=beijing(day, 11), paper_id=paper.id,
            rooms=[batches.RoomInput(name=ROOMS[0], capacity=CANDIDATES // 2, proctor_ids=proctors),
                   batches.RoomInput(name=ROOMS[1], capacity=CANDIDATES // 2, proctor_ids=extra)],
            marker_ids=proctors,
            settings={"start_jitter_seconds": 0, "require_access_code": True, "shuffle_items": False,
                      "shuffle_options": False})
        batch = batches.create_batch(admin, org, data)
        clock.advance(timedelta(minutes=12))
        result = batches.import_roster(admin, batch, "第二期考生名单.xlsx", roster_xlsx(people))
        if not result.ok:
            raise ValueError("; ".join(str(e) for e in result.errors))
    clock.freeze(beijing(day, 10, 2, days=-9))
    with acting(staff_context(users["province"])):
        supervision.assign(users["province"], batch, users["supervisor"])
    clock.freeze(beijing(day, 9, 51, days=-7))
    with acting(staff_context(admin)):
        batches.file_batch(admin, batch)
    return batch


def _sit(batch: Batch, people) -> None:
    rng = random.Random(SEED)
    forms = {f.label: f for f in db.session.get(Paper, batch.paper_id).forms}
    order = {label: sorted(f.items, key=lambda fi: (fi.section, fi.position)) for label, f in forms.items()}
    seen = {label: effective_versions(f) for label, f in forms.items()}
    entries = sorted(batch.roster, key=lambda e: e.seat_no)
    by_index = {id_index(number): number for _name, number in people}
    for n, entry in enumerate(entries):
        at = batch.window_start + timedelta(minutes=1, seconds=7 * n)
        clock.freeze(at)
        ip = seat_address(entry.seat_no)
        exam.login(entry.ticket_no, by_index[entry.candidate.id_number_index], entry.room.access_code, ip=ip,
                   user_agent=EXAM_AGENT)
        with acting(exam.candidate_context(entry, ip=ip, user_agent=EXAM_AGENT)):
            attempt = exam.start_attempt(entry)
            items = order[entry.form_label]
            answers = _answers([seen[entry.form_label][fi.id] for fi in items], rng.gauss(0, 1), rng)
            for fi, answer in zip(items, answers, strict=True):
                if answer is None:
                    continue
                clock.advance(timedelta(seconds=20 + rng.randrange(40)))
                exam.save_response(attempt, fi.id, answer, 1, ip=ip, user_agent=EXAM_AGENT)
            clock.advance(timedelta(seconds=30))
            exam.submit(attempt)


def load_stats_batch(org, standard, users: dict, blueprint, *, now: datetime) -> dict:
    """Create (once) the statistics demo batch a week before `now`; returns {id, name, state}.
    Raises what the services raise (nothing for the demo data)."""
    existing = db.session.scalar(select(Batch).where(Batch.organisation_id == org.id, Batch.name == NAME))
    if existing is None:
        day = clock.to_display(now).date() - timedelta(days=DAYS_AGO)
        people = stats_candidates()
        admin = users["examadmin"]
        with clock.frozen(clock.now()):
            existing = _prepare(org, standard, users, blueprint, people, day)
            _sit(existing, people)
            clock.freeze(beijing(day, 11, 6))
            with acting(staff_context(admin)):
                batches.close_batch(admin, existing)
                clock.advance(timedelta(minutes=3))
                scoring.score_batch(existing)
            clock.freeze(beijing(day, 10, 12, days=1))
            with acting(staff_context(admin)):
                scoring.compute_results(existing, admin)
    return {"id": existing.id, "name": existing.name, "state": existing.state.value}
