"""The workforce pages (/campaign/workforce, 培训与资格): trainings and attendance, warnings
(certificates about to expire, organisations short of certified staff), qualifications and
dispatches, and the drill-downs of the staff_trained and certified_staff targets.

Whose records: the province all (or one city it picks); a city administrator their city; an
organisation's administrator their own organisation's staff."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import clock
from examsys.accounts.models import City, Organisation, User
from examsys.campaign.params import scope_args, year_arg, years
from examsys.campaign.targets import Scope
from examsys.campaign.workforce import services as svc
from examsys.campaign.workforce.forms import AttendanceForm, CourseForm, DispatchForm, QualificationForm
from examsys.delivery.models import Batch
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import (
    Permission,
    Role,
    may_keep_records,
    may_record_training,
    may_view_campaign,
    may_view_workforce,
    require,
)
from examsys.viewutil import attempt, perform

bp = Blueprint("workforce", __name__, url_prefix="/campaign/workforce")
VIEW = Permission.WORKFORCE_VIEW


def _authority() -> bool:
    return current_user.has_role(Role.PROVINCIAL_ADMIN) or current_user.has_role(Role.CITY_ADMIN)


def my_scope() -> Scope:
    """The province (or the city it picks), the city administrator's city, else the user's organisation."""
    if current_user.has_role(Role.PROVINCIAL_ADMIN):
        city_id = request.args.get("city", type=int)
        if city_id is not None and db.session.get(City, city_id) is None:
            raise NotFound("未找到该城市")
        return Scope(city_id=city_id)
    if current_user.has_role(Role.CITY_ADMIN):
        return Scope(city_id=current_user.organisation.city_id)
    may_view_workforce(current_user, organisation=current_user.organisation).enforce()
    return Scope(organisation_id=current_user.organisation_id)


def _page(template: str, **ctx):
    scope = ctx.pop("scope")
    return render_template(template, scope=scope, authority=_authority(), years=years(), orgs=svc.names(),
                           cities=svc.cities() if current_user.has_role(Role.PROVINCIAL_ADMIN) else [],
                           tab=request.endpoint, **ctx)


@bp.get("/")
@require(VIEW)
def index():
    scope, year = my_scope(), year_arg()
    if scope.organisation_id is not None:
        org = db.session.get(Organisation, scope.organisation_id)
        staff = [u for u in org.users if u.active and (u.has_role(Role.PROCTOR) or u.certificates)]
        return _page("campaign/workforce/org.html", scope=scope, year=year, org=org, staff=staff,
                     attended=svc.attended_by([u.id for u in staff], year))
    rows = svc.staff_trained_rows(year, scope)
    by_city: dict[int, list] = {}
    for r in rows:
        by_city.setdefault(r.user.organisation.city_id, []).append(r)
    return _page("campaign/workforce/index.html", scope=scope, year=year, courses=svc.courses(scope, year),
                 by_city=[(c, by_city.get(c.id, [])) for c in svc.cities()
                          if scope.city_id in (None, c.id)])


@bp.get("/warnings")
@require(VIEW)
def warnings():
    scope = my_scope()
    days = request.args.get("days", type=int) or current_app.config["EXAMSYS_CERT_WARNING_DAYS"]
    days = max(1, min(days, 730))
    return _page("campaign/workforce/warnings.html", scope=scope, year=year_arg(), days=days,
                 expiring=svc.expiring(scope, days), shortfalls=svc.shortfalls(scope), today=svc.today())


@bp.get("/qualifications")
@require(VIEW)
def qualifications():
    scope, year = my_scope(), year_arg()
    return _page("campaign/workforce/qualifications.html", scope=scope, year=year,
                 rows=svc.qualifications(scope, year), dispatches=svc.dispatches(scope, year))


# --- trainings --------------------------------------------------------------------------------


def _course_form(scope: Scope) -> CourseForm:
    form = CourseForm()
    cities = [c for c in svc.cities() if scope.city_id in (None, c.id)]
    form.city_id.choices = ([(0, "省级举办")] if scope.city_id is None else []) + [(c.id, c.name) for c in cities]
    return form


@bp.route("/courses/new", methods=["GET", "POST"])
@require(VIEW)
def course_new():
    may_keep_records(current_user).enforce()
    scope = my_scope()
    form = _course_form(scope)
    if form.validate_on_submit():
        city = db.session.get(City, form.city_id.data) if form.city_id.data else None
        row, _error = attempt(lambda: svc.create_course(current_user, city, audience=form.audience.data,
                                                        title=form.title.data, held_on=form.held_on.data,
                                                        hours=form.hours.data),
                              success="培训已登记，请登记签到", form=form)
        if row is not None:
            return redirect(url_for("workforce.course", course_id=row.id), 303)
    return _page("campaign/workforce/course_new.html", scope=scope, year=year_arg(), form=form)


def _course(course_id: int):
    row = svc.get_course(course_id)
    if row.city_id is None:
        if not current_user.has_role(Role.PROVINCIAL_ADMIN) and not current_user.has_role(Role.CITY_ADMIN):
            raise NotFound("未找到该培训")
    elif not may_view_workforce(current_user, city_id=row.city_id):
        raise NotFound("未找到该培训")
    return row


@bp.get("/courses/<int:course_id>")
@require(VIEW)
def course(course_id: int):
    row = _course(course_id)
    people = svc.attendees(row)
    form = AttendanceForm(data={"present": [a.user_id for a in row.attendance if a.attended]})
    form.present.choices = [(u.id, f"{u.display_name}（{u.organisation.name}）") for u in people]
    return render_template("campaign/workforce/course.html", course=row, form=form,
                           editable=bool(may_record_training(current_user, row.city_id)))


@bp.post("/courses/<int:course_id>/attendance")
@require(VIEW)
def course_attendance(course_id: int):
    row = _course(course_id)
    form = AttendanceForm()
    form.present.choices = [(u.id, u.display_name) for u in svc.attendees(row)]
    if form.validate_on_submit():
        perform(lambda: svc.record_attendance(current_user, row, set(form.present.data or [])), success="签到已保存")
    else:
        flash("签到名单无效，请刷新页面后重试", "error")
    return redirect(url_for("workforce.course", course_id=row.id), 303)


# --- qualifications and dispatches ------------------------------------------------------------


@bp.route("/qualifications/new", methods=["GET", "POST"])
@require(VIEW)
def qualification_new():
    may_keep_records(current_user).enforce()
    scope = my_scope()
    form = QualificationForm(data={"qualified_on": svc.today()} if request.method == "GET" else None)
    form.user_id.choices = [(u.id, f"{u.display_name}（{u.organisation.name}）") for u in svc.people(scope)]
    if form.validate_on_submit():
        person = db.session.get(User, form.user_id.data)
        row, _error = attempt(lambda: svc.qualify(current_user, person, kind=form.kind.data, number=form.number.data,
                                                  qualified_on=form.qualified_on.data,
                                                  valid_until=form.valid_until.data),
                              success="资格认定已登记，证书已更新", form=form)
        if row is not None:
            return redirect(url_for("workforce.qualifications"), 303)
    return _page("campaign/workforce/qualification_new.html", scope=scope, year=year_arg(), form=form)


@bp.route("/dispatches/new", methods=["GET", "POST"])
@require(VIEW)
def dispatch_new():
    may_keep_records(current_user).enforce()
    scope = my_scope()
    form = DispatchForm()
    form.user_id.choices = [(u.id, f"{u.display_name}（{u.organisation.name}）") for u in svc.people(scope)]
    form.batch_id.choices = [(b.id, f"{b.name}（{clock.to_display(b.window_start):%Y-%m-%d}）")
                             for b in svc.upcoming_batches(scope)]
    if form.validate_on_submit():
        person, batch = db.session.get(User, form.user_id.data), db.session.get(Batch, form.batch_id.data)
        row, _error = attempt(lambda: svc.dispatch(current_user, person, batch, kind=form.kind.data,
                                                   note=form.note.data or ""), success="派遣已登记", form=form)
        if row is not None:
            return redirect(url_for("workforce.qualifications"), 303)
    return _page("campaign/workforce/dispatch_new.html", scope=scope, year=year_arg(), form=form)


# --- drill-downs of the console's targets ------------------------------------------------------


@bp.get("/drill/trained")
@require(Permission.CITY_OVERSEE)
def drill_trained():
    year = year_arg()
    city, org = scope_args()
    scope = Scope(city.id if city else None, org.id if org else None)
    may_view_campaign(current_user, scope.city_id, org).enforce()
    rows = svc.staff_trained_rows(year, scope)
    target = svc.targets(year, scope)[0]
    return render_template("campaign/workforce/drill_trained.html", rows=rows, target=target, year=year,
                           city=city, org=org)


@bp.get("/drill/certified")
@require(Permission.CITY_OVERSEE)
def drill_certified():
    year = year_arg()
    city, org = scope_args()
    scope = Scope(city.id if city else None, org.id if org else None)
    rows = svc.certified_staff_rows(year, scope)
    target = svc.targets(year, scope)[1]
    return render_template("campaign/workforce/drill_certified.html", rows=rows, target=target, year=year,
                           city=city, org=org, orgs=svc.names())
