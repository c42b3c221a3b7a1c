"""Live preview for the item editor: content as the bank will store and show it (sanitised,
formulas drawn). POST only: the content may be long, and the request is CSRF-checked like any
other write (the editor's script sends the token in the X-CSRFToken header)."""

from __future__ import annotations

from flask import request

from examsys.bank.mathrender import render_math
from examsys.bank.richtext import sanitise
from examsys.bank.views.common import bp
from examsys.permissions import Permission, require

MAX_PREVIEW = 20000  # the editor's longest field (题干, 参考答案, 解析)


@bp.post("/preview")
@require(Permission.ITEM_WRITE)
def preview():
    payload = request.get_json(silent=True) if request.is_json else None
    text = (payload or {}).get("html") if payload is not None else request.form.get("html")
    if not isinstance(text, str):
        text = ""
    if len(text) > MAX_PREVIEW:
        return {"error": {"code": "validation_error",
                          "message": f"内容超过 {MAX_PREVIEW} 个字符，无法预览"}}, 422
    return {"html": str(render_math(sanitise(text)))}
