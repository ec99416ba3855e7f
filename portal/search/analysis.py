"""Language-aware text analysis for the search index.

Each shipped language gets its own analyzer: words are lower-cased, stop words
dropped, stemmed with the language's Snowball stemmer (so a German "Verträge"
meets "Vertrag"), then accents are folded (so "vertrage" typed without the
umlaut finds it too). Arabic has a light stemmer of its own (Whoosh's ISRI
stemmer does not run on current Python); Japanese, written without spaces, is
cut into overlapping character pairs, the usual way to search CJK text without a
dictionary. Languages without an analyzer of their own fall back to
:data:`GENERIC`: lower-cased, accents folded, no stemming.

Queries go through the same analyzer as the field they search, so a query and a
document always agree on what a word is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    Token,
    Tokenizer,
)
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

#: Portal locale -> the analyzer's language ("pt_BR" searches as Portuguese).
ANALYZER_LANGUAGES = {"en": "en", "de": "de", "fr": "fr", "es": "es", "pt": "pt", "ja": "ja", "ar": "ar"}
GENERIC = "xx"

#: Words are runs of letters and digits, with inner apostrophes or dots ("c'est",
#: "v2.1"); everything else separates them.
WORD = r"\w+(?:[.'’]\w+)*"


def analyzer_language(locale: str | None) -> str:
    """The analyzer language for a portal locale (``"pt_BR"`` -> ``"pt"``)."""
    if not locale:
        return GENERIC
    base = str(locale).replace("-", "_").split("_")[0].lower()
    return ANALYZER_LANGUAGES.get(base, GENERIC)


class FoldFilter(Filter):
    """Folds accents after stemming; drops tokens that fold to nothing."""

    def __init__(self) -> None:
        self.charset = CharsetFilter(accent_map)

    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        for token in self.charset(tokens):
            if token.text:
                yield token


# -- Arabic ----------------------------------------------------------------------

_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_AR_ALEF = str.maketrans({"\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627",
                          "\u0671": "\u0627", "\u0649": "\u064a", "\u0629": "\u0647"})
# Longest first: the definite article with a conjunction or preposition before it.
_AR_PREFIXES = ("وبال", "وال", "بال", "كال", "فال", "لل", "ال", "و", "ب", "ف", "ل", "ك")
_AR_SUFFIXES = ("هما", "كما", "تين", "تان", "ات", "ون", "ين", "ان", "ها", "هم", "هن", "كم",
                "كن", "نا", "يه", "ية", "ه", "ي")
AR_STOPWORDS = frozenset(
    "في من على إلى عن مع هذا هذه ذلك تلك التي الذي الذين أن إن كان كانت لا ما لم لن قد "
    "هو هي هم ثم أو أي كل بعد قبل حتى عند بين".split()
)


def normalize_arabic(word: str) -> str:
    """Drop diacritics and tatweel; one form for alef, alef maqsura and taa marbuta."""
    return _AR_DIACRITICS.sub("", word).translate(_AR_ALEF)


@lru_cache(maxsize=50_000)
def stem_arabic(word: str) -> str:
    """A light stemmer: strips one common prefix and one suffix, keeping three letters.

    Light stemming (rather than root extraction) is what retrieval studies found
    works best for Arabic search: "والعقود" and "العقود" meet, "عقد" stays apart
    from unrelated words sharing its root.
    """
    word = normalize_arabic(word)
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix):]
            break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word


# -- Japanese --------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
#: A word of letters that are not CJK (so "Salesforce連携" is two tokens).
_NON_CJK_WORD = rf"[^\W{_CJK}]+(?:[.'’][^\W{_CJK}]+)*"
_CJK_RUN = re.compile(f"[{_CJK}]+|{_NON_CJK_WORD}")
_CJK_CHAR = re.compile(f"[{_CJK}]")


# -- building analyzers ----------------------------------------------------------

class PortalAnalyzer(Tokenizer):
    """One language's whole analysis in a single pass, with a per-word cache.

    The same result as chaining Whoosh's tokenizer, lower-case, stop, stem and
    accent filters, several times faster: indexing 100,000 documents runs tens of
    millions of words through here, and a generator per filter per word adds up.
    Stop words take no position, as with Whoosh's StopFilter.
    """

    CACHE_WORDS = 200_000

    def __init__(self, language: str) -> None:
        self.language = language
        self._setup()

    def _setup(self) -> None:
        language = self.language
        self._terms: dict[str, str | None] = {}
        self._cjk = language == "ja"
        self._pattern = _CJK_RUN if self._cjk else re.compile(WORD)
        self._stops: frozenset[str] = frozenset()
        self._stem = None
        self._fold = CharsetFilter(accent_map).charmap
        if language == "ar":
            self._stops = AR_STOPWORDS
            self._stem = stem_arabic
        elif language not in (GENERIC, "ja"):
            from whoosh.lang import stemmer_for_language

            self._stops = frozenset(stopwords_for_language(language))
            self._stem = stemmer_for_language(language)

    def __getstate__(self) -> dict[str, str]:
        # The index's schema is pickled with its analyzers: keep only the language.
        return {"language": self.language}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.language = state["language"]
        self._setup()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.language == self.language  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.language))

    def term(self, word: str) -> str | None:
        """The indexed term of one lower-cased word; ``None`` for a stop word."""
        try:
            return self._terms[word]
        except KeyError:
            pass
        if word in self._stops:
            term = None
        else:
            term = self._stem(word) if self._stem is not None else word
            term = term.translate(self._fold) or None
        if len(self._terms) >= self.CACHE_WORDS:
            self._terms.clear()
        self._terms[word] = term
        return term

    def index_words(self, value: str) -> list[str] | None:
        """The words of ``value`` as written, in order, each of which
        :meth:`word_term` makes a term — for indexing in bulk, which keeps the
        terms of words it has seen. ``None`` for Japanese, whose terms are
        character pairs: :meth:`index_terms` gives them."""
        if self._cjk:
            return None
        return self._pattern.findall(value)

    def word_term(self, word: str) -> str | None:
        """The term of a word from :meth:`index_words`; ``None`` for a stop word."""
        return self.term(word.lower())

    def index_terms(self, value: str) -> list[str]:
        """The terms ``value`` is indexed as, in position order (stop words take
        no position): ``[t.text for t in self(value)]``, without a token per word."""
        words = self.index_words(value)
        if words is None:
            return [token.text for token in self(value)]
        term_of = self.word_term
        return [term for term in map(term_of, words) if term is not None]

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,  # type: ignore[no-untyped-def]
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        if self._cjk:
            value = unicodedata.normalize("NFKC", value)
        term_of = self.term
        for match in self._pattern.finditer(value):
            word = match.group()
            if self._cjk and _CJK_CHAR.match(word):
                pieces = [word] if len(word) == 1 else [word[i:i + 2] for i in range(len(word) - 1)]
                for offset, piece in enumerate(pieces):
                    token.text = piece
                    token.boost = 1.0
                    token.stopped = False
                    if positions:
                        token.pos = pos
                        pos += 1
                    if chars:
                        token.startchar = start_char + match.start() + offset
                        token.endchar = token.startchar + len(piece)
                    yield token
                continue
            text = term_of(word.lower())
            if text is None:
                if removestops:
                    continue
                token.text = word.lower()
                token.stopped = True
            else:
                token.text = text
                token.stopped = False
            token.boost = 1.0
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            if keeporiginal:
                token.original = word
            yield token


@lru_cache(maxsize=None)
def analyzer(language: str) -> PortalAnalyzer:
    """The analyzer of an analyzer language (see :func:`analyzer_language`)."""
    return PortalAnalyzer(language)


@lru_cache(maxsize=None)
def prefix_analyzer():  # type: ignore[no-untyped-def]
    """For the title prefixes that answer as-you-type: no stemming (a prefix of a
    word is not a word), accents folded, CJK runs whole."""
    return RegexTokenizer(f"[{_CJK}]+|{_NON_CJK_WORD}") | LowercaseFilter() | FoldFilter()


def analyze(language: str, text: str) -> list[str]:
    """The terms ``text`` becomes in ``language``'s fields (queries use this)."""
    return [token.text for token in analyzer(language)(text, mode="query")]


def fold(text: str) -> str:
    """Lower-case and accent-fold ``text`` the way :func:`prefix_analyzer` does."""
    return "".join(token.text for token in prefix_analyzer()(text, mode="query"))
