"""Login and logout, the home page, and management of organisations, users and candidates."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from examsys.accounts import services
from examsys.accounts.forms import (
    CandidateForm,
    CandidateSearchForm,
    EmptyForm,
    IdLookupForm,
    LoginForm,
    OrganisationForm,
    PasswordResetForm,
    RevealForm,
    UserForm,
)
from examsys.accounts.models import (
    DEFAULT_CITY_CODE,
    DEFAULT_CITY_NAME,
    Candidate,
    CertificateKind,
    Organisation,
    OrgKind,
    User,
)
from examsys.errors import DomainError, NotFound
from examsys.extensions import db, limiter
from examsys.permissions import (
    ROLE_LABELS,
    Permission,
    Role,
    login_only,
    may_appoint_supervisors,
    public,
    require,
    sees_all_organisations,
)
from examsys.tenancy import get_scoped, scoped
from examsys.viewutil import attempt, perform, refusal_status, safe_next

bp = Blueprint("accounts", __name__)
PAGE_SIZE = 50


def _login_rate() -> str:
    return current_app.config["EXAMSYS_LOGIN_RATE"]


def _username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_rate, methods=["POST"])
@limiter.limit(_login_rate, key_func=_username_key, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        # A refused login keeps only what authenticate asked to keep: the failed-login count,
        # the lock-out and their audit events.
        user, error = attempt(lambda: services.authenticate(form.username.data, form.password.data))
        if error is not None:
            return render_template("accounts/login.html", form=form), 200
        # Session rotation: drop everything the pre-login cookie carried, keep only the language.
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        services.start_session(user, ip=request.remote_addr,
                               user_agent=request.headers.get("User-Agent"))
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("accounts.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_only
def logout():
    token = current_user.current_session_token
    if token:
        services.end_session(token, reason="logout")
    logout_user()
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/")
@login_only
def home():
    return render_template("home.html")


# --- organisations (provincial admin) ------------------------------------------------------------


@bp.get("/organisations")
@require(Permission.ORG_MANAGE)
def organisations():
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.code))
    counts = dict(db.session.execute(
        select(User.organisation_id, func.count()).group_by(User.organisation_id)).all())
    return render_template("accounts/organisations.html", orgs=list(orgs), counts=counts)


@bp.route("/organisations/new", methods=["GET", "POST"])
@require(Permission.ORG_MANAGE)
def organisation_new():
    form = OrganisationForm()
    cities = _city_choices(form)
    error = None
    if form.validate_on_submit():
        org, error = attempt(lambda: services.create_organisation(
            form.code.data, form.name.data, OrgKind(form.kind.data), cities.get(form.city_id.data)), form=form)
        if error is None:
            flash(f"已创建机构 {org.name}", "success")
            return redirect(url_for("accounts.organisations"))
    return render_template("accounts/organisation_form.html", form=form, org=None), refusal_status(error)


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@require(Permission.ORG_MANAGE)
def organisation_edit(org_id: int):
    org = db.session.get(Organisation, org_id) or _not_found()
    form = OrganisationForm(obj=org)
    cities = _city_choices(form)
    if request.method == "GET":
        form.kind.data = org.kind.value
    if form.validate_on_submit():
        services.update_organisation(org, name=form.name.data, kind=OrgKind(form.kind.data),
                                     active=form.active.data, city=cities.get(form.city_id.data))
        flash("已保存", "success")
        return redirect(url_for("accounts.organisations"))
    return render_template("accounts/organisation_form.html", form=form, org=org)


def _not_found():
    raise NotFound("未找到该对象")


def _city_choices(form: OrganisationForm) -> dict:
    """The cities by id; 0 stands for the province's own entry while no city exists yet."""
    cities = {c.id: c for c in services.cities()} or {0: None}
    form.city_id.choices = [(i, c.name if c else DEFAULT_CITY_NAME) for i, c in cities.items()]
    if request.method == "GET" and form.city_id.data is None:
        form.city_id.data = next((i for i, c in cities.items() if c is None or c.code == DEFAULT_CITY_CODE), None)
    return cities


# --- users ---------------------------------------------------------------------------------------


def _org_choices() -> list[tuple[int, str]]:
    # Organisations are the tenants themselves: one's own, or all for the province.
    stmt = select(Organisation).order_by(Organisation.code)
    if not sees_all_organisations(current_user):
        stmt = stmt.where(Organisation.id == current_user.organisation_id)
    return [(o.id, f"{o.name}（{o.code}）") for o in db.session.scalars(stmt)]


def _role_choices() -> list[tuple[str, str]]:
    """The roles the current user may grant: a provincial admin and a supervisor (督导员) only by
    the province (accounts.services refuses them anyway)."""
    return [(r.value, label) for r, label in ROLE_LABELS.items()
            if r not in (Role.PROVINCIAL_ADMIN, Role.SUPERVISOR) or current_user.has_role(Role.PROVINCIAL_ADMIN)]


def _appoints_supervisors() -> bool:
    return bool(may_appoint_supervisors(current_user))


def _target_org(org_id: int | None) -> Organisation:
    """The organisation a new user or candidate goes into: one's own, or any for the province."""
    org = db.session.get(Organisation, org_id or current_user.organisation_id)
    if org is None or (not sees_all_organisations(current_user)
                       and org.id != current_user.organisation_id):
        raise NotFound("未找到该机构")
    return org


def _certs_from(form: UserForm, user: User | None = None) -> list[services.CertificateInput]:
    """The certificates the form states. 督导员证 are the authority's to record: for anyone else the
    form has no such fields, and the user's supervisor certificates stay as they are."""
    certs = []
    fields = [(CertificateKind.EXAMINER, form.examiner_cert_no.data, form.examiner_cert_until.data)]
    if _appoints_supervisors():
        fields.append((CertificateKind.SUPERVISOR, form.supervisor_cert_no.data, form.supervisor_cert_until.data))
    elif user is not None:
        certs += [services.CertificateInput(kind=c.kind, number=c.number, valid_until=c.valid_until)
                  for c in user.certificates if c.kind == CertificateKind.SUPERVISOR]
    for kind, no, until in fields:
        if no and until:
            certs.append(services.CertificateInput(kind=kind, number=no, valid_until=until))
        elif no or until:
            raise DomainError("证书编号和有效期须同时填写", field="certificates")
    return certs


@bp.get("/users")
@require(Permission.USER_MANAGE)
def users():
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = scoped(User, current_user).order_by(User.organisation_id, User.username)
    rows = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("accounts/users.html", rows=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.USER_MANAGE)
def user_new():
    form = UserForm()
    form.organisation_id.choices = _org_choices()
    form.roles.choices = _role_choices()
    if request.method == "GET":
        form.organisation_id.data = current_user.organisation_id
    error = None
    if form.validate_on_submit():
        user, error = attempt(lambda: services.create_user(
            current_user, _target_org(form.organisation_id.data), username=form.username.data,
            display_name=form.display_name.data, password=form.password.data or "",
            roles={Role(r) for r in form.roles.data}, certificates=_certs_from(form)))
        if error is None:
            flash(f"已创建用户 {user.username}", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None,
                           supervisor_fields=_appoints_supervisors()), refusal_status(error)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(Permission.USER_MANAGE)
def user_edit(user_id: int):
    user = get_scoped(User, user_id, current_user)
    form = UserForm(obj=user)
    form.roles.choices = _role_choices()
    form.organisation_id.choices = _org_choices()
    reset = PasswordResetForm(prefix="reset")
    if request.method == "GET":
        form.version.data = str(user.version)
        form.roles.data = [r.value for r in user.roles]
        for cert in user.certificates:
            prefix = "examiner" if cert.kind == CertificateKind.EXAMINER else "supervisor"
            getattr(form, f"{prefix}_cert_no").data = cert.number
            getattr(form, f"{prefix}_cert_until").data = cert.valid_until
    error = None
    if form.submit.data and form.validate_on_submit():
        _, error = attempt(lambda: services.update_user(
            current_user, user, expected_version=int(form.version.data or 0),
            display_name=form.display_name.data, roles={Role(r) for r in form.roles.data},
            active=form.active.data, certificates=_certs_from(form, user)), success="已保存")
        if error is None:
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user, reset=reset,
                           supervisor_fields=_appoints_supervisors()), refusal_status(error)


@bp.post("/users/<int:user_id>/password")
@require(Permission.USER_MANAGE)
def user_reset_password(user_id: int):
    user = get_scoped(User, user_id, current_user)
    form = PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        perform(lambda: services.reset_password(current_user, user, form.password.data),
                success="密码已重置，该用户的所有会话已结束")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


# --- candidates ----------------------------------------------------------------------------------


@bp.get("/candidates")
@require(Permission.CANDIDATE_VIEW)
def candidates():
    form = CandidateSearchForm(request.args)
    stmt = scoped(Candidate, current_user).order_by(Candidate.id.desc())
    if form.q.data:
        stmt = stmt.where(Candidate.name.contains(form.q.data.strip()))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("accounts/candidates.html", rows=rows, form=form,
                           lookup=IdLookupForm())


def _lookup_key() -> str:
    return f"id-lookup:{current_user.get_id() if current_user.is_authenticated else request.remote_addr}"


@bp.post("/candidates/lookup")
@require(Permission.CANDIDATE_VIEW)
@limiter.limit("30 per minute", key_func=_lookup_key)
def candidate_lookup():
    """Find candidates by ID number. POST, so the number never appears in a URL or access log,
    and the number typed is not echoed back into the page."""
    lookup = IdLookupForm()
    stmt = scoped(Candidate, current_user).order_by(Candidate.id.desc())
    if lookup.validate_on_submit():
        stmt = stmt.where(Candidate.id_number_index == services.id_index(lookup.id_number.data))
    else:
        stmt = stmt.where(False)
    rows = db.paginate(stmt, page=1, per_page=PAGE_SIZE, error_out=False)
    lookup.id_number.data = ""
    return render_template("accounts/candidates.html", rows=rows, form=CandidateSearchForm(),
                           lookup=lookup, looked_up=True)


@bp.route("/candidates/new", methods=["GET", "POST"])
@require(Permission.CANDIDATE_MANAGE)
def candidate_new():
    form = CandidateForm()
    form.organisation_id.choices = _org_choices()
    error = None
    if form.validate_on_submit():
        cand, error = attempt(lambda: services.create_candidate(
            _target_org(form.organisation_id.data), name=form.name.data, id_number=form.id_number.data),
            form=form)
        if error is None:
            flash(f"已登记考生 {cand.name}", "success")
            return redirect(url_for("accounts.candidate_detail", candidate_id=cand.id))
    return render_template("accounts/candidate_form.html", form=form), refusal_status(error)


@bp.get("/candidates/<int:candidate_id>")
@require(Permission.CANDIDATE_VIEW)
def candidate_detail(candidate_id: int):
    cand = get_scoped(Candidate, candidate_id, current_user)
    return render_template("accounts/candidate_detail.html", cand=cand, form=RevealForm(),
                           full_number=None)


@bp.post("/candidates/<int:candidate_id>/reveal")
@require(Permission.CANDIDATE_ID_REVEAL)
def candidate_reveal(candidate_id: int):
    cand = get_scoped(Candidate, candidate_id, current_user)
    form = RevealForm()
    full = None
    if form.validate_on_submit():
        full = services.reveal_id_number(current_user, cand, reason=form.reason.data)
    return render_template("accounts/candidate_detail.html", cand=cand, form=form,
                           full_number=full)


@bp.post("/candidates/<int:candidate_id>/photo")
@require(Permission.CANDIDATE_MANAGE)
def candidate_photo_upload(candidate_id: int):
    cand = get_scoped(Candidate, candidate_id, current_user)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        flash("请选择照片文件", "error")
    else:
        perform(lambda: services.set_candidate_photo(cand, upload.filename, upload.read()), success="照片已更新")
    return redirect(url_for("accounts.candidate_detail", candidate_id=cand.id))


@bp.get("/candidates/<int:candidate_id>/photo")
@require(Permission.CANDIDATE_VIEW)
def candidate_photo(candidate_id: int):
    """Served only to staff who may see the candidate; the security hook adds no-store."""
    cand = get_scoped(Candidate, candidate_id, current_user)
    if not cand.photo_sha256:
        raise NotFound("该考生没有照片")
    return send_file(services.photo_path(cand.photo_sha256), mimetype="image/jpeg", max_age=0)


__all__ = ["bp", "EmptyForm"]
