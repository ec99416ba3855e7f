"""Reading what a person typed into the search box.

``partner "price list" renew`` is two words and a phrase. While typing (the
header's live results), the last word is taken as the start of a word:
``contr`` finds "contract" and "Contrôle". A trailing ``*`` asks for the same on
the full results page. Nothing a person types is a syntax error: stray quotes,
operators and punctuation are read as plain words or dropped.
"""

from __future__ import annotations

import re

from portal.search.backend import Words

#: Longest query kept, in characters, and most words kept (the rest are ignored).
MAX_QUERY_CHARS = 200
MAX_WORDS = 12

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\s\"]+")
_EDGE_PUNCTUATION = "!#$%&()*+,-./:;<=>?@[\\]^_`{|}~'’“”„«»"


def _clean(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION)


def parse(text: str | None, *, as_you_type: bool = False) -> Words:
    """Split ``text`` into words, quoted phrases and, when typing, a prefix."""
    text = (text or "")[:MAX_QUERY_CHARS]
    if text.count('"') % 2:
        text = text.replace('"', " ") if text.rstrip().endswith('"') else text + '"'
    phrases = tuple(p for p in (" ".join(m.split()) for m in _PHRASE.findall(text)) if p)
    rest = _PHRASE.sub(" ", text)
    raw = _WORD.findall(rest)
    words = [w for w in (_clean(r) for r in raw) if w]
    prefix = None
    typing = as_you_type and bool(raw) and not rest.endswith((" ", "\t", "\n"))
    starred = bool(raw) and raw[-1].endswith("*")
    if words and (typing or starred) and _clean(raw[-1]) == words[-1]:
        prefix = words.pop()
    words = list(dict.fromkeys(words))[:MAX_WORDS]
    return Words(words=tuple(words), phrases=phrases[:MAX_WORDS], prefix=prefix)
