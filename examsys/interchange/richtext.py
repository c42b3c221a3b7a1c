"""Conversions between plain text, HTML fragments and XML element trees.

Stems and options are HTML fragments. Plain text (Excel cells, GIFT in moodle/plain/
markdown format) is escaped and its line breaks become <br>. Nothing here sanitises
(the bank runs nh3 on the way in); nothing here evaluates anything either.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_XML_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


def plain_to_html(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return html.escape(text, quote=False).replace("\n", "<br>")


def html_to_plain(fragment: str) -> str | None:
    """The plain text that `plain_to_html` would turn back into exactly `fragment`,
    or None when the fragment carries markup beyond escaped text and <br>."""
    candidate = html.unescape(re.sub(r"<br\s*/?>", "\n", fragment))
    return candidate if plain_to_html(candidate) == fragment else None


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "p", "div", "li"):
            self.parts.append("\n")


def html_to_text(fragment: str) -> str:
    """Visible text of a fragment (tags dropped, entities decoded): for answers that
    candidates type, which are compared as text."""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return "\n".join(line.strip() for line in "".join(collector.parts).split("\n")).strip()


class _TreeBuilder(HTMLParser):
    """Builds an ElementTree from an HTML fragment, closing what HTML leaves open."""

    def __init__(self, root: ET.Element, namespace: str):
        super().__init__(convert_charrefs=True)
        self.stack = [root]
        self.ns = namespace

    def _tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}" if self.ns else name

    def _append_text(self, data: str) -> None:
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data

    def _element(self, tag, attrs) -> ET.Element | None:
        if not _XML_NAME.match(tag):
            return None
        clean = {k: (v or "") for k, v in attrs if _XML_NAME.match(k)}
        return ET.SubElement(self.stack[-1], self._tag(tag), clean)

    def handle_starttag(self, tag, attrs):
        el = self._element(tag, attrs)
        if el is not None and tag not in VOID_TAGS:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_endtag(self, tag):
        wanted = self._tag(tag)
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == wanted:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self._append_text(data)


def fill_element(parent: ET.Element, fragment: str, namespace: str = "") -> ET.Element:
    """Append the nodes of an HTML fragment to `parent` (text, tail and children)."""
    builder = _TreeBuilder(parent, namespace)
    builder.feed(fragment)
    builder.close()
    return parent


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr_name(name: str) -> str:
    if name.startswith("{http://www.w3.org/XML/1998/namespace}"):
        return "xml:" + _local(name)
    return _local(name)


def element_to_html(el: ET.Element, skip=lambda child: False, replace=None) -> str:
    """Serialise the content of `el` (not the element itself) as an HTML fragment.
    `skip(child)` drops a child but keeps its tail; `replace(child)` may return an
    HTML string to stand in for a child."""
    out = [html.escape(el.text or "", quote=False)]
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            out.append(html.escape(child.tail or "", quote=False))
            continue
        if skip(child):
            pass
        elif replace is not None and (sub := replace(child)) is not None:
            out.append(sub)
        else:
            out.append(_element_html(child, skip, replace))
        out.append(html.escape(child.tail or "", quote=False))
    return "".join(out)


def _element_html(el: ET.Element, skip, replace) -> str:
    name = _local(el.tag)
    attrs = "".join(
        f' {_attr_name(k)}="{html.escape(v, quote=True)}"'
        for k, v in el.attrib.items()
        if not k.startswith("{http://www.w3.org/2001/XMLSchema-instance}")
    )
    if name in VOID_TAGS:
        return f"<{name}{attrs}>"
    return f"<{name}{attrs}>{element_to_html(el, skip, replace)}</{name}>"
