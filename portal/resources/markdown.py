"""Markdown for the resource library: rendered, then sanitized against an allow-list.

Two independent layers, so a gap in one is not a hole: markdown-it-py (CommonMark
plus tables) renders with raw HTML switched off, so ``<script>`` in the source
comes out as text; then nh3 keeps only the tags and attributes listed here and
drops any URL that is not http(s), mailto or a path on this site (``javascript:``,
``data:``, ``vbscript:``…). Page bodies are rendered once, when saved
(``ResourcePage.body_html``); the preview uses the same :func:`render`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset({
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
    "ul", "ol", "li", "blockquote", "pre", "code", "em", "strong",
    "a", "img", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
# Column alignment: the CSP forbids style attributes, so cells get a class instead.
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
ALLOWED_CLASSES = {"th": ALIGN_CLASSES, "td": ALIGN_CLASSES}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"

_parser = MarkdownIt("commonmark", {"html": False}).enable("table")


def _same_site_path(url: str) -> bool:
    """``/files/a.png`` or ``a.png``, but not ``//elsewhere.example/a.png``."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("//", "\\", "/\\"))


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # Images load without a click: only http(s) or this site, never mailto: or
        # a protocol-relative host.
        scheme = urlsplit(value).scheme.lower()
        if scheme in ("http", "https") or _same_site_path(value):
            return value
        return None
    return value


def _adjust(tokens: Iterable[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            # The page's title is its only <h1>: headings in the body start at <h2>.
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        elif token.type in ("th_open", "td_open"):
            style = str(token.attrs.pop("style", ""))
            if style.startswith("text-align:"):
                token.attrSet("class", "align-" + style.removeprefix("text-align:"))


def render(markdown: str) -> str:
    """Markdown source → sanitized HTML (a fragment, safe to mark as markup)."""
    tokens = _parser.parse(markdown or "")
    _adjust(tokens)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        attribute_filter=_attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
    return "".join(parts)


def plain_text(markdown: str) -> str:
    """The words of a Markdown text without any markup, one block a line (for search)."""
    blocks = []
    for token in _parser.parse(markdown or ""):
        if token.type == "inline":
            blocks.append(_inline_text(token))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n".join(" ".join(block.split()) for block in blocks if block.strip())
