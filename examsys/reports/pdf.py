"""The one way examsys makes a PDF: ``render_pdf(template, **ctx) -> bytes``.

A Jinja template from templates/reports/ is rendered to HTML and laid out by WeasyPrint with
static/css/print.css (A4, page numbers in @page margin boxes, "Noto Serif CJK SC" for the body
and "Noto Sans CJK SC" for headings; Debian's fonts-noto-cjk provides them). Item content may
carry images from this system's own asset store (/assets/<sha256>) and formulas as `data:` SVG images; the
URL fetcher reads the former from the upload directory, lets WeasyPrint decode the latter, and
refuses every other URL, so rendering a paper never reaches out
to the network (a remote image would leak who prints which paper, and when)."""

from __future__ import annotations

import base64
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote_to_bytes

from flask import current_app, render_template

from examsys.config import ROOT

PRINT_CSS = ROOT / "static" / "css" / "print.css"
_ASSET = re.compile(r"/assets/([0-9a-f]{64})(?:$|[?#])")


def _resource(url: str) -> tuple[bytes, str]:
    """(bytes, mime type) of a URL the PDF may load: a `data:` URI (formulas drawn by
    examsys.bank.mathrender), decoded in memory, or an image of the asset store, read from the
    upload directory. Raises ValueError for anything else."""
    if url.startswith("data:"):
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise ValueError("malformed data: URI")
        params = header.split(";")
        mime = params[0].strip() or "text/plain"
        if "base64" in params[1:]:
            return base64.b64decode(payload, validate=False), mime
        return unquote_to_bytes(payload), mime
    match = _ASSET.search(url)
    if match:
        sha = match.group(1)
        folder = Path(current_app.config["EXAMSYS_UPLOAD_DIR"]) / sha[:2]
        for path in sorted(folder.glob(f"{sha}.*")):
            return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    raise ValueError(f"PDF rendering does not load external resources: {url[:100]}")


def _url_fetcher(url: str, timeout: int = 10, ssl_context=None) -> dict:
    """The fetcher as WeasyPrint before 68 calls it: a function returning a dict."""
    data, mime = _resource(url)
    return {"string": data, "mime_type": mime}


def _fetcher():
    """The URL fetcher for this WeasyPrint: from 68 on it must be a `URLFetcher` returning a
    `URLFetcherResponse` (a plain function's dict fails an assertion there)."""
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse  # heavy: only when rendering
    except ImportError:
        return _url_fetcher

    class Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            data, mime = _resource(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return Fetcher()


@lru_cache(maxsize=1)
def _stylesheet_text(mtime: float) -> str:
    return PRINT_CSS.read_text(encoding="utf-8")


_lean = threading.local()
_DEFERRED = object()


def lean_fonts() -> bool:
    """Keep WeasyPrint from copying whole font files it will only subset (idempotent; True when
    in effect). For every font face a document uses, WeasyPrint (70) copies the face's whole file
    into a Python bytes object when it first meets the face, and reads it only when it cannot
    subset it with HarfBuzz (which works on the face itself). The Noto CJK collections are 19-27
    MB each and a document uses three or four of them: each PDF, even of one page, peaked some
    140 MB above the process (the copies, and the file pages the copying faulted in). Here the
    copy is made only if something reads it. An unknown WeasyPrint is left alone."""
    try:
        from weasyprint.pdf import fonts, stream  # heavy: only when rendering
    except ImportError:
        return False
    if getattr(stream.Font, "lean", False):
        return True
    original = getattr(fonts, "get_hb_object_data", None)
    if original is None or getattr(stream, "Font", None) is not fonts.Font:
        return False

    def get_data(hb_object, ot_color=None, glyph=None):
        if ot_color is None and getattr(_lean, "deferring", False):
            return _DEFERRED
        return original(hb_object, ot_color, glyph)

    class LeanFont(fonts.Font):
        lean = True

        def __init__(self, *args, **kwargs):
            _lean.deferring = True
            try:
                super().__init__(*args, **kwargs)
            finally:
                _lean.deferring = False

        @property
        def file_content(self):
            content = self.__dict__.get("_file_content")
            if content is _DEFERRED:
                content = self.__dict__["_file_content"] = original(self.hb_face)
            return content

        @file_content.setter
        def file_content(self, value):
            self.__dict__["_file_content"] = value

    fonts.get_hb_object_data = get_data
    stream.Font = LeanFont
    return True


def render_pdf(template: str, **ctx) -> bytes:
    """Render `template` with `ctx` to PDF bytes. Needs an app context (templates, config)."""
    # Heavy (Pango, fonts): loaded on the first PDF, not by every worker and CLI command.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    lean_fonts()
    html = render_template(template, **ctx)
    fonts = FontConfiguration()
    css = CSS(string=_stylesheet_text(PRINT_CSS.stat().st_mtime), font_config=fonts)
    document = HTML(string=html, base_url=str(ROOT), url_fetcher=_fetcher())
    return document.write_pdf(stylesheets=[css], font_config=fonts)


def write_in_parts(path: Path, parts: Iterable[Callable[[], bytes]], *,
                   progress: Callable[[int, int], None] | None = None, count: int | None = None) -> int:
    """Render a long document part by part and merge the parts into one PDF at `path`; returns its
    page count. Each part (a callable rendering it) is laid out on its own and kept on disk until
    the merge, so a document of thousands of pages never holds more than one part's layout in
    memory; `progress(done, count)` is called after each part. Parts must not need page numbers
    that run across them (the tickets carry none; the filing pack and score list number parts)."""
    from pypdf import PdfReader, PdfWriter  # heavy, and only the job worker merges

    files: list[Path] = []
    try:
        for n, render in enumerate(parts):
            part = path.with_name(f"{path.name}.part{n:04d}")
            part.write_bytes(render())
            files.append(part)
            if progress is not None:
                progress(n + 1, count or n + 1)
        writer = PdfWriter()
        for part in files:
            writer.append(PdfReader(part))
        with path.open("wb") as fh:
            writer.write(fh)
        return len(writer.pages)
    finally:
        for part in files:
            part.unlink(missing_ok=True)
