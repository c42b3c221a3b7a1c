"""The UI shell in a real browser: Chinese login page, each demo role's navigation, no CSP errors."""

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

# Navigation each demo role must (and must not) see.
EXPECTED_NAV = {
    "province": ({"机构", "用户", "考生", "审计日志"}, set()),
    "orgadmin": ({"用户", "考生", "审计日志"}, {"机构"}),
    "writer": (set(), {"用户", "考生", "机构", "审计日志"}),
    "proctor": ({"考生"}, {"用户", "机构", "审计日志"}),
    "supervisor": ({"审计日志"}, {"用户", "机构", "考生"}),
}


def test_login_page_is_chinese_and_clean(live_server, page):
    base, _ = live_server
    page.goto(base + "/login")
    assert page.locator("h1").inner_text() == "工作人员登录"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.console_errors == []


@pytest.mark.parametrize("username", sorted(EXPECTED_NAV))
def test_each_role_sees_its_navigation(live_server, page, username):
    base, demo = live_server
    user = next(u for u in demo["users"] if u["username"] == username)
    login(page, base, user["username"], user["password"])
    nav = set(page.locator("nav.mainnav a").all_inner_texts())
    must, must_not = EXPECTED_NAV[username]
    assert must <= nav, nav
    assert not (must_not & nav), nav
    assert page.console_errors == []
    page.click("text=退出")
    page.wait_for_url("**/login")


def test_keyboard_only_login(live_server, page):
    base, demo = live_server
    user = demo["users"][0]
    page.goto(base + "/login")
    # The username field has autofocus; Chromium applies it at its next rendering step, which
    # under load can come after the load event: type once it has landed, as a person would.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'username'")
    page.keyboard.type(user["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(user["password"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "您好" in page.locator("h1").inner_text()
