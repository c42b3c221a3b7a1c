"""Loading the demo world (idempotent): a provincial authority, two organisations of different
kinds, one user per role, a few registered candidates, the 电工 standard with its bank, a paper
blueprint, a past batch sat two weeks before the first load and published (examsys.demo.past_batch),
and a filed batch of 30 candidates open for four hours from the first load. Returns
what it loaded for printing (`examsys demo --json`). Flushes only: the `examsys demo` command
commits (examsys.transaction.command)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from examsys import clock
from examsys.accounts import idnumber, services
from examsys.accounts.models import Candidate, CertificateKind, Organisation, OrgKind, User
from examsys.demo import (
    campaign_certdata,
    campaign_satisfaction,
    campaign_workforce,
    oversight,
    past_batch,
    stats_batch,
)
from examsys.demo.bank import load_items, load_standard
from examsys.demo.blueprints import load_demo_blueprint
from examsys.demo.delivery import load_demo_batch
from examsys.extensions import db
from examsys.permissions import Role

ORGS = [
    ("PROVINCE", "示范省人力资源和社会保障厅", OrgKind.AUTHORITY),
    ("SKILL-01", "示范省电工职业技能评价中心", OrgKind.SOCIAL),
    ("EMP-01", "示范省电力设备制造有限公司", OrgKind.EMPLOYER),
]

CERT_UNTIL = date(2029, 12, 31)

# (username, display name, roles, organisation code, certificate kinds)
USERS = [
    ("province", "省厅管理员", {Role.PROVINCIAL_ADMIN}, "PROVINCE", ()),
    ("supervisor", "督导员 周敏", {Role.SUPERVISOR}, "PROVINCE", (CertificateKind.SUPERVISOR,)),
    ("orgadmin", "机构管理员 李强", {Role.ORG_ADMIN}, "SKILL-01", ()),
    ("writer", "命题专家 王建国", {Role.WRITER}, "SKILL-01", ()),
    ("reviewer", "审题专家 陈静", {Role.REVIEWER}, "SKILL-01", ()),
    ("examadmin", "考务管理员 赵磊", {Role.EXAM_ADMIN}, "SKILL-01", ()),
    # The second person of 复核: results are checked by someone who did not compute them.
    ("examadmin2", "考务管理员 钱芳", {Role.EXAM_ADMIN}, "SKILL-01", ()),
    ("proctor", "考评员 孙丽", {Role.PROCTOR}, "SKILL-01", (CertificateKind.EXAMINER,)),
    ("proctor2", "考评员 吴刚", {Role.PROCTOR}, "SKILL-01", (CertificateKind.EXAMINER,)),
    # the statistics sitting's second room (examsys.demo.stats_batch)
    ("proctor3", "考评员 郑伟", {Role.PROCTOR}, "SKILL-01", (CertificateKind.EXAMINER,)),
    ("proctor4", "考评员 冯静", {Role.PROCTOR}, "SKILL-01", (CertificateKind.EXAMINER,)),
    ("empadmin", "企业管理员 刘洋", {Role.ORG_ADMIN}, "EMP-01", ()),
]

# Fictional people; the ID numbers are valid by checksum but made up.
CANDIDATES = [
    ("张伟", "11010519900307123"),
    ("王芳", "44030519920815234"),
    ("李娜", "32010619950121345"),
    ("刘洋", "51010719880630456"),
    ("陈杰", "42010219931111567"),
]


# One password for every demo login: the password policy refuses one that contains the username.
DEMO_PASSWORD = "examsys-demo-2026"  # noqa: S105 - the demo's, printed by `examsys demo`


def demo_password(username: str) -> str:
    """The demo password of `username` (the same for all; the summary lists it per user)."""
    return DEMO_PASSWORD


def _org(code: str, name: str, kind: OrgKind) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    return org or services.create_organisation(code, name, kind, oversight.city_of(code))


def load_demo() -> dict:
    now = clock.now()
    # A new world is set up weeks before the past batch (examsys.demo.past_batch), so that the
    # process record reads in order: users and bank first, the past sitting, then today's batch.
    fresh = db.session.scalar(select(Organisation.id).where(Organisation.code == ORGS[1][0])) is None
    with clock.frozen(past_batch.world_start(now) if fresh else now):
        orgs, users_out, by_name, standard, blueprint = _world()
        registered = [(name, idnumber.make_valid(first17)) for name, first17 in CANDIDATES]
        past = past_batch.load_past_batch(orgs["SKILL-01"], standard, by_name, blueprint, registered, now=now)
        marked = stats_batch.load_stats_batch(orgs["SKILL-01"], standard, by_name, blueprint, now=now)
    exam = load_demo_batch(orgs["SKILL-01"], standard, by_name, blueprint)
    oversight.load_oversight(standard, demo_password)
    campaign_satisfaction.load_satisfaction()
    campaign_certdata.load_certdata(standard)
    users_out += [{"username": u, "password": demo_password(u), "roles": sorted(r.value for r in roles),
                   "organisation": org} for u, _name, roles, org, _certs in oversight.MORE_USERS]
    users_out += campaign_workforce.load_workforce(demo_password)
    return {
        "organisations": [{"code": c, "name": n, "kind": k.value} for c, n, k in ORGS],
        "users": users_out,
        # Candidates of the demo batch (they can log in to the exam); the few registered-only
        # candidates above stay in the database for the candidate pages.
        "candidates": exam["candidates"],
        "batches": exam["batches"] + [past, marked],
    }


def _world() -> tuple:
    """Organisations, users, registered candidates, the standard, its bank and the blueprint
    (each created once), a few days apart when the clock is frozen."""
    oversight.load_cities()
    orgs = {code: _org(code, name, kind) for code, name, kind in ORGS}
    users_out = []
    for i, (username, display, roles, org_code, certs) in enumerate(USERS):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            services.create_user(
                None, orgs[org_code], username=username, display_name=display,
                password=demo_password(username), roles=set(roles),
                certificates=[services.CertificateInput(kind=k, number=f"DEMO-{k.value[:3].upper()}-{i:04d}",
                                                        valid_until=CERT_UNTIL) for k in certs])
        users_out.append({"username": username, "password": demo_password(username),
                          "roles": sorted(r.value for r in roles), "organisation": org_code})
    _later(days=1)
    for name, first17 in CANDIDATES:
        number = idnumber.make_valid(first17)
        org = orgs["SKILL-01"]
        if not db.session.scalar(select(Candidate.id).where(
                Candidate.organisation_id == org.id,
                Candidate.id_number_index == services.id_index(number))):
            services.create_candidate(org, name=name, id_number=number)
    _later(days=1)
    standard = load_standard()
    by_name = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(
        ["writer", "reviewer", "examadmin", "examadmin2", "proctor", "proctor2", "supervisor", "province"])))}
    _later(days=1)
    load_items(orgs["SKILL-01"], standard, by_name["writer"], by_name["reviewer"])
    _later(days=17)
    blueprint = load_demo_blueprint(orgs["SKILL-01"], standard, by_name["examadmin"])
    return orgs, users_out, by_name, standard, blueprint


def _later(*, days: int) -> None:
    clock.advance(timedelta(days=days, minutes=47))
