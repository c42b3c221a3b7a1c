"""The demo's workforce for the campaign console: 西江市's human-resources bureau with two
evaluation management staff, a second one in 东城市; management trainings through the year in
both cities (东城市 everyone trained, 西江市 one of two: below the target) and one held by the
province; an examiner and a supervisor training; qualifications (two examiners of
西江市职业技能鉴定服务中心 whose certificates expire within 60 days, a supervisor's renewal); a
filed batch of 东城市技工教育培训评价有限公司 three weeks ahead with one certified examiner where
two are needed (short of certified staff); dispatches; 西江市职业培训学校, whose filing
expired this summer and was assessed and renewed; 西江重型机械集团's sittings staffed by its own
certified examiners (a 领航型 organisation). Idempotent: skipped once a training exists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from examsys import clock
from examsys.accounts import services as accounts
from examsys.accounts.models import City, Organisation, OrgKind, User
from examsys.campaign.workforce import services as workforce
from examsys.campaign.workforce.models import Audience, TrainingCourse
from examsys.delivery.models import Batch, BatchState, StaffRole
from examsys.delivery.models.batches import BatchStaff
from examsys.extensions import db
from examsys.permissions import Role
from examsys.supervision.assessment import services as assessment
from examsys.supervision.directory import scope as filing
from examsys.supervision.directory import services as directory

# (username, display name, roles, organisation code)
USERS = [
    ("cityadmin2", "西江市人社局 蒋涛", {Role.CITY_ADMIN}, "C-XI-HR"),
    ("cityadmin3", "西江市人社局 彭丽", {Role.CITY_ADMIN}, "C-XI-HR"),
    ("cityadmin4", "东城市人社局 许峰", {Role.CITY_ADMIN}, "C-DONG-HR"),
    ("examiner21", "考评员 沈洁", {Role.PROCTOR}, "SKILL-02"),
    ("examiner22", "考评员 韩松", {Role.PROCTOR}, "SKILL-02"),
    ("examiner31", "考评员 丁宁", {Role.PROCTOR}, "SKILL-03"),
    ("examiner32", "考评员 白雪", {Role.PROCTOR}, "SKILL-03"),
    ("examiner41", "考评员 周凯", {Role.PROCTOR}, "EMP-02"),
    ("examiner42", "考评员 邓琳", {Role.PROCTOR}, "EMP-02"),
]
# (city code or None for the province, audience, title, held on (2026), hours, who was present, who was absent)
COURSES = [
    ("C-DONG", Audience.MANAGEMENT, "东城市评价管理人员业务培训（第一期）", (3, 18), 8,
     ("cityadmin", "cityadmin4"), ()),
    ("C-XI", Audience.MANAGEMENT, "西江市评价管理人员业务培训", (5, 20), 6, ("cityadmin2",), ("cityadmin3",)),
    (None, Audience.MANAGEMENT, "全省职业技能等级认定政策解读培训班", (9, 10), 12, ("cityadmin",),
     ("cityadmin2", "cityadmin3", "cityadmin4")),
    ("C-DONG", Audience.EXAMINER, "东城市考评员继续教育培训", (4, 22), 16, ("proctor", "proctor2", "examiner31"),
     ("examiner32",)),
    (None, Audience.SUPERVISOR, "全省督导员业务能力提升培训", (6, 12), 8, ("supervisor", "supervisor2", "supervisor3"),
     ()),
]


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=clock.DISPLAY_TZ).astimezone(UTC)


def load_workforce(password) -> list[dict]:
    """Load once; returns the logins it adds (for `examsys demo`'s list) every time."""
    logins = [{"username": u, "password": password(u), "roles": sorted(r.value for r in roles), "organisation": org}
              for u, _name, roles, org in USERS]
    if db.session.scalar(select(TrainingCourse.id)) is not None:
        return logins
    now = clock.now()
    today = workforce.today()
    orgs = {o.code: o for o in db.session.scalars(select(Organisation))}
    cities = {c.code: c for c in db.session.scalars(select(City))}
    users_before = {u.username: u for u in db.session.scalars(select(User))}
    with clock.frozen(_at(2026, 1, 6)):
        if "C-XI-HR" not in orgs:
            orgs["C-XI-HR"] = accounts.create_organisation("C-XI-HR", "西江市人力资源和社会保障局", OrgKind.AUTHORITY,
                                                           cities["C-XI"])
        if "SKILL-04" not in orgs:
            # Its filing expired this summer: assessed, kept in the directory for three more years.
            orgs["SKILL-04"] = accounts.create_organisation("SKILL-04", "西江市职业培训学校", OrgKind.SOCIAL,
                                                            cities["C-XI"])
            scope = [{"occupation": s["occupation"], "name": s["name"], "levels": s["levels"]}
                     for s in filing.entry_of(orgs["SKILL-02"].id).scope]
            directory.file_organisation(users_before["province"], orgs["SKILL-04"], filing_no="备2023-SKILL-04",
                                        scope=scope, filed_on=date(2023, 7, 1), expires_on=date(2026, 6, 30))
        for username, display, roles, org_code in USERS:
            if db.session.scalar(select(User).where(User.username == username)) is None:
                accounts.create_user(None, orgs[org_code], username=username, display_name=display,
                                     password=password(username), roles=set(roles))
    users = {u.username: u for u in db.session.scalars(select(User))}
    province = users["province"]
    with clock.frozen(_at(2026, 6, 18, 15)):
        row = assessment.assessment_of(orgs["SKILL-04"])
        assessment.add_entry(province, row, method="documents", by="西江市人社局 评估组",
                             text="备案材料、考评员名册和近三年评价档案齐全。", score=85)
        assessment.decide(province, row, decision="continue", reasons="评价活动规范，考评人员持证上岗，继续保留。")
    for city_code, audience, title, (m, d), hours, present, absent in COURSES:
        actor = province if city_code is None else users["cityadmin" if city_code == "C-DONG" else "cityadmin2"]
        with clock.frozen(_at(2026, m, d, 17)):
            course = workforce.create_course(actor, cities.get(city_code), audience=audience.value, title=title,
                                             held_on=date(2026, m, d), hours=hours)
            wanted = {users[u].id for u in present + absent}
            eligible = {u.id for u in workforce.attendees(course)}
            workforce.record_attendance(actor, course, {users[u].id for u in present} & eligible & wanted)
    with clock.frozen(_at(2026, 2, 10)):
        for username, number, days in (("examiner21", "KPY-2023-0211", 25), ("examiner22", "KPY-2023-0212", 50),
                                       ("examiner31", "KPY-2026-0311", 900)):
            workforce.qualify(province, users[username], kind="examiner", number=number,
                              qualified_on=date(2026, 2, 10) if days > 365 else date(2023, 12, 20),
                              valid_until=today + timedelta(days=days))
        for n, username in enumerate(("examiner41", "examiner42")):
            workforce.qualify(province, users[username], kind="examiner", number=f"KPY-2026-041{n}",
                              qualified_on=date(2026, 2, 10), valid_until=date(2029, 2, 9))
        workforce.qualify(province, users["supervisor3"], kind="supervisor", number="DDY-2026-0003",
                          qualified_on=date(2026, 2, 10), valid_until=date(2029, 2, 9))
    # 西江重型机械集团's sittings of the year were all staffed by its certified examiners.
    for batch in db.session.scalars(select(Batch).where(Batch.organisation_id == orgs["EMP-02"].id)):
        for username in ("examiner41", "examiner42"):
            db.session.add(BatchStaff(batch_id=batch.id, user_id=users[username].id, role=StaffRole.PROCTOR))
    day = clock.to_display(now + timedelta(days=21)).date()
    start = _at(day.year, day.month, day.day, 9)
    with clock.frozen(now - timedelta(days=2)):
        batch = Batch(organisation_id=orgs["SKILL-03"].id, standard_id=_standard_id(), level=4,
                      name="2026年第4批电工四级理论知识考试", venue="东城市考点", window_start=start,
                      window_end=start + timedelta(hours=2), state=BatchState.FILED,
                      created_by_id=users["skill3admin"].id, filed_at=clock.now(), duration_minutes=90)
        db.session.add(batch)
        db.session.flush()
        workforce.dispatch(province, users["examiner31"], batch, kind="examiner", note="本机构考评员")
        workforce.dispatch(province, users["supervisor2"], batch, kind="supervisor", note="省厅派遣督导")
    return logins


def _standard_id() -> int:
    return db.session.scalar(select(Batch.standard_id).order_by(Batch.id))
