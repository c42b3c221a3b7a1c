"""The XSS corpus typed into the forms themselves (issue 15 point 6): as every role, every page the
navigation reaches is read, and every POST form on it with a text field is filled in and sent the
way a browser would (its hidden fields and CSRF token, the chosen option of each list, a payload
in each text field, cut to the field's maxlength) — each form with payloads of its own markers, so
that whatever comes back can be traced to the form that stored it. Forms that would end the
session or destroy the world the crawl needs (logout, passwords, keys, deletions, files) are left
alone. Then every role's pages are read again and parsed: no marker may sit in a script, an event
handler, a URL attribute, a dangerous element (iframe, object, embed, base, meta, link, form, svg …)
or a computed template (`{{7*7}}` → 49).

test_xss.py renders the stored texts in Chromium (written into the database, past the forms'
limits); test_stored_paths.py feeds the item editor's service and the importers; this test is
the forms' own path, with the server's parsing, validation and storage in between."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from tests import reliability
from tests.hostile import corpus
from tests.hostile.test_xss import ROLES, SKIP

pytestmark = pytest.mark.hostile

MAX_PAGES = 120
DEPTH = 3
PER_SHAPE = 1
# Forms left alone: they end the session, lock people out, destroy what the crawl needs, or take files.
LEAVE = re.compile(r"logout|/lang|password|/keys?\b|delete|remove|revoke|disable|deactivate|lock|unlink|"
                   r"/import|upload|/photo|/assets|reset|/restore|/purge", re.I)
DANGEROUS = {"script", "style", "iframe", "frame", "object", "embed", "base", "meta", "link", "form", "svg",
             "math", "noscript", "template", "animate", "set", "use", "foreignobject"}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster", "srcset"}


class _Page(HTMLParser):
    """Links, forms (action, method, fields, submit buttons) and live markers of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.live: list[str] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None
        self._script = False
        self.markers: set[str] = set()  # every marker on the page, shown as text or not

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        self._live_tag(tag, a)
        if tag == "a" and a.get("href") and "download" not in a:
            self.links.append(a["href"])
        elif tag == "script":
            self._script = True
        elif tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": [],
                          "submits": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind == "submit":
                self._form["submits"].append(a)
            elif tag == "input":
                self._form["fields"].append({"tag": "input", "type": kind, **a})
        elif self._form is not None and tag == "select":
            self._select = {"tag": "select", "name": a.get("name", ""), "options": [], "multiple": "multiple" in a}
            self._form["fields"].append(self._select)
        elif self._select is not None and tag == "option":
            self._select["options"].append((a.get("value"), "selected" in a, "disabled" in a))
        elif self._form is not None and tag == "textarea":
            self._textarea = {"tag": "textarea", "type": "textarea", "value": "", **a}
            self._form["fields"].append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "script":
            self._script = False

    def handle_data(self, data):
        self.markers.update(corpus.MARKER_RE.findall(data))
        if self._textarea is not None:
            self._textarea["value"] += data
        if self._script and corpus.MARKER_RE.search(data):
            self.live.append(f"<script> holds {corpus.MARKER_RE.search(data).group(0)}")
        if corpus.TEMPLATE_HIT_RE.search(data):
            self.live.append(f"computed template {corpus.TEMPLATE_HIT_RE.search(data).group(0)}")

    def _live_tag(self, tag, a):
        for name, value in a.items():
            self.markers.update(corpus.MARKER_RE.findall(value))
            marker = corpus.MARKER_RE.search(value)
            if marker is None:
                continue
            bare = "".join(ch for ch in value if ord(ch) > 32).lower()
            if name.startswith("on") or name == "srcdoc" or tag in DANGEROUS:
                self.live.append(f"<{tag} {name}> holds {marker.group(0)}")
            elif name in URL_ATTRS and re.match(r"(javascript|data|vbscript):", bare):
                self.live.append(f"<{tag} {name}={bare[:16]}> holds {marker.group(0)}")
            elif name == "style" and ("url(" in bare or "expression" in bare):
                self.live.append(f"<{tag} style> holds {marker.group(0)}")


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _shape(path: str) -> str:
    return re.sub(r"/\d+", "/N", urlparse(path).path)


def _crawl(client, start: list[str]):
    """(path, parsed page) of the pages reachable from `start`, DEPTH links deep, one per shape."""
    seen: dict[str, int] = {}
    queue, queued = deque((p, 1) for p in start), set(start)
    while queue and sum(seen.values()) < MAX_PAGES:
        path, depth = queue.popleft()
        shape = _shape(path)
        if seen.get(shape, 0) >= PER_SHAPE:
            continue
        seen[shape] = seen.get(shape, 0) + 1
        resp = client.get(path)
        if resp.status_code != 200 or "text/html" not in resp.content_type:
            continue
        page = _parse(resp.get_data(as_text=True))
        yield path, page
        if depth >= DEPTH:
            continue
        for href in page.links:
            href = urldefrag(href)[0]
            if href.startswith("/") and not href.startswith("//") and not SKIP.search(href) and href not in queued:
                queued.add(href)
                queue.append((href, depth + 1))


class _Payloads:
    """Each text field its own payload, cycling through the corpus; remembers which form got which."""

    def __init__(self):
        self.all = corpus.selected()
        self.n = 0
        self.where: dict[str, str] = {}

    def take(self, limit: int | None, form: str) -> str:
        for _ in range(len(self.all)):
            p = self.all[self.n % len(self.all)]
            self.n += 1
            text = f"张三{p.text}"
            if limit is None or len(text) <= limit:
                self.where[p.marker] = form
                return text
        return "张三"


def _fill(form: dict, payloads: _Payloads, where: str) -> tuple[dict, int]:
    """The data a browser would send with payloads in the text fields; (data, text fields filled)."""
    data: dict[str, object] = {}
    texts = 0
    for f in form["fields"]:
        name = f.get("name")
        if not name:
            continue
        if f["tag"] == "select":
            enabled = [(v, s) for v, s, d in f["options"] if not d and v is not None]
            chosen = [v for v, s in enabled if s] or [v for v, _ in enabled if v][:1] or [v for v, _ in enabled][:1]
            if chosen:
                data[name] = chosen if f["multiple"] else chosen[0]
            continue
        kind = f.get("type", "text")
        if kind in ("checkbox", "radio"):
            if "checked" in f:
                data.setdefault(name, f.get("value", "on"))
            elif kind == "radio" and name not in data:
                data[name] = f.get("value", "on")
        elif kind in ("hidden",):
            data[name] = f.get("value", "")
        elif kind in ("text", "search", "textarea", "") and "readonly" not in f:
            limit = int(f["maxlength"]) if f.get("maxlength", "").isdigit() else None
            data[name] = payloads.take(limit, where)
            texts += 1
        elif kind == "file":
            return {}, 0
        else:  # date, number, email, tel, url …: what the page put there
            data[name] = f.get("value", "")
    return data, texts


def _login(client, world, username: str) -> None:
    client.get("/logout")
    page = _parse(client.get("/login").get_data(as_text=True))
    token = next(f.get("value", "") for form in page.forms for f in form["fields"] if f.get("name") == "csrf_token")
    resp = client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": world.password(username)})
    assert resp.status_code in (302, 303), f"{username}: login {resp.status_code}"


def _start(client) -> list[str]:
    page = _parse(client.get("/").get_data(as_text=True))
    return ["/"] + [h for h in page.links if h.startswith("/") and not SKIP.search(h)]


def test_payloads_typed_into_every_form_stay_inert(hostile_world):
    world = hostile_world
    payloads = _Payloads()
    sent: list[str] = []
    refused: dict[int, int] = {}
    problems: list[str] = []
    stored = 0
    for username in ROLES:
        client = world.app.test_client()
        _login(client, world, username)
        for path, page in list(_crawl(client, _start(client))):
            for form in page.forms:
                action = urljoin(path, form["action"] or path)
                if form["method"] != "post" or LEAVE.search(action) or not urlparse(action).path.startswith("/"):
                    continue
                where = f"{username} {_shape(action)}"
                if where in sent:
                    continue
                data, texts = _fill(form, payloads, where)
                if not texts:
                    continue
                button = next((b for b in form["submits"] if b.get("name") and not LEAVE.search(b.get("value", ""))),
                              None)
                if button is not None:
                    data[button["name"]] = button.get("value", "1")
                resp = client.post(action, data=data)
                if resp.status_code >= 500:
                    problems.append(f"{where}: HTTP {resp.status_code}")
                elif resp.status_code in (200, 302, 303):
                    sent.append(where)
                    stored += resp.status_code != 200
                    # The answer itself (a form shown again with the values typed) must be inert.
                    if resp.status_code == 200 and "text/html" in resp.content_type:
                        problems += [f"{where} (answer): {p}" for p in _parse(resp.get_data(as_text=True)).live]
                else:
                    refused[resp.status_code] = refused.get(resp.status_code, 0) + 1
    pages, shown = 0, set()
    for username in ROLES:
        client = world.app.test_client()
        _login(client, world, username)
        for path, page in _crawl(client, _start(client)):
            pages += 1
            shown |= {payloads.where[m] for m in page.markers if m in payloads.where}
            for hit in page.live:
                marker = corpus.MARKER_RE.search(hit)
                origin = payloads.where.get(marker.group(0), "?") if marker else "?"
                problems.append(f"{username} {path}: {hit} (typed into {origin})")
    print(f"\nhostile forms: {len(sent)} forms sent with payloads ({payloads.n} payloads), {stored} accepted "
          f"(redirected), refused {refused}; {pages} pages read back show payloads typed into {len(shown)} forms")
    reliability.record("hostile_forms", {"forms_sent": len(sent), "forms_accepted": stored,
                                         "payloads_typed": payloads.n, "pages_read_back": pages,
                                         "forms_whose_payloads_were_shown": len(shown), "live_markers": len(problems)})
    # The crawl reached the forms and what they stored is on the pages read back (else this proves nothing).
    assert stored >= 15 and len(shown) >= 10, (stored, sorted(shown))
    assert problems == [], "\n".join(dict.fromkeys(problems))


def test_the_form_oracle_sees_a_live_payload():
    """The parser above could pass by seeing nothing: markup that would run is caught."""
    payload = corpus.generate()[7]
    page = _parse(f"<main><p>{payload.text}</p><a href='javascript:alert(\"{payload.marker}\")'>x</a>"
                  f"<script>alert('{payload.marker}')</script><p>{payload.marker}49</p></main>")
    assert len(page.live) == 4, page.live
    assert _parse(f"<main><p>{payload.text.replace('<', '&lt;')}</p></main>").live == []
