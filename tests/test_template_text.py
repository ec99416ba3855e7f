"""Every user-visible text in the core's HTML templates is marked for translation.

Each template's source is reduced to what a visitor reads: Jinja comments, tags and
expressions go (marked strings live inside ``{{ _("…") }}``), HTML tags go except the
attributes people read or hear (placeholder, title, aria-label, alt, button values).
Whatever is left that contains a letter is an unmarked string.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "portal" / "templates"

#: Text that is the same in every language: punctuation, brand names, format tokens.
ALLOWED = {"·", "—", "–", "→", "←", "×", "…", "|", "/", ":", "(", ")", "*", "#", "%", "+", "-"}
ALLOWED_WORDS: set[str] = set()

JINJA_COMMENT = re.compile(r"{#.*?#}", re.S)
JINJA_BLOCK = re.compile(r"{%.*?%}", re.S)
JINJA_EXPR = re.compile(r"{{.*?}}", re.S)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
RAW_CONTENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[!/]?[a-zA-Z][^>]*>", re.S)
ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "aria-description"}
LETTER = re.compile(r"[^\W\d_]")


def visible_text(source: str) -> list[str]:
    """The pieces of text in a template a person reads that are not marked."""
    source = JINJA_COMMENT.sub(" ", source)
    # Expressions first: they may sit inside attribute values (and contain ">").
    source = JINJA_BLOCK.sub(" ", source)
    source = JINJA_EXPR.sub(" ", source)
    source = HTML_COMMENT.sub(" ", source)
    source = RAW_CONTENT.sub(" ", source)
    pieces: list[str] = []
    for tag in TAG.findall(source):
        name = re.match(r"<[!/]?([a-zA-Z][\w-]*)", tag).group(1).lower()  # type: ignore[union-attr]
        attributes = dict((k.lower(), v.strip("\"'")) for k, v in ATTRIBUTE.findall(tag))
        for attribute, value in attributes.items():
            if attribute in VISIBLE_ATTRIBUTES:
                pieces.append(value)
        if name == "input" and attributes.get("type", "").lower() in {"submit", "button", "reset"}:
            pieces.append(attributes.get("value", ""))
    pieces += TAG.sub("\n", source).split("\n")
    found = []
    for piece in pieces:
        text = " ".join(html.unescape(piece).split())
        if not text or not LETTER.search(text):
            continue
        if text in ALLOWED or text in ALLOWED_WORDS:
            continue
        found.append(text)
    return found


JINJA_CODE = re.compile(r"({{|{%)(.*?)(}}|%})", re.S)
_STRING = r"""(?:"[^"]*"|'[^']*')"""
MARKED_CALL = re.compile(
    rf"\b(?:_|gettext|ngettext|pgettext|npgettext)\(\s*{_STRING}(?:\s*,\s*{_STRING})*")
LITERAL = re.compile(r""""([^"]*)"|'([^']*)'""")
WORDS = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}")


def unmarked_literals(source: str) -> list[str]:
    """String literals of two words or more in Jinja code that are not passed to ``_()``:
    ``{{ "Active" if x else "Not active" }}`` would show English in every language."""
    found = []
    for match in JINJA_CODE.finditer(JINJA_COMMENT.sub(" ", source)):
        code = MARKED_CALL.sub(" ", match.group(2))
        for double, single in LITERAL.findall(code):
            text = double or single
            if WORDS.search(text) and not re.fullmatch(r"[\w\s-]*(?:--|__)[\w\s-]*", text):
                found.append(text)
    return found


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_the_check_finds_unmarked_text():
    source = """{# a comment #}<p>{{ _("Marked") }}</p><p title="Hover me">Plain words</p>
    <input type="submit" value="Send"><img alt="{{ _('Logo') }}">
    · {{ name }} {% if x %}→{% endif %}"""
    assert visible_text(source) == ["Hover me", "Send", "Plain words"]


def test_the_check_ignores_markup_code_and_marked_text():
    source = """<a href="/x" class="button primary" data-x='{"a": 1}'>{{ _("Go") }}</a>
    <script src="x.js"></script><option value="de">{{ name }}</option>"""
    assert visible_text(source) == []


def test_the_check_finds_unmarked_literals_in_jinja_code():
    source = """{{ "Not active" if x else _("Active") }}{% set label = 'Read more' %}
    {{ ngettext("%(num)d item", "%(num)d items", n) }}{{ x|join(", ") }}"""
    assert unmarked_literals(source) == ["Not active", "Read more"]


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_unmarked_literal_in_code(template: Path):
    unmarked = unmarked_literals(template.read_text(encoding="utf-8"))
    assert not unmarked, f"{template.relative_to(TEMPLATES)}: wrap in _(…): {unmarked}"


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_unmarked_text(template: Path):
    unmarked = visible_text(template.read_text(encoding="utf-8"))
    assert not unmarked, f"{template.relative_to(TEMPLATES)}: wrap in {{{{ _(…) }}}}: {unmarked}"
