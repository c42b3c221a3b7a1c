"""Language switching between Simplified Chinese (default) and English."""

from flask import redirect, request, session, url_for

from examsys.permissions import public

SUPPORTED = ("zh_CN", "en")


@public
def set_language(code: str):
    # POST (with CSRF) like every other change, though it only touches the visitor's own cookie.
    if code in SUPPORTED:
        session["lang"] = code
    target = request.referrer or url_for("accounts.home")
    if not target.startswith(request.host_url):
        target = url_for("accounts.home")
    return redirect(target)
