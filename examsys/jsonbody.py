"""JSON request bodies, bounded in depth for every endpoint at once.

Python's JSON parser recurses once per level: `[[[…]]]` 50,000 levels deep raises RecursionError,
which Werkzeug's `get_json` does not catch (it handles ValueError only), and a body a few hundred
levels deep parses but then breaks whatever walks or stores it (orjson stops at 255 levels). So
the app's request class answers any body deeper than MAX_DEPTH with 422, whoever reads it and
whether or not they asked for `silent`, and `guard` reads every JSON body before the view does,
so every endpoint answers the same, before authentication or anything else."""

from __future__ import annotations

from flask import Request, request
from flask_babel import gettext as _

from examsys.errors import ValidationError

# Far above any body examsys expects (an answer, an integrity event, an editor preview).
MAX_DEPTH = 32


def _too_deep() -> ValidationError:
    return ValidationError(_("JSON 内容嵌套层数过多（最多 %(n)d 层）", n=MAX_DEPTH))


def deeper_than(value: object, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` levels deep (iteratively)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONRequest(Request):
    """Flask's request, whose `get_json` refuses over-deep bodies with ValidationError (422)."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            data = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise _too_deep() from None
        if isinstance(data, (dict, list)) and deeper_than(data, MAX_DEPTH):
            raise _too_deep()
        return data


def _nul(where: str) -> ValidationError:
    return ValidationError(_("提交的内容含有空字符，请删除后重试：%(where)s", where=where), field=where)


# Redirect targets: checked by `safe_next` (a NUL makes it go home) and never stored.
_NOT_TEXT = frozenset({"next"})


def guard() -> None:
    """A before-request hook: read a JSON body now (it is cached for the view), so an over-deep
    one is refused the same way on every endpoint; and refuse NUL characters in submitted form
    fields and the query the same way everywhere: PostgreSQL cannot store them in text, and no
    text a person types contains one. Uploaded files are not text fields. JSON strings are the
    API's own to judge (`api.common.json_body` names the path; a sign-in treats them as unknown
    credentials), and the editor preview's sanitiser drops them."""
    req = request._get_current_object()  # past the proxy once: this runs before every request
    is_json = req.is_json
    sources = [req.args] if req.query_string else []  # no query string: nothing to parse
    if not is_json:
        sources.append(req.form)
    for source in sources:
        for key, values in source.lists():
            if key in _NOT_TEXT:
                continue
            if "\x00" in key or any("\x00" in v for v in values):
                raise _nul(key.replace("\x00", ""))
    if is_json and req.content_length:
        req.get_json(silent=True)
