"""The demo's satisfaction (满意度): candidates on the past 2026 batches of every organisation in
both cities, each with a post-exam survey answer (January to October), comments of which the
organisations answered some, SKILL-02 (西江市) below the 90 % goal, the province's published
questionnaire distributed to a batch of each city with responses, a city's draft questionnaire,
and a few interviews. Idempotent: skipped once the province's questionnaire exists. Needs the
supervision demo (examsys.demo.oversight) loaded first."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from examsys import clock
from examsys.accounts import idnumber
from examsys.accounts import services as accounts
from examsys.accounts.models import Organisation, User
from examsys.campaign.satisfaction import questionnaires, services
from examsys.campaign.satisfaction.models import Questionnaire
from examsys.delivery.models import Batch, BatchState, RosterEntry
from examsys.delivery.models.survey import SurveyResponse
from examsys.extensions import db

TITLE = "2026年评价机构服务对象满意度问卷"
# Per organisation: candidates per batch, and the chance that a candidate is satisfied.
PROFILE = {"SKILL-01": (10, 0.99), "SKILL-02": (10, 0.8), "SKILL-03": (9, 0.95), "EMP-01": (8, 0.95),
           "EMP-02": (8, 0.9), "EMP-03": (8, 0.97)}
COMMENTS = ["考场空调温度太低，希望改进", "候考区座位不够，等候时间较长", "系统操作简单，监考老师很耐心",
            "考前通知收到得比较晚", "希望增加考前模拟练习", "考点指引标识不清楚，找了很久"]
ANSWERS = {"考场空调温度太低，希望改进": "已联系考点调整空调温度，并在考前检查。",
           "候考区座位不够，等候时间较长": "下一期起分批签到，候考区增加座位。",
           "考前通知收到得比较晚": "今后考前十个工作日发出通知，并短信提醒。"}


def _at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=clock.DISPLAY_TZ).astimezone(UTC)


def load_satisfaction() -> dict:
    if db.session.scalar(select(Questionnaire.id).where(Questionnaire.title == TITLE)) is not None:
        return {}
    rng = random.Random(2026)
    orgs = {o.code: o for o in db.session.scalars(select(Organisation).where(Organisation.code.in_(PROFILE)))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    if len(orgs) < len(PROFILE) or "cityadmin" not in users:
        return {}
    now = clock.now()
    rosters: dict[str, list] = {}
    for code, (per_batch, chance) in PROFILE.items():
        batches = db.session.scalars(select(Batch).where(
            Batch.organisation_id == orgs[code].id, Batch.state == BatchState.PUBLISHED,
            Batch.window_start >= _at(2026, 1, 1), Batch.window_end < now, ~Batch.roster.any())
            .order_by(Batch.window_start))
        for batch in batches:
            rosters.setdefault(code, []).append((batch, _roster(orgs[code], batch, per_batch, rng)))
            for entry, _number in rosters[code][-1][1][:-2]:  # two of each batch did not answer
                _survey(entry, chance, rng)
    _answer_comments(orgs, users)
    row = _questionnaires(rosters, users, rng)
    _interviews(orgs, users)
    return {"questionnaire": row.id if row else None}


def _roster(org: Organisation, batch: Batch, n: int, rng: random.Random) -> list[tuple[RosterEntry, str]]:
    out = []
    for k in range(n):
        first17 = f"{rng.choice(['440305', '320106', '510107', '420102'])}{rng.randint(1975, 2004)}" \
                  f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{batch.id % 100:02d}{k % 10}"
        number = idnumber.make_valid(first17)
        name = rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("伟芳娜敏静强磊洋艳军")
        with clock.frozen(batch.window_start - timedelta(days=10)):
            cand = accounts.create_candidate(org, name=name, id_number=number)
        entry = RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=f"S26{batch.id:04d}{k + 1:03d}",
                            order_seed=rng.randint(1, 10 ** 6), seat_no=k + 1)
        db.session.add(entry)
        out.append((entry, number))
    db.session.flush()
    return out


def _survey(entry: RosterEntry, chance: float, rng: random.Random) -> None:
    happy = rng.random() < chance
    answers = {f"q{i}": rng.choices([3, 4, 5], (1, 5, 8) if happy else (5, 3, 1))[0] for i in range(1, 6)}
    if not happy:
        answers[f"q{rng.randint(1, 5)}"] = rng.choice([1, 2])
    satisfied = sum(answers.values()) / 5 >= 4
    comment = rng.choice(COMMENTS) if rng.random() < (0.08 if satisfied else 0.45) else ""
    db.session.add(SurveyResponse(roster_entry_id=entry.id, batch_id=entry.batch_id, answers=answers,
                                  comment=comment, satisfied=satisfied,
                                  submitted_at=entry.batch.window_end + timedelta(minutes=rng.randint(1, 40))))


def _answer_comments(orgs: dict, users: dict) -> None:
    """The organisations with an administrator of their own answer the comments they can (SKILL-02
    leaves some open)."""
    db.session.flush()
    admins = {"SKILL-01": "orgadmin", "SKILL-02": "skill2admin", "SKILL-03": "skill3admin"}
    for code, username in admins.items():
        for n, comment in enumerate(services.comments_of(orgs[code], 2026)):
            if comment.comment in ANSWERS and (code != "SKILL-02" or n % 2 == 0):
                with clock.frozen(comment.submitted_at + timedelta(days=3)):
                    services.answer_comment(users[username], comment.id, ANSWERS[comment.comment])


def _questionnaires(rosters: dict, users: dict, rng: random.Random) -> Questionnaire | None:
    province = users["province"]
    with clock.frozen(_at(2026, 9, 1)):
        row = questionnaires.create(province, TITLE, "本问卷由省人社厅组织，匿名统计，仅用于改进评价服务。")
        questionnaires.add_question(province, row, kind="scale", text="您对评价机构的报名和考前服务是否满意？")
        questionnaires.add_question(province, row, kind="scale", text="您对考场秩序和考评人员的表现是否满意？")
        questionnaires.add_question(province, row, kind="single", text="您是如何得知本次评价的？",
                                    options=["培训机构通知", "单位推荐", "人社部门网站", "其他"])
        questionnaires.add_question(province, row, kind="multiple", text="您认为哪些方面还需改进？",
                                    options=["报名流程", "考场环境", "考试系统", "成绩查询", "证书发放"],
                                    required=False)
        questionnaires.add_question(province, row, kind="text", text="您的其他意见和建议", required=False)
        questionnaires.publish(province, row)
    chosen = [rosters[code][-1] for code in ("SKILL-01", "SKILL-02") if rosters.get(code)]
    with clock.frozen(_at(2026, 10, 20)):
        questionnaires.distribute(province, row, [batch.id for batch, _entries in chosen])
    scale, scale2, single, multiple, text = row.questions
    for batch, entries in chosen:
        low = batch.organisation_id == rosters["SKILL-02"][-1][0].organisation_id
        for n, (entry, _number) in enumerate(entries[:-3]):
            score = rng.choices([2, 3, 4, 5], (2, 3, 4, 3) if low else (0, 0, 4, 6))[0]
            form = {f"q{scale.id}": [str(score)], f"q{scale2.id}": [str(min(5, score + rng.randint(0, 1)))],
                    f"q{single.id}": [str(rng.randrange(4))],
                    f"q{multiple.id}": [str(i) for i in rng.sample(range(5), rng.randint(0, 2))],
                    f"q{text.id}": ["希望考点离市区近一些" if n % 4 == 0 else ""]}
            with clock.frozen(_at(2026, 10, 21 + n % 5, 10 + n % 8)):
                questionnaires.submit(row, entry, form)
    with clock.frozen(_at(2026, 11, 10)):
        draft = questionnaires.create(users["cityadmin"], "东城市考点环境专项调查", "了解考点环境和设施情况。")
        questionnaires.add_question(users["cityadmin"], draft, kind="scale", text="您对考点的交通和指引是否满意？")
        questionnaires.add_question(users["cityadmin"], draft, kind="single", text="考场温度是否适宜？",
                                    options=["适宜", "偏冷", "偏热"])
    return row


def _interviews(orgs: dict, users: dict) -> None:
    records = [
        ("supervisor", "SKILL-01", date(2026, 8, 12), "candidate", "王某", True,
         "考生表示报名、考试流程清楚，监考老师讲解规范。", ""),
        ("supervisor3", "SKILL-02", date(2026, 9, 18), "candidate", "刘某", False,
         "考生反映候考时间过长，考场空调温度偏低。", "候考组织不当，考场环境需改进"),
        ("cityadmin", "SKILL-03", date(2026, 10, 9), "staff", "考务主管 陈某", True,
         "考务人员熟悉考务流程和应急预案。", ""),
        ("province", "SKILL-02", date(2026, 11, 5), "staff", "机构负责人", True,
         "机构已制定候考分批签到方案，正在落实。", "整改措施尚未全部落实"),
    ]
    for username, code, held_on, role, who, satisfied, summary, findings in records:
        with clock.frozen(_at(held_on.year, held_on.month, held_on.day, 17)):
            services.record_interview(users[username], orgs[code], held_on=held_on, interviewee_role=role,
                                      interviewee=who, summary=summary, satisfied=satisfied, findings=findings)


__all__ = ["load_satisfaction"]
