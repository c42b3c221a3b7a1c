"""Who may see and edit: STANDARD_VIEW reads (list, tree, coverage), STANDARD_MANAGE edits; the
pages render the tree; no inline script or style (CSP)."""

import re

import pytest

from examsys.permissions import Role
from examsys.standards.models import KnowledgeRange
from tests.standards.conftest import point


def _edit_urls(std):
    rng = next(r for r in std.ranges if r.code == "B")
    p = point(std, "B-001")
    return {
        "get": ["/standards/new", f"/standards/{std.id}/edit", f"/standards/{std.id}/import",
                f"/standards/{std.id}/weights", f"/standards/{std.id}/ranges/new", f"/standards/ranges/{rng.id}",
                f"/standards/{std.id}/points/new", f"/standards/points/{p.id}", f"/standards/{std.id}/edition"],
        "post": [f"/standards/ranges/{rng.id}/delete", f"/standards/points/{p.id}/retire",
                 f"/standards/{std.id}/import/confirm", f"/standards/{std.id}/edition/confirm"],
    }


def _no_inline_code(html: str) -> None:
    # A JSON data block (the scripts' translations) is data, never executed.
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_writer_reads_but_cannot_edit(client, login_as, standard, db):
    login_as(Role.WRITER)
    for url in ("/standards/", f"/standards/{standard.id}", f"/standards/{standard.id}/coverage",
                "/standards/worklist", f"/standards/{standard.id}/tree.xlsx", "/standards/template.xlsx"):
        assert client.get(url).status_code == 200, url
    html = client.get(f"/standards/{standard.id}").get_data(as_text=True)
    assert "三相异步电动机" in html and "A-01-001" in html and "编辑比重" not in html
    urls = _edit_urls(standard)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url, data={"version": str(standard.version)}).status_code == 403, url
    db.session.expire_all()
    assert not point(standard, "B-001").retired


@pytest.mark.parametrize("role", [Role.PROCTOR, Role.SUPERVISOR])
def test_roles_without_standard_view(client, login_as, standard, role):
    login_as(role)
    assert client.get("/standards/").status_code == 403
    assert client.get(f"/standards/{standard.id}").status_code == 403


def test_province_sees_every_page(client, login_as, standard, make):
    make.org()  # an evaluation organisation for the coverage page to show
    login_as(Role.PROVINCIAL_ADMIN)
    urls = _edit_urls(standard)["get"] + [
        "/standards/", f"/standards/{standard.id}", f"/standards/{standard.id}/coverage", "/standards/worklist"]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        _no_inline_code(resp.get_data(as_text=True))
    html = client.get(f"/standards/{standard.id}").get_data(as_text=True)
    assert "编辑比重" in html and "发布新版" in html
    assert html.count('class="tr-point') == 6 and html.count('class="tr-range') == 4


def test_province_edits_through_the_forms(client, login_as, standard, db):
    login_as(Role.PROVINCIAL_ADMIN)
    b = next(r for r in standard.ranges if r.code == "B")
    resp = client.post(f"/standards/{standard.id}/points/new", data={
        "version": str(standard.version), "range_id": b.id, "code": "B-004", "name": "电气照明",
        "importance": "Y", "levels": ["4"]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert point(standard, "B-004").name == "电气照明"
    # A form holding an old version is answered with a conflict, not a silent overwrite.
    resp = client.post(f"/standards/ranges/{b.id}", data={
        "version": "1", "code": "B", "name": "相关知识（改）", "parent_id": 0}, follow_redirects=True)
    assert "已被他人修改" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(KnowledgeRange, b.id).name == "相关知识"
    ids = {r.code: r.id for r in standard.ranges}
    form = {"version": str(standard.version)}
    for code, (w5, w4) in {"A": (40, 30), "A-01": (20, 10), "A-02": (20, 20), "B": (60, 60)}.items():
        form[f"w-{ids[code]}-5"], form[f"w-{ids[code]}-4"] = str(w5), str(w4)
    resp = client.post(f"/standards/{standard.id}/weights", data=form)
    assert "一级鉴定范围的四级比重之和为 90，应为 100" in resp.get_data(as_text=True)
