"""The demo's certificate data (证书数据): the supervision demo's published 2026 batches of five
organisations (EMP-01 has no exam admin) get results, each checked and reported two days after
publication, and records the provincial platform returned, entered by the province a few days
later — across both cities and most months of the year. 西江市职业技能鉴定服务中心 (SKILL-02) has
more returns each time, for missing photos in the latest, so evaluating the warning rules raises
its warnings. SKILL-01's latest batch is left unreported: its check found a missing photo (open)
and a candidate already certified by SKILL-02 (explained). Idempotent: skipped once any report
exists.

`sit` makes a published sitting's rows directly (paper, roster, attempts, results), without the
exam itself; the tests of certificate data use it too."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from examsys import clock
from examsys.accounts import candidates as accounts_candidates
from examsys.accounts import idnumber
from examsys.accounts.models import Candidate, Organisation, User
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperStatus
from examsys.campaign.certdata import services as certdata
from examsys.campaign.certdata import warnings
from examsys.campaign.certdata.models import CertReport
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, Result, RosterEntry
from examsys.extensions import db
from examsys.standards.models import Standard

PASS_MARK = 60.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "建华",
         "志强", "海燕", "晓东"]
REGIONS = {"C-DONG": "110105", "C-XI": "440305"}
# The organisations whose exam admin checks and reports (EMP-01 has no exam admin in the demo)
ADMINS = {"SKILL-01": "examadmin", "SKILL-02": "skill2admin", "SKILL-03": "skill3admin", "EMP-02": "emp2admin",
          "EMP-03": "emp3admin"}


def photo_bytes(seed: int) -> bytes:
    """A small made-up ID photo (a grey head on a blue ground)."""
    image = Image.new("RGB", (120, 160), (70, 120, 200))
    draw = ImageDraw.Draw(image)
    shade = 150 + seed % 80
    draw.ellipse((35, 25, 85, 85), fill=(shade, shade, shade))
    draw.rectangle((25, 95, 95, 160), fill=(shade - 40, shade - 40, shade - 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def person(n: int, region: str, born_year: int) -> tuple[str, str]:
    """A made-up person: a name and an ID number valid by checksum."""
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
    first17 = f"{region}{born_year:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return name, idnumber.make_valid(first17)


def _paper(batch: Batch, admin: User) -> Paper:
    blueprint = PaperBlueprint(organisation_id=batch.organisation_id, standard_id=batch.standard_id,
                               level=batch.level, name=f"{batch.name}细目表", pass_mark=PASS_MARK,
                               total_points=100, created_by_id=admin.id)
    db.session.add(blueprint)
    db.session.flush()
    paper = Paper(organisation_id=batch.organisation_id, blueprint_id=blueprint.id, standard_id=batch.standard_id,
                  level=batch.level, name=f"{batch.name}试卷", status=PaperStatus.FROZEN, seed=1,
                  blueprint_snapshot={"pass_mark": PASS_MARK, "total_points": 100, "duration_minutes": 90},
                  created_by_id=admin.id, frozen_at=batch.window_start - timedelta(days=10))
    db.session.add(paper)
    db.session.flush()
    form = PaperForm(paper_id=paper.id, label="A")
    db.session.add(form)
    db.session.flush()
    return paper


def sit(batch: Batch, admin: User, people: list[tuple[str, str, float]], *,
        without_photo: frozenset[int] = frozenset()) -> list[Result]:
    """A published sitting of `batch`: each (name, ID number, score) registered (once per
    organisation; with a photo unless its index is in `without_photo`), on the roster, with a
    submitted attempt and a result against a pass mark of 60."""
    org = db.session.get(Organisation, batch.organisation_id)
    paper = _paper(batch, admin)
    batch.paper_id = paper.id
    form_id = db.session.scalar(select(PaperForm.id).where(PaperForm.paper_id == paper.id))
    out = []
    for i, (name, number, score) in enumerate(people):
        cand = db.session.scalar(select(Candidate).where(
            Candidate.organisation_id == org.id,
            Candidate.id_number_index == accounts_candidates.id_index(number)))
        if cand is None:
            cand = accounts_candidates.create_candidate(org, name=name, id_number=number)
            if i not in without_photo:
                accounts_candidates.set_candidate_photo(cand, "photo.png", photo_bytes(i))
        entry = RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=f"CD{batch.id:05d}{i + 1:03d}",
                            order_seed=i + 1)
        db.session.add(entry)
        db.session.flush()
        start = batch.window_start + timedelta(minutes=5)
        attempt = Attempt(batch_id=batch.id, roster_entry_id=entry.id, form_id=form_id, order_seed=i + 1,
                          status=AttemptStatus.SUBMITTED, started_at=start, deadline_at=start + timedelta(minutes=90),
                          finished_at=start + timedelta(minutes=70), finish_reason="submitted")
        db.session.add(attempt)
        db.session.flush()
        result = Result(attempt_id=attempt.id, batch_id=batch.id, total=score, final_total=score,
                        section_scores=[], pass_mark=PASS_MARK, passed=score >= PASS_MARK, computed_by_id=admin.id,
                        computed_at=batch.window_end + timedelta(days=1))
        db.session.add(result)
        out.append(result)
    db.session.flush()
    return out


def load_certdata(standard: Standard) -> dict:
    """Results, checks and reports for the supervision demo's published 2026 batches (no new
    batches: the 双随机 plan's coverage stays as drawn)."""
    if db.session.scalar(select(CertReport.id).limit(1)) is not None:
        return {}
    now = clock.now()
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.code.in_(ADMINS)))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    batches = [b for b in db.session.scalars(
        select(Batch).where(Batch.organisation_id.in_(orgs), Batch.state == BatchState.PUBLISHED,
                            Batch.paper_id.is_(None)).order_by(Batch.window_start, Batch.id))
        if b.published_at is not None and b.published_at <= now - timedelta(days=3)]
    if not batches:
        return {}
    skill01 = [b for b in batches if orgs[b.organisation_id].code == "SKILL-01"]
    left_open = skill01[-1] if skill01 else None
    seen: dict[str, int] = {}
    reports = 0
    for n, batch in enumerate(batches):
        org = orgs[batch.organisation_id]
        checker = users[ADMINS[org.code]]
        people = []
        for i in range(8):
            name, number = person(n * 10 + i, REGIONS.get(org.city.code, "320106"), 1975 + (n + i) % 25)
            people.append((name, number, 52.0 + (n * 3 + i * 7) % 45))
        if batch is left_open:
            _problem_batch(batch, people, users, now)
            continue
        sit(batch, checker, people)
        with clock.frozen(batch.published_at + timedelta(days=2)):
            certdata.run_check(checker, batch)
            report = certdata.report(checker, batch)
        reports += 1
        k = seen[org.code] = seen.get(org.code, -1) + 1
        _returns(report, org.code, k, users["province"], now)
    with clock.frozen(now - timedelta(hours=1)):
        raised = warnings.evaluate()
    return {"reports": reports, "warnings": len(raised)}


def _returns(report: CertReport, code: str, k: int, province: User, now: datetime) -> None:
    """SKILL-02 gets more returns each month, for photos in the last months; EMP-02 none (the
    demo's 领航型 organisation: at its goal on every target); the others one now and then, in
    the older months."""
    records = list(report.records)
    when = min(report.reported_at + timedelta(days=5), now - timedelta(hours=2))
    if code == "SKILL-02":
        picks = records[: min(len(records), 1 + k // 2)]  # 1, 1, 2, 2, 3: the last within the warning months
        reason = "photo" if k >= 2 else "name"
    elif code != "EMP-02" and report.reported_at < now - timedelta(days=100) and (k + len(code)) % 2 == 0 \
            and records:
        # older months only: no warning for them
        picks, reason = records[-1:], ["id_number", "dates", "other"][k % 3]
    else:
        return
    with clock.frozen(when):
        certdata.enter_returns(province, report, [r.id for r in picks], reason,
                               "照片背景不符合要求" if reason == "photo" else "省平台核验不通过")


def _problem_batch(batch: Batch, people: list, users: dict, now: datetime) -> None:
    """SKILL-01's latest batch, not reported: one candidate without a photo (open problem), one
    already certified at 西江 (SKILL-02) for the same occupation and level (explained)."""
    examadmin, orgadmin = users["examadmin"], users["orgadmin"]
    other = db.session.scalar(select(CertReport).join(Organisation, Organisation.id == CertReport.organisation_id)
                              .where(Organisation.code == "SKILL-02").order_by(CertReport.reported_at))
    if other is not None:
        twice = other.records[0]
        people = [*people[:6], (twice.name, certdata.id_number_of(twice), 81.0)]
    people = [*people, (*person(950, "110105", 1996), 77.0)]
    sit(batch, examadmin, people, without_photo=frozenset({len(people) - 1}))
    with clock.frozen(min(batch.published_at + timedelta(hours=20), now - timedelta(hours=3))):
        certdata.run_check(examadmin, batch)
    duplicate = next((p for p in certdata.problems_of(batch) if p.kind == "duplicate"), None)
    if duplicate is not None:
        with clock.frozen(min(batch.published_at + timedelta(hours=26), now - timedelta(hours=2))):
            certdata.explain(orgadmin, duplicate, "该考生在西江市参加的是电工四级（维修电工方向）评价，本次为企业委托的"
                             "复评，经省鉴定中心同意重新认定，原证书将注销。")
