"""Language switching between Simplified Chinese (default) and English, and the translations the
browser scripts use.

Two gettext domains live under translations/: `messages` (templates and Python, served by
Flask-Babel) and `js` (static/js/**.js, extracted with babel-js.cfg). The `js` catalogue of the
current locale reaches the browser as a JSON data block that static/js/i18n.js reads; msgids are
the Chinese source texts, so for Chinese the table is empty.
"""

from __future__ import annotations

from functools import lru_cache

from babel.support import Translations
from flask import Flask, current_app, redirect, request, session, url_for
from flask_babel import get_locale
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from examsys.permissions import public

SUPPORTED = ("zh_CN", "en")
JS_DOMAIN = "js"
# The language switch, each name in its own language (shown the same in every locale).
LANGUAGES = (("zh_CN", "zh-CN", "中文"), ("en", "en", "English"))


@public
def set_language(code: str):
    # POST (with CSRF) like every other change, though it only touches the visitor's own cookie.
    if code in SUPPORTED:
        session["lang"] = code
    target = request.referrer or url_for("accounts.home")
    if not target.startswith(request.host_url):
        target = url_for("accounts.home")
    return redirect(target)


@lru_cache(maxsize=16)
def _js_catalogue(directories: str, locale: str) -> dict[str, str]:
    # Catalogue files never change while the process runs: read each locale once.
    for directory in directories.split(";"):
        translations = Translations.load(directory.strip(), [locale], domain=JS_DOMAIN)
        # GNUTranslations keeps {msgid: msgstr} in `_catalog`; the null fallback has none.
        catalog = getattr(translations, "_catalog", None)
        if catalog:
            return {k: v for k, v in catalog.items() if isinstance(k, str) and k and v}
    return {}


def _request_locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def js_translations(locale: str | None = None) -> dict[str, str]:
    """{msgid: msgstr} of the `js` domain for `locale` (default: the request's locale); empty for
    the source language or a locale without a compiled catalogue."""
    return _js_catalogue(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], locale or _request_locale())


@lru_cache(maxsize=16)
def _js_catalogue_json(directories: str, locale: str) -> Markup:
    # Escaped like Jinja's tojson filter (safe inside <script>), but the text stays readable UTF-8.
    return htmlsafe_json_dumps(_js_catalogue(directories, locale), ensure_ascii=False, sort_keys=True)


def js_translations_json() -> Markup:
    """js_translations() of the request's locale as JSON for a data block, serialised once per locale."""
    return _js_catalogue_json(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], _request_locale())


def html_lang() -> str:
    """The `<html lang>` value of the current locale."""
    return "en" if _request_locale() == "en" else "zh-CN"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(js_translations_json=js_translations_json, html_lang=html_lang,
                                 LANGUAGES=LANGUAGES)
