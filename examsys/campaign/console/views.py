"""The console pages (/campaign): the year's targets for the province (every city, every
organisation) or one city, each number a link to the rows behind it; charts drawn on the
server; the "领航型" organisations; the year-end summary as a PDF. The province sees all; a city
administrator sees their own city."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from examsys.campaign.console import charts, report, supervision_targets
from examsys.campaign.console import services as console
from examsys.campaign.params import scope_args, year_arg, years
from examsys.campaign.targets import Scope
from examsys.campaign.workforce import services as workforce
from examsys.errors import NotFound
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


@bp.get("/summary.pdf")
@require(VIEW)
def summary_pdf():
    year = year_arg()
    city, _org = scope_args()
    data = report.summary_pdf(year, city)
    name = f"campaign-summary-{year}{'-' + city.code if city else ''}.pdf"
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
