"""The year-end summary (年度工作总结数据) as a PDF: the targets with their goals and whether
each is met, the per-city and per-organisation tables, the charts, the "领航型" organisations
and the workforce's warnings; for the province or one city."""

from __future__ import annotations

from examsys import clock
from examsys.accounts.models import City
from examsys.campaign.console import charts
from examsys.campaign.console import services as console
from examsys.campaign.targets import Scope
from examsys.campaign.workforce import services as workforce
from examsys.reports.pdf import render_pdf


def summary_pdf(year: int, city: City | None = None) -> bytes:
    view = console.overview(year, city)
    graphs = charts.target_bars(view, width=330)
    scope = Scope(city_id=city.id if city else None)
    trend = charts.trend_svg("评价管理人员累计参训人数（按月）", workforce.monthly_trained(year, scope),
                             len(workforce.management_staff(scope)), width=680)
    return render_pdf("reports/campaign/summary.html", view=view, city=city, year=year, charts=graphs, trend=trend,
                      shortfalls=workforce.shortfalls(scope), orgs=workforce.names(),
                      printed=clock.to_display(clock.now()))
