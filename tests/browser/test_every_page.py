"""No page produces a console error (issue 14, point 4): every demo role signs in, follows the links
of its navigation two levels deep, and opens the key detail pages of a batch at each step after the
exam (batch, results, marking, proctor console); any console error, uncaught script error or CSP
violation (Chromium reports those on the console) and any error status fails the test."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlparse

import pytest

from tests.browser.conftest import login
from tests.browser.flow_fixtures import flow_world_fixture  # noqa: F401  (provides `flow_world`)
from tests.browser.test_exam_flow import _context

pytestmark = pytest.mark.browser

# Links not followed: leaving, switching the language, and files rather than pages.
SKIP = re.compile(r"/logout|/lang/|\.(pdf|xlsx|zip|json|csv|xml|txt|svg|png|jpg)(\?|$)|/export|/download|/assets/")
PER_SHAPE = 2  # pages of the same shape (ids replaced) visited per role
MAX_PAGES = 70


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _extra(world, username: str) -> list[str]:
    """Detail pages a role must see that the crawl may not reach within its limits."""
    b = world.batches
    if username in ("examadmin", "examadmin2", "orgadmin", "province"):
        pages = [f"/delivery/batches/{i}" for i in b.values()]
        return pages + [f"/delivery/batches/{i}/results" for k, i in b.items() if k != "filed"] + [
            f"/delivery/batches/{b['published']}/results/requests"]
    if username in ("proctor", "proctor2"):
        return [f"/delivery/proctor/{b['filed']}", f"/delivery/batches/{b['marking']}/marking",
                f"/delivery/batches/{b['marking']}"]
    if username == "supervisor":
        return [f"/delivery/batches/{b['published']}", f"/delivery/batches/{b['published']}/results",
                f"/delivery/proctor/{b['published']}"]
    return []


def _crawl(pg, base: str, start: list[str], extra: list[str]) -> tuple[list[str], list[str]]:
    """(visited paths, problems)."""
    problems: list[str] = []
    seen_shapes: dict[str, int] = {}
    visited: list[str] = []
    queue = deque([(p, 0) for p in extra] + [(p, 1) for p in start])
    queued = {p for p, _ in queue}
    while queue and len(visited) < MAX_PAGES:
        path, depth = queue.popleft()
        shape = _shape(urlparse(path).path)
        if seen_shapes.get(shape, 0) >= PER_SHAPE and depth:
            continue
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        pg.console_errors.clear()
        response = pg.goto(base + path)
        pg.wait_for_load_state("load")
        visited.append(path)
        status = response.status if response else 0
        if status >= 400:
            problems.append(f"{path}: HTTP {status}")
        problems += [f"{path}: {e}" for e in pg.console_errors]
        if depth == 0 or depth >= 2:
            continue
        hrefs = pg.eval_on_selector_all("main a[href]:not([download]), nav a[href]",
                                        "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            href = urldefrag(href)[0]
            if not href.startswith("/") or href.startswith("//") or SKIP.search(href) or href in queued:
                continue
            queued.add(href)
            queue.append((href, depth + 1))
    return visited, problems


USERS = ["province", "supervisor", "orgadmin", "writer", "reviewer", "examadmin", "examadmin2", "proctor",
         "empadmin"]


@pytest.mark.parametrize("username", USERS)
def test_every_page_of_the_role_is_clean(flow_world, browser, username):
    ctx, pg = _context(browser)
    try:
        login(pg, flow_world.base, username, flow_world.password(username))
        nav = pg.eval_on_selector_all("nav.mainnav a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert nav, "no navigation"
        visited, problems = _crawl(pg, flow_world.base, ["/"] + nav, _extra(flow_world, username))
        assert len(visited) >= len(nav)
        assert problems == [], "\n".join(problems)
    finally:
        ctx.close()


def test_candidate_pages_are_clean(flow_world, browser):
    ctx, pg = _context(browser)
    try:
        for path in ("/exam/", "/login"):
            pg.goto(flow_world.base + path)
            pg.wait_for_load_state("load")
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()
