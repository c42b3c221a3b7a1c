"""The audit log page reads like a record a clerk or supervisor can check: labels instead of codes,
Beijing time (also inside details), before/after tables, filters that narrow, pagination that keeps
them, tenancy, and xlsx/CSV exports with the same readable columns that are themselves recorded."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts import services as accounts
from examsys.accounts.models import OrgKind
from examsys.audit import browsing
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.audit.presenting import split_data
from examsys.delivery.exam import services as attempts
from examsys.permissions import Role
from tests.delivery.world import build_world

DEC3 = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)  # 08:30 in Beijing


def page(client, **args) -> str:
    resp = client.get("/audit/", query_string=args)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def body_of(html: str) -> str:
    """The log table's rows (not the filter form, which repeats what was asked)."""
    return html.split('class="table table-compact audit-log"', 1)[1].split("</tbody>\n</table>\n", 1)[0]


def rows_of(html: str) -> int:
    return body_of(html).count('<td class="col-time">')


@pytest.fixture
def province(login_as):
    return login_as(Role.PROVINCIAL_ADMIN)


@pytest.fixture
def world(db, frozen_clock):
    w = build_world(db)
    db.session.commit()
    return w


def test_labels_names_and_beijing_time_instead_of_codes_json_and_utc(client, province, make, db):
    org = make.org()
    user = make.user(roles=(Role.EXAM_ADMIN,), org=org, username="clerk-li")
    with clock.frozen(DEC3):
        audit.record(AuditAction.USER_LOCKED, obj=user, data={"until": "2026-12-03T01:00:00+00:00"})
    db.session.commit()
    html = page(client, action="user.locked")
    assert "账号被锁定" in html and ">user.locked<" not in html
    assert "2026-12-03 08:30:00" in html and "2026-12-03 09:00:00" in html  # occurred_at and data
    assert "T01:00:00" not in html and "{&#34;" not in html and '{"until"' not in html
    assert "锁定至" in html  # the field's label, not `until`
    assert f'href="/users/{user.id}"' in html and f"{user.display_name}（clerk-li）" in html
    assert org.name in html  # the organisation by name
    assert f"org/{org.id} #" in html  # the chain position, discreetly


def test_an_update_shows_a_before_after_table(client, province, make, db):
    org = make.org()
    accounts.update_organisation(org, name="新名称培训中心", kind=OrgKind.EMPLOYER, active=True)
    db.session.commit()
    html = page(client, action="organisation.updated", org=org.id)
    assert 'class="log-changes"' in html and "修改前" in html and "修改后" in html
    changes = html.split('class="log-changes"', 1)[1].split("</table>", 1)[0]
    assert "测试机构" in changes and "新名称培训中心" in changes
    assert "社会培训评价组织" in changes and "用人单位" in changes  # coded values in words
    assert '<tr class="changed"><th>名称</th>' in changes and '<tr class="same"><th>启用</th>' in changes


@pytest.mark.parametrize("data, changes", [
    ({"changes": {"venue": {"before": "一", "after": "二"}}, "reason": "r"}, [("venue", "一", "二")]),
    ({"total_before": 50, "total_after": 60}, [("total", 50, 60)]),
    ({"deadline_before": "a", "deadline_at": "b", "previous": "x"}, [("deadline", "a", "b")]),
    ({"from": "filed", "to": "open"}, [("state", "filed", "open")]),
    ({"before": "G1", "after": "G2"}, [("value", "G1", "G2")]),
    ({"after": "reopen"}, []),
])
def test_the_pairs_services_record_are_found(data, changes):
    assert split_data(data).changes == changes


def test_org_admin_never_sees_another_organisations_events(client, login_as, make, db):
    mine, theirs = make.org(), make.org()
    accounts.update_organisation(theirs, name="别家机构甲", kind=OrgKind.SOCIAL, active=True)
    accounts.update_organisation(mine, name="本机构乙", kind=OrgKind.SOCIAL, active=True)
    login_as(Role.ORG_ADMIN, org=mine)
    for args in ({}, {"org": theirs.id}, {"q": "别家机构甲"}, {"action": "organisation.updated"}):
        assert "别家机构甲" not in body_of(page(client, **args)), args
    assert "本机构乙" in page(client)
    assert 'name="org"' not in page(client)  # no organisation filter for them
    export = client.get("/audit/export/csv", query_string={"org": theirs.id}).get_data().decode("utf-8-sig")
    assert "别家机构甲" not in export and "本机构乙" in export


def test_each_filter_narrows(frozen_clock, client, province, make, db, world):  # the login too at a fixed time
    other = make.org()
    attempts.start_attempt(world.entries[0])
    with clock.frozen(DEC3):
        accounts.update_organisation(other, name="十二月机构", kind=OrgKind.SOCIAL, active=True)
        accounts.create_user(None, other, username="filter-zhang", display_name="张过滤", password="pass-word-1234",
                             roles={Role.WRITER})
    db.session.commit()
    everything = page(client)
    total = rows_of(everything)
    assert total >= 8

    def narrowed(**args) -> str:
        html = page(client, **args)
        assert 0 < rows_of(html) < total, args
        return body_of(html)

    html = narrowed(**{"from": "2026-12-03", "to": "2026-12-03"})
    assert "filter-zhang" in html and "开始作答" not in html
    assert "filter-zhang" not in narrowed(to="2026-12-02")
    assert rows_of(page(client, **{"from": "2026-12-04"})) == 0
    html = narrowed(person=province.username)
    assert "用户登录" in html and "filter-zhang" not in html
    html = narrowed(org=other.id)
    assert "filter-zhang" in html and world.batch.name not in html
    html = narrowed(batch=world.batch.id)
    assert "开始作答" in html and "filter-zhang" not in html
    html = narrowed(ticket=world.tickets[0])
    assert "开始作答" in html and "filter-zhang" not in html
    assert rows_of(page(client, ticket=world.tickets[1])) == 0  # no attempt yet, no sign-in
    html = narrowed(action="user.created")
    assert "filter-zhang" in html and "开始作答" not in html
    assert rows_of(page(client, action="user.")) >= html.count('<td class="col-time">')
    html = narrowed(q="十二月机构")  # inside data, Chinese
    assert "修改机构信息" in html and "filter-zhang" not in html
    assert "开始作答" in narrowed(q="开始作答")  # an action's label


def test_bad_filter_input_is_said_and_ignored(client, province):
    html = page(client, **{"from": "03/12/2026", "action": "nonsense"})
    assert "不是有效日期" in html and "操作类型“nonsense”不存在" in html


def test_pagination_keeps_the_filters(client, province, db):
    for i in range(browsing.PER_PAGE + 5):
        audit.record(AuditAction.PERMISSION_DENIED, data={"path": f"/p{i}"})
    db.session.commit()
    html = page(client, action="permission.denied", q="/p")
    assert rows_of(html) == browsing.PER_PAGE
    link = re.search(r'<nav class="pager".*?<a href="([^"]+)">', html, re.S).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query == {"page": ["2"], "action": ["permission.denied"], "q": ["/p"]}
    second = client.get(link).get_data(as_text=True)
    assert rows_of(second) == 5


def test_names_are_resolved_in_bulk(client, province, make, db, count_queries):
    def fill(n):
        for _ in range(n):
            org = make.org()
            make.user(roles=(Role.WRITER,), org=org)
        db.session.commit()

    fill(2)
    with count_queries() as few:
        page(client)
    fill(10)
    with count_queries() as many:
        page(client)
    assert many["n"] == few["n"]


def test_exports_have_the_readable_columns_and_are_recorded(client, province, make, db):
    org = make.org()
    with clock.frozen(DEC3):
        accounts.update_organisation(org, name="导出机构", kind=OrgKind.SOCIAL, active=False)
    db.session.commit()
    args = {"org": org.id, "action": "organisation.updated"}

    resp = client.get("/audit/export/csv", query_string=args)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.get_data().startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间（北京时间）", "操作", "操作人"] and rows[0][-3:] == ["记录链", "序号", "哈希"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["时间（北京时间）"] == "2026-12-03 08:30:00" and row["操作"] == "修改机构信息"
    assert row["机构"] == "导出机构" and row["对象"] == "导出机构"
    assert "名称：" in row["详情"] and "→ 导出机构" in row["详情"] and "启用：是 → 否" in row["详情"]
    assert row["记录链"] == f"org/{org.id}" and len(row["哈希"]) == 64

    resp = client.get("/audit/export/xlsx", query_string=args)
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][1] == "操作" and values[1][0] == "2026-12-03 08:30:00" and values[1][1] == "修改机构信息"

    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_log.exported")
                                  .order_by(AuditEvent.id)).all()
    assert [e.data["format"] for e in recorded] == ["csv", "xlsx"]
    assert recorded[0].data["rows"] == 1 and recorded[0].data["filters"] == {k: str(v) for k, v in args.items()}
    assert recorded[0].actor_user_id == province.id and recorded[0].object_type == "audit_log"
    assert "导出过程记录" in page(client, action="audit_log.exported")


def test_an_export_over_the_cap_is_refused_with_a_message(client, province, monkeypatch, db):
    monkeypatch.setattr(browsing, "EXPORT_CAP", 1)
    resp = client.get("/audit/export/xlsx", follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "超过一次导出的上限 1 条" in html
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "audit_log.exported")) is None
    assert "导出格式只能是" in client.get("/audit/export/pdf", follow_redirects=True).get_data(as_text=True)
