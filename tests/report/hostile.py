"""Hostile text for every page that shows what a sheet or a server said (report.html, the web page), and a check
that a page shows such text as text: no element, attribute, style or URL of its own.

Import it from tests: ``from tests.report.hostile import HOSTILE_TEXTS, markup_problems``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Cell contents, issue codes, messages and values an attacker (or an unlucky export) could put in a run.
HOSTILE_TEXTS: tuple[str, ...] = (
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</svg><script>alert(1)</script>",
    "</title></desc><a href=\"http://evil.example/\">click</a>",
    "<style>@import url(http://evil.example/a.css);</style>",
    "]]><!-- -->",
    "&amp; &lt;b&gt; &#x3c;i&#x3e;",
    "javascript:alert(1)",
    "url(https://evil.example/x.png)",
    '=HYPERLINK("http://evil")',
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "bell\x07 nul\x00 esc\x1b[31m",
    "line\nbreak\r\ttab",
    "\u202egnp.exe",
    "Ásha 名前 😀",
    "x" * 300,
)

#: Elements a page may have of its own; anything else came from the data.
PAGE_TAGS = frozenset({
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "tr", "th", "td", "div",
    "figure", "figcaption", "svg", "desc", "defs", "pattern", "rect", "circle", "line", "polyline", "g", "text",
    "tspan", "span", "ul", "li", "code", "a", "section", "small", "strong", "em", "br", "caption", "thead",
    "tbody",
})
_URL = re.compile(r"(?i)\b(?:https?:)?//|@import|url\(\s*['\"]?(?!#)")


#: A link to a file beside the page (a run folder's own files): no scheme, no host, no folder of its own.
_SIBLING = re.compile(r"[A-Za-z0-9_%-][A-Za-z0-9._%-]*")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in PAGE_TAGS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and value is not None \
                    and not value.startswith("#") and not (tag == "a" and name == "href" and _SIBLING.fullmatch(value)):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if name == "style" and value and _URL.search(value):
                self.problems.append(f"style with a URL on <{tag}>")
            if value and value.lower().lstrip().startswith("javascript:"):
                self.problems.append(f"javascript: in {name}= on <{tag}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def markup_problems(page: str) -> list[str]:
    """What in ``page`` is not the page's own markup: unknown elements, event handlers, references to anything
    but the page itself (src/href; an <a> may link a file beside it), URLs or @import in a stylesheet, and <script>."""
    parser = _Markup()
    parser.feed(page)
    parser.close()
    problems = list(parser.problems)
    problems += [f"URL or @import in a stylesheet: {style[:60]!r}" for style in parser.styles if _URL.search(style)]
    return problems


def page_text(page: str) -> str:
    """The text a person reads on ``page`` (what its markup encloses, entities decoded; stylesheets left out)."""
    parser = _Markup()
    parser.feed(page)
    parser.close()
    return "".join(parser.text)


def shown_as(text: str) -> str:
    """How ``text`` reads on a page once the characters no page can hold (C0 controls, lone surrogates) became
    U+FFFD."""
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", "\ufffd", text)
