"""The request arguments every campaign page reads: the year (a selector from FIRST_YEAR to next
year) and the city or organisation asked for, checked against who is asking."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from examsys import clock
from examsys.accounts.models import City, Organisation
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import Role, may_view_campaign

FIRST_YEAR = 2024


def years() -> list[int]:
    return list(range(clock.to_display(clock.now()).year + 1, FIRST_YEAR - 1, -1))


def year_arg() -> int:
    year = request.args.get("year", type=int) or clock.to_display(clock.now()).year
    if year not in years():
        raise NotFound("没有该年度的数据")
    return year


def scope_args() -> tuple[City | None, Organisation | None]:
    """The city and organisation asked for (a city administrator's city by default), checked."""
    city_id, org_id = request.args.get("city", type=int), request.args.get("org", type=int)
    if city_id is None and org_id is None and current_user.has_role(Role.CITY_ADMIN) \
            and not current_user.has_role(Role.PROVINCIAL_ADMIN):
        city_id = current_user.organisation.city_id
    city = db.session.get(City, city_id) if city_id is not None else None
    org = db.session.get(Organisation, org_id) if org_id is not None else None
    if (city_id is not None and city is None) or (org_id is not None and org is None):
        raise NotFound("未找到该城市或机构")
    may_view_campaign(current_user, city.id if city else None, org).enforce()
    return city, org
