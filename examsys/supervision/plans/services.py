"""The plans' operations: the province makes a yearly plan (minimum rates per kind), commits a
seed for each draw (only its SHA-256 is published), performs the draw over the batches filed so
far — the pure `examsys.supervision.draw.run` on the plan input built here, stored with the
result — and the drawn batches get their supervisor through the ordinary assignment
(examsys.supervision.services.assign). A rolling draw tops the year up after more batches are
filed. Coverage is recomputed live from the batches of the year and every draw's picks.

Services flush; the request commits. Raises PermissionDenied (not the province), Conflict (a
plan for the year exists; a committed draw not yet performed), ValidationError, NotFound."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import CertificateKind, City, Organisation, OrgKind, User
from examsys.audit.actions import AuditAction
from examsys.delivery.models import Batch, BatchState
from examsys.errors import Conflict, DomainError, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Role, may_run_plans
from examsys.supervision import draw as drawing
from examsys.supervision import services as supervision
from examsys.supervision.models import ConflictDeclaration
from examsys.supervision.plans.models import SupervisionDraw, SupervisionPlan

KIND_OF = {OrgKind.SOCIAL: "social", OrgKind.EMPLOYER: "employer", OrgKind.AUTHORITY: "authority"}


def _today():
    return clock.to_display(clock.now()).date()


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return (datetime(year, 1, 1, tzinfo=clock.DISPLAY_TZ), datetime(year + 1, 1, 1, tzinfo=clock.DISPLAY_TZ))


def create_plan(actor: User, year: int, *, social_rate: str = "0.5", employer_rate: str = "0.1") -> SupervisionPlan:
    """Raises PermissionDenied, Conflict (the year has a plan) or ValidationError (a rate below
    the campaign's minimum or above 100%)."""
    may_run_plans(actor).enforce()
    rates = {"social": str(social_rate).strip(), "employer": str(employer_rate).strip()}
    try:
        parsed = drawing._rates({"rates": rates})
    except drawing.PlanError as exc:
        raise ValidationError(str(exc), field="rates") from exc
    for kind, minimum in drawing.DEFAULT_RATES.items():
        if parsed[kind] < drawing.Fraction(minimum):
            raise ValidationError(f"抽查比例不得低于 {float(drawing.Fraction(minimum)):.0%}", field=f"{kind}_rate")
    if db.session.scalar(select(SupervisionPlan).where(SupervisionPlan.authority_id == actor.organisation_id,
                                                       SupervisionPlan.year == year)):
        raise Conflict(f"{year} 年的抽查计划已存在")
    plan = SupervisionPlan(authority_id=actor.organisation_id, year=year, rates=rates, created_by_id=actor.id,
                           created_at=clock.now())
    db.session.add(plan)
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_PLAN_CREATED, obj=plan, organisation_id=actor.organisation_id,
                 data={"year": year, "rates": rates})
    return plan


def plans() -> list[SupervisionPlan]:
    return list(db.session.scalars(select(SupervisionPlan).order_by(SupervisionPlan.year.desc())))


def get_plan(plan_id: int) -> SupervisionPlan:
    plan = db.session.get(SupervisionPlan, plan_id)
    if plan is None:
        raise NotFound("未找到该抽查计划")
    return plan


def commit_seed(actor: User | None, plan: SupervisionPlan, seed_hex: str | None = None) -> SupervisionDraw:
    """A new draw with a fresh seed (made here unless given), of which only the SHA-256 is
    published until the draw. Raises PermissionDenied or Conflict (a committed draw waits)."""
    may_run_plans(actor).enforce()
    if any(not d.performed for d in plan.draws):
        raise Conflict("已有承诺了种子但尚未抽取的批次抽取，请先完成该次抽取")
    seed_hex = seed_hex or secrets.token_hex(32)
    row = SupervisionDraw(plan_id=plan.id, number=len(plan.draws) + 1, seed_hex=seed_hex,
                          seed_sha256=drawing.commitment(seed_hex), committed_at=clock.now(),
                          committed_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    db.session.expire(plan, ["draws"])
    audit.record(AuditAction.SUPERVISION_DRAW_COMMITTED, obj=row, organisation_id=plan.authority_id,
                 data={"plan": plan.id, "number": row.number, "seed_sha256": row.seed_sha256})
    return row


def year_batches(year: int) -> list[Batch]:
    """The batches of evaluation organisations filed so far for the year (planned ones are not
    filed)."""
    start, end = _year_bounds(year)
    stmt = (select(Batch).join(Organisation, Organisation.id == Batch.organisation_id)
            .where(Batch.window_start >= start, Batch.window_start < end, Batch.state != BatchState.PLANNED,
                   Batch.filed_at <= clock.now(), Organisation.kind != OrgKind.AUTHORITY).order_by(Batch.id))
    return list(db.session.scalars(stmt))


def pool(on) -> list[User]:
    """The certified supervisors: active, holding the role and a supervisor certificate valid on `on`."""
    return [u for u in supervision.supervisors() if u.has_role(Role.SUPERVISOR)
            and u.valid_certificate(CertificateKind.SUPERVISOR, on) is not None]


def plan_input(plan: SupervisionPlan, number: int) -> dict:
    """The plan file (README "Supervision plan file") the draw `number` runs on: the published
    inputs, with the picks of the earlier draws of the year."""
    batches = year_batches(plan.year)
    org_ids = {b.organisation_id for b in batches}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    cities = {c.id: c.code for c in db.session.scalars(select(City))}
    codes = {o.id: o.code for o in db.session.scalars(select(Organisation))}
    conflicts: dict[int, list[str]] = {}
    for c in db.session.scalars(select(ConflictDeclaration)):
        conflicts.setdefault(c.supervisor_id, []).append(codes[c.organisation_id])
    earlier = [d for d in plan.draws if d.performed and d.number < number]
    drawn = [p["batch"] for d in earlier for p in d.result["picks"]]
    load: dict[str, int] = {}
    for d in earlier:
        for p in d.result["picks"]:
            if p.get("supervisor"):
                load[p["supervisor"]] = load.get(p["supervisor"], 0) + 1
    known = {b.id for b in batches}
    return {
        "format": drawing.PLAN_FORMAT, "province": plan.authority.name, "year": plan.year, "draw": number,
        "rates": dict(plan.rates),
        "organisations": [{"code": o.code, "name": o.name, "kind": KIND_OF[o.kind], "city": cities[o.city_id]}
                          for o in sorted(orgs.values(), key=lambda o: o.code)],
        "batches": [{"id": str(b.id), "organisation": orgs[b.organisation_id].code, "name": b.name,
                     "window_start": clock.to_display(b.window_start).date().isoformat()} for b in batches],
        "supervisors": [{"id": str(u.id), "name": u.display_name, "organisation": codes[u.organisation_id],
                         "conflicts": sorted(conflicts.get(u.id, []))} for u in pool(_today())],
        "already_drawn": [b for b in drawn if int(b) in known],
        "previous_pool": sorted({b["id"] for d in earlier for b in d.inputs["batches"]} & {str(i) for i in known},
                                key=int),
        "load": load,
    }


def perform_draw(actor: User | None, row: SupervisionDraw) -> dict:
    """Draw with the committed seed over the batches filed so far, reveal the seed, and assign
    each drawn batch its supervisor. A pick whose assignment is refused (e.g. no certificate
    valid on the exam's dates) keeps the reason in the result. Raises PermissionDenied or
    Conflict (performed already)."""
    may_run_plans(actor).enforce()
    if row.performed:
        raise Conflict("该次抽取已完成")
    plan = row.plan
    inputs = plan_input(plan, row.number)
    result = drawing.run(inputs, row.seed_hex)
    people = {str(u.id): u for u in pool(_today())}
    for pick in result["picks"]:
        person = people.get(pick["supervisor"] or "")
        if person is None:
            continue
        batch = db.session.get(Batch, int(pick["batch"]))
        if any(a.supervisor_id == person.id for a in supervision.running_assignments(batch)):
            continue  # assigned already (e.g. by hand before the draw)
        try:
            supervision.assign(actor or plan_admin(plan), batch, person)
        except DomainError as exc:
            pick["assignment_refused"] = str(exc)
    row.inputs, row.result = inputs, result
    row.drawn_at, row.drawn_by_id = clock.now(), actor.id if actor else None
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_DRAW_PERFORMED, obj=row, organisation_id=plan.authority_id,
                 data={"plan": plan.id, "number": row.number, "seed": row.seed_hex,
                       "plan_sha256": result["plan_sha256"], "picks": [p["batch"] for p in result["picks"]]})
    return result


def plan_admin(plan: SupervisionPlan) -> User:
    """The user the system acts as when it performs a draw itself (the demo): a provincial admin."""
    for user in db.session.scalars(select(User).where(User.organisation_id == plan.authority_id)):
        if user.has_role(Role.PROVINCIAL_ADMIN):
            return user
    raise ValidationError("省级主管部门没有省级管理员，无法委派督导员")


def drawn_ids(plan: SupervisionPlan) -> set[str]:
    return {p["batch"] for d in plan.draws if d.performed for p in d.result["picks"]}


def live_coverage(plan: SupervisionPlan) -> dict:
    """Coverage against the minimum rates over every batch of the year filed so far (a batch
    filed after the last draw lowers it until a rolling draw)."""
    inputs = plan_input(plan, len(plan.draws) + 1)
    cov = drawing.coverage(inputs, drawn_ids(plan))
    names = {c.code: c.name for c in db.session.scalars(select(City))}
    for row in cov["cities"]:
        row["name"] = names.get(row["city"], row["city"])
    for row in cov["organisations"]:
        row["city_name"] = names.get(row["city"], row["city"])
    return cov


def picks(plan: SupervisionPlan) -> list[dict]:
    """Every pick of the plan's performed draws, with its batch and supervisor for the page."""
    people = {u.id: u for u in db.session.scalars(select(User))}
    names = {o.code: o.name for o in db.session.scalars(select(Organisation))}
    out = []
    for d in plan.draws:
        if not d.performed:
            continue
        for p in d.result["picks"]:
            batch = db.session.get(Batch, int(p["batch"]))
            out.append({**p, "draw": d.number, "batch_obj": batch, "organisation_name": names.get(p["organisation"]),
                        "supervisor_obj": people.get(int(p["supervisor"])) if p.get("supervisor") else None})
    return out


__all__ = ["commit_seed", "create_plan", "drawn_ids", "get_plan", "live_coverage",
           "perform_draw", "picks", "plan_input", "plans", "pool", "year_batches"]
