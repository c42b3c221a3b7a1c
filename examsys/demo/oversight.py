"""The demo's supervision by the authority: two cities (东城市, 西江市) with a city administrator,
six evaluation organisations of both kinds in the directory (one whose filing expires within six
months, due for periodic assessment), two more certified supervisors with declared conflicts,
past 2026 batches of every organisation (≥ 20 in all), the 2026 双随机 plan with a committed
seed, its first draw at mid-year and a rolling draw now — both meeting the rates — two spot
checks (one finding rectified and closed on time, one overdue), indicator scores and an
on-site entry in the assessment dossier. Idempotent: skipped once the 2026 plan exists."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from examsys import clock
from examsys.accounts import services as accounts
from examsys.accounts.models import CertificateKind, City, Organisation, OrgKind, User
from examsys.delivery.models import Batch, BatchState, StaffRole
from examsys.delivery.models.batches import BatchStaff
from examsys.extensions import db
from examsys.permissions import Role
from examsys.supervision import services as supervision
from examsys.supervision.assessment import services as assessment
from examsys.supervision.checks import services as checks
from examsys.supervision.directory import services as directory
from examsys.supervision.indicators import services as indicators
from examsys.supervision.plans import services as plans
from examsys.supervision.plans.models import SupervisionPlan

CITIES = [("C-DONG", "东城市"), ("C-XI", "西江市")]
# Where the loader's organisations are (the authority is the province's own entry).
ORG_CITY = {"SKILL-01": "C-DONG", "EMP-01": "C-XI", "C-DONG-HR": "C-DONG"}
MORE_ORGS = [
    ("SKILL-02", "西江市职业技能鉴定服务中心", OrgKind.SOCIAL, "C-XI"),
    ("SKILL-03", "东城市技工教育培训评价有限公司", OrgKind.SOCIAL, "C-DONG"),
    ("EMP-02", "西江重型机械集团有限公司", OrgKind.EMPLOYER, "C-XI"),
    ("EMP-03", "东城供电服务有限公司", OrgKind.EMPLOYER, "C-DONG"),
    ("C-DONG-HR", "东城市人力资源和社会保障局", OrgKind.AUTHORITY, "C-DONG"),
]
# (username, display name, roles, organisation code, certificates)
MORE_USERS = [
    ("cityadmin", "东城市人社局 郭静", {Role.CITY_ADMIN}, "C-DONG-HR", ()),
    ("supervisor2", "督导员 郑华", {Role.SUPERVISOR}, "PROVINCE", (CertificateKind.SUPERVISOR,)),
    ("supervisor3", "督导员 冯雪", {Role.SUPERVISOR}, "PROVINCE", (CertificateKind.SUPERVISOR,)),
    ("skill2admin", "机构管理员 何敏", {Role.ORG_ADMIN, Role.EXAM_ADMIN}, "SKILL-02", ()),
    ("skill3admin", "机构管理员 罗军", {Role.ORG_ADMIN, Role.EXAM_ADMIN}, "SKILL-03", ()),
    ("emp2admin", "企业管理员 唐丽", {Role.ORG_ADMIN, Role.EXAM_ADMIN}, "EMP-02", ()),
    ("emp3admin", "企业管理员 韩冰", {Role.ORG_ADMIN, Role.EXAM_ADMIN}, "EMP-03", ()),
]
# Past batches of 2026 per organisation (the loader's own batches come on top).
PAST = {"SKILL-01": 4, "SKILL-02": 5, "SKILL-03": 3, "EMP-01": 6, "EMP-02": 5, "EMP-03": 4}
# (filed on, expires on): SKILL-02's filing expires within six months of the demo.
FILINGS = {"SKILL-01": (date(2024, 10, 1), date(2027, 9, 30)), "SKILL-02": (date(2023, 12, 20), date(2027, 1, 20)),
           "SKILL-03": (date(2025, 5, 10), date(2028, 5, 9)), "EMP-01": (date(2024, 6, 1), date(2027, 5, 31)),
           "EMP-02": (date(2025, 1, 15), date(2028, 1, 14)), "EMP-03": (date(2025, 9, 1), date(2028, 8, 31))}
FIRST_SEED = "5eed2026" * 8  # the demo's own; a real plan's seed is made by the server


def city_of(code: str) -> City | None:
    city_code = ORG_CITY.get(code)
    return db.session.scalar(select(City).where(City.code == city_code)) if city_code else None


def load_cities() -> None:
    for code, name in CITIES:
        if db.session.scalar(select(City).where(City.code == code)) is None:
            accounts.create_city(code, name)


def _at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=clock.DISPLAY_TZ).astimezone(UTC)


def _photo(text_colour=(180, 40, 40)) -> bytes:
    image = Image.new("RGB", (320, 200), (235, 235, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 300, 180), outline=text_colour, width=4)
    draw.line((20, 20, 300, 180), fill=text_colour, width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def load_oversight(standard, password) -> dict:
    if db.session.scalar(select(SupervisionPlan.id).where(SupervisionPlan.year == 2026)) is not None:
        return {}
    now = clock.now()
    orgs = {o.code: o for o in db.session.scalars(select(Organisation))}
    with clock.frozen(_at(2026, 1, 5)):
        for code, name, kind, city in MORE_ORGS:
            if code not in orgs:
                orgs[code] = accounts.create_organisation(code, name, kind,
                                                          db.session.scalar(select(City).where(City.code == city)))
        for i, (username, display, roles, org_code, certs) in enumerate(MORE_USERS):
            if db.session.scalar(select(User).where(User.username == username)) is None:
                accounts.create_user(None, orgs[org_code], username=username, display_name=display,
                                     password=password(username), roles=set(roles), certificates=[
                                         accounts.CertificateInput(kind=k, number=f"DEMO-SUP-{i + 10:04d}",
                                                                   valid_until=date(2029, 12, 31)) for k in certs])
        users = {u.username: u for u in db.session.scalars(select(User))}
        province = users["province"]
        levels = sorted(standard.levels)
        for code, (filed, expires) in FILINGS.items():
            directory.file_organisation(province, orgs[code], filing_no=f"备2026-{code}",
                                        scope=[{"occupation": standard.code, "name": standard.name, "levels": levels}],
                                        filed_on=filed, expires_on=expires)
        # Only 周敏 may supervise SKILL-01 (the others declared ties with it), so a draw of the
        # loader's own SKILL-01 batches keeps the supervisor assigned to them by hand.
        supervision.declare_conflict(users["supervisor2"], orgs["SKILL-01"], "曾为该机构培训讲师")
        supervision.declare_conflict(users["supervisor3"], orgs["SKILL-01"], "亲属在该机构任职")
        supervision.declare_conflict(users["supervisor3"], orgs["EMP-02"], "原工作单位")
    _past_batches(orgs, standard, users)
    with clock.frozen(_at(2026, 6, 25)):
        plan = plans.create_plan(province, 2026)
        first = plans.commit_seed(province, plan, FIRST_SEED)
    with clock.frozen(_at(2026, 7, 1)):
        plans.perform_draw(province, first)
    _spot_checks(plan, orgs, users)
    with clock.frozen(now - timedelta(days=2)):
        rolling = plans.commit_seed(province, plan)
    plans.perform_draw(province, rolling)
    _scores_and_dossier(orgs, users)
    return {"plan": plan.id, "draws": [d.number for d in plan.draws]}


def _past_batches(orgs, standard, users) -> None:
    admins = {"SKILL-01": users["examadmin"], "SKILL-02": users["skill2admin"], "SKILL-03": users["skill3admin"],
              "EMP-01": users["empadmin"], "EMP-02": users["emp2admin"], "EMP-03": users["emp3admin"]}
    level = 4 if 4 in standard.levels else standard.levels[0]
    for n, (code, count) in enumerate(PAST.items()):
        for i in range(count):
            month = 1 + (i * 10 // count) + (n % 2)
            start = _at(2026, min(month, 10), 8 + 3 * n)
            kind = "理论知识考试" if orgs[code].kind == OrgKind.SOCIAL else "企业自主评价"
            batch = Batch(organisation_id=orgs[code].id, standard_id=standard.id, level=level,
                          name=f"2026年第{i + 1}批电工四级{kind}", venue=f"{orgs[code].city.name}考点",
                          window_start=start, window_end=start + timedelta(hours=2), state=BatchState.PUBLISHED,
                          created_by_id=admins[code].id, filed_at=start - timedelta(days=7 if i % 4 else 3),
                          published_at=start + timedelta(days=10), duration_minutes=90)
            db.session.add(batch)
            if code == "SKILL-01":
                db.session.flush()
                for who in ("proctor", "proctor2"):
                    db.session.add(BatchStaff(batch_id=batch.id, user_id=users[who].id, role=StaffRole.PROCTOR))
    db.session.flush()


def _drawn_batch(plan, code: str, orgs) -> tuple[Batch, User]:
    """A batch of `code` drawn with its supervisor, else one of another organisation of its kind."""
    kind = orgs[code].kind
    found = [p for p in plans.picks(plan) if p["supervisor_obj"] is not None and p["batch_obj"].organisation_id
             in {o.id for o in orgs.values() if o.kind == kind}]
    found.sort(key=lambda p: p["organisation"] != code)
    return found[0]["batch_obj"], found[0]["supervisor_obj"]


def _spot_checks(plan, orgs, users) -> None:
    batch, sup = _drawn_batch(plan, "SKILL-02", orgs)
    with clock.frozen(_at(2026, 8, 12, 10)):
        check = checks.record_check(sup, batch, mode="after", checked_on=date(2026, 8, 12), summary=(
            "调阅批次过程记录和考场视频，核对考评员证书。"), checklist=[
            {"code": "S2", "ok": True}, {"code": "T1", "ok": False, "note": "第2考场1名考评员证书已过期"},
            {"code": "P2", "ok": True}, {"code": "F1", "ok": True}])
        finding = checks.add_finding(sup, check, severity="minor", indicator="T1",
                                     text="第2考场安排的考评员证书于考前过期，仍参与监考。",
                                     photos=[("现场照片.png", _photo())])
    with clock.frozen(_at(2026, 8, 26, 15)):
        checks.answer(users["skill2admin"], finding, "已停止该考评员监考工作，组织其参加换证培训并取得新证；"
                      "修订考前持证核验流程，由考务负责人逐一核验。", [("新证书.png", _photo((40, 120, 40)))])
    with clock.frozen(_at(2026, 8, 29, 11)):
        checks.close(sup, finding, "核验新证书与修订的核验流程，整改到位。")
    batch, sup = _drawn_batch(plan, "EMP-02", orgs)
    with clock.frozen(_at(2026, 10, 20, 10)):
        check = checks.record_check(sup, batch, mode="after", checked_on=date(2026, 10, 20), summary=(
            "调阅考场视频和考场记录，第1考场视频监控一路缺失。"), checklist=[
            {"code": "F1", "ok": False, "note": "第1考场视频监控未录像"}, {"code": "T1", "ok": True},
            {"code": "P2", "ok": False, "note": "考场记录未记载监控故障"}])
        checks.add_finding(sup, check, severity="major", indicator="F1",
                           text="第1考场视频监控未录像，考场记录未记载故障及处理情况。",
                           photos=[("监控画面.png", _photo((40, 40, 160)))])


def _scores_and_dossier(orgs, users) -> None:
    province = users["province"]
    for code, rows in (("SKILL-02", [("S1", 80, "制度文本齐全，申诉制度未公开"), ("B1", 85, "题库对应 2018 版标准"),
                                     ("F1", 70, "实地核查：两个考场监控完好，一个考场座位间距不足"),
                                     ("T2", 75, "年度培训 2 次"), ("P2", 90, "抽查批次过程记录完整"),
                                     ("R2", 80, "证书数据按月报送")]),
                       ("SKILL-01", [("S1", 95, "制度健全"), ("F1", 90, "考场设备完好")])):
        for ind, score, evidence in rows:
            indicators.enter_score(province, orgs[code], ind, year=2026, score=score, evidence=evidence)
    row = assessment.assessment_of(orgs["SKILL-02"])
    assessment.add_entry(province, row, method="onsite", by="省职业技能鉴定指导中心 评估组",
                         text="实地核查两个考点：设施符合要求；第3考场座位间距不足，已当场要求调整。", score=82)
    assessment.add_entry(province, row, method="third_party", by="示范省质量评估研究院",
                         text="抽样回访考生 40 人，满意度 92%；评价流程规范。", score=86)
