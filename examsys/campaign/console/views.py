"""The console pages (/campaign): the year's targets for the province (every city, every
organisation) or one city, each number a link to the rows behind it; charts drawn on the
server; the "领航型" organisations; the year-end summary as a PDF. The province sees all; a city
administrator sees their own city."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from examsys.campaign.console import charts, pdf_jobs, supervision_targets
from examsys.campaign.console import services as console
from examsys.campaign.params import scope_args, year_arg, years
from examsys.campaign.targets import Scope
from examsys.campaign.workforce import services as workforce
from examsys.errors import NotFound
from examsys.jobs.views import follow
from examsys.permissions import Permission, require

bp = Blueprint("console", __name__, url_prefix="/campaign")
VIEW = Permission.CITY_OVERSEE


def trend(year: int, scope: Scope):
    staff = len(workforce.management_staff(scope))
    return charts.trend_svg("评价管理人员累计参训人数（按月）", workforce.monthly_trained(year, scope), staff)


@bp.get("/")
@require(VIEW)
def index():
    year = year_arg()
    city, _org = scope_args()
    view = console.overview(year, city)
    return render_template("campaign/console/index.html", view=view, city=city, year=year, years=years(),
                           charts=charts.target_bars(view), trend=trend(year, view.scope),
                           cities=workforce.cities() if city is None else [])


@bp.get("/drill/<key>")
@require(VIEW)
def drill(key: str):
    if key not in supervision_targets.GOALS:
        raise NotFound("没有该指标")
    year = year_arg()
    city, org = scope_args()
    scope = Scope(city.id if city else None, org.id if org else None)
    rows = supervision_targets.rows(key, year, scope)
    target = next(t for t in supervision_targets.targets(year, scope) if t.key == key)
    return render_template("campaign/console/drill.html", target=target, rows=rows, year=year, city=city, org=org)


@bp.post("/summary.pdf")
@require(VIEW)
def summary_pdf():
    """Ask for the year-end summary: computed and rendered by the job worker, followed on the
    job's page (its progress, then the download)."""
    year = year_arg()
    city, _org = scope_args()
    return follow(lambda: pdf_jobs.request_summary(current_user, year, city),
                  url_for("console.index", year=year, city=city.id if city else None))
