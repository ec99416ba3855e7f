"""What the portal asks of a search engine, whichever engine answers.

The portal speaks to search through :class:`SearchBackend` only: index and
delete documents, search, rebuild, report state. The Whoosh backend
(:mod:`portal.search.whoosh_backend`) serves one host; a deployment spread over
several hosts can plug in another backend without touching plugins, which only
ever hand over documents (see ``portal_searchable_documents``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from portal.audience import Reach


@dataclass
class SearchDocument:
    """One findable thing, as the index keeps it."""

    id: str  # "<table>:<pk>", e.g. "resource_page:12"
    kind: str  # "resource.guide", "deals.registration"
    title: str
    body: str
    url: str
    language: str  # portal locale of the text: "de", "pt_BR"
    tokens: list[str]  # audience tokens (portal.audience.content_tokens)
    plugin: str = "core"  # the plugin that owns it: hidden while it is off for a partner
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    organization_id: int | None = None
    updated_at: datetime | None = None
    permission: str | None = None  # a permission the user must hold to open it


@dataclass(frozen=True)
class Words:
    """A parsed query: plain words, quoted phrases, and the word being typed."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    prefix: str | None = None  # the last word, still being typed

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.prefix)


@dataclass(frozen=True)
class SearchRequest:
    """What one search asks: the words, whose reach, which filters, which page."""

    words: Words
    reach: Reach
    languages: tuple[str, ...]  # portal locales whose documents to search
    plugins: frozenset[str] | None = None  # plugins whose documents may show (None: all)
    permissions: frozenset[str] | None = None  # permissions held (None: all)
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None  # only documents in this language
    exclude_ids: frozenset[str] = frozenset()  # changed, not yet re-indexed: hidden
    page: int = 1
    per_page: int = 10
    facets: bool = True
    highlight: bool = True


@dataclass
class Hit:
    id: str
    kind: str
    title: str
    url: str
    summary: str
    language: str
    tags: list[str]
    updated_at: datetime | None
    score: float
    snippet: str | None = None  # HTML: escaped text with <mark> around matches


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, int] = field(default_factory=dict)  # kind -> matches (kind filter aside)
    fuzzy: bool = False  # nothing matched exactly: these are near spellings
    exact: bool = True  # False: total and facets are estimates ("about 2,400")
    searched: bool = True  # False: nothing searchable was typed (only stop words, say)
    page_limit: int | None = None  # the deepest page offered
    state: str = "ready"  # "ready", or "rebuilding" when the index is being built

    @property
    def pages(self) -> int:
        pages = max(1, -(-self.total // self.per_page))
        return min(pages, self.page_limit) if self.page_limit else pages

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def unavailable(self) -> bool:
        """The index is missing or unreadable (it is being rebuilt)."""
        return self.state != "ready"


Progress = Callable[[int], None]


class SearchBackend(Protocol):
    """The engine behind search. Implementations must be safe for several
    processes on the host to search while one writes."""

    def state(self) -> dict[str, Any]:
        """``{"ok": bool, "state": "ready"|"not_built"|"corrupt"|…, "documents": n}``."""

    def search(self, request: SearchRequest) -> SearchResults:
        """Answer a search; only documents the request's reach allows count."""

    def index(self, documents: Iterable[SearchDocument], delete: Iterable[str] = ()) -> None:
        """Add or replace ``documents`` and remove the ids in ``delete``, in one commit."""

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None,
                processes: int = 1) -> int:
        """Build a fresh index from ``documents`` and switch to it; returns the count."""

    def close(self) -> None:
        """Release files and caches (tests, shutdown)."""
