"""The Whoosh search backend: one index folder on this host.

Layout of ``SEARCH_INDEX_PATH``::

    CURRENT            the name of the live index folder (replaced atomically)
    ix-<stamp>/        a Whoosh index; a rebuild writes a new one, then flips CURRENT
    writer.lock        held by the one process that writes (see portal.search.indexer)

Each document is indexed in the fields of its own language (``title_de``,
``body_de`` …, analysed by :mod:`portal.search.analysis`); a query is analysed
once per language it searches. Who may see a document is part of the query
itself — an ``acl`` term the user reaches, a plugin that is on for them, a
permission they hold — so counts, facets and snippets only ever come from
documents the user may open.

Searchers are kept open per process and refreshed when another process commits
(``up_to_date`` is one directory listing); opening one costs tens of
milliseconds, a search a few.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.columns import NumericColumn
from whoosh.fields import ID, KEYWORD, STORED, TEXT, FieldType, Schema

from portal.search import bulk
from portal.search.analysis import ANALYZER_LANGUAGES, GENERIC, analyzer, analyzer_language
from portal.search.backend import Progress, SearchDocument, SearchRequest, SearchResults
from portal.search.executor import NO_PERMISSION, QueryExecutor

CURRENT = "CURRENT"
ANALYZER_SET = tuple(sorted(set(ANALYZER_LANGUAGES.values()) | {GENERIC}))
#: Stored text kept for snippets; a match further in shows the summary instead.
SNIPPET_SOURCE_CHARS = 2000


class UpdatedTime(FieldType):
    """When a document last changed (epoch seconds): stored, and in a numeric
    column that ranking reads for recency; not indexed, as no query asks for a
    range of it (Whoosh's NUMERIC would add 16 terms per document, one of them
    unique, a fifth of all the terms a rebuild writes)."""

    indexed = False
    stored = True

    def __init__(self) -> None:
        self.column_type = NumericColumn("q", default=0)

    def to_column_value(self, value: Any) -> int:
        return int(value)

    def from_column_value(self, value: Any) -> Any:
        return value


def schema() -> Schema:
    """The index's fields; every analyzer language has a title and a body field."""
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "kind": ID(stored=True, sortable=True),
        "plugin": ID,
        "perm": ID,
        "acl": KEYWORD(scorable=False),
        "language": ID(stored=True),
        "tags": KEYWORD(stored=True, lowercase=True, commas=True, scorable=False),
        "org": ID(stored=True),
        "updated": UpdatedTime(),
        "title": STORED,
        "summary": STORED,
        "url": STORED,
        "text": STORED,  # the start of the body, for snippets
    }
    for lang in ANALYZER_SET:
        fields[f"title_{lang}"] = TEXT(analyzer=analyzer(lang))
        fields[f"body_{lang}"] = TEXT(analyzer=analyzer(lang))
    return Schema(**fields)


def _epoch(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _fields(doc: SearchDocument) -> dict[str, Any]:
    lang = analyzer_language(doc.language)
    return {
        "id": doc.id,
        "kind": doc.kind,
        "plugin": doc.plugin,
        "perm": doc.permission or NO_PERMISSION,
        "acl": " ".join(doc.tokens),
        "language": doc.language,
        "tags": ",".join(doc.tags),
        "org": str(doc.organization_id) if doc.organization_id is not None else "",
        "updated": _epoch(doc.updated_at),
        "title": doc.title,
        "summary": doc.summary,
        "url": doc.url,
        "text": doc.body[:SNIPPET_SOURCE_CHARS],
        f"title_{lang}": doc.title,
        f"body_{lang}": doc.body,
    }


class WhooshBackend:
    """See the module docstring. One instance per app and process."""

    def __init__(self, path: str | os.PathLike[str], *, write_memory_mb: int = 512) -> None:
        self.path = Path(path)
        self.write_memory_mb = write_memory_mb
        self._lock = threading.RLock()
        self._ix: Any = None
        self._ix_name: str | None = None
        self._searcher: Any = None
        self._executor = QueryExecutor()
        self._current_mtime: float | None = None

    @classmethod
    def for_app(cls, app: Any) -> WhooshBackend:
        """The backend of ``app`` (``SEARCH_BACKEND``'s default)."""
        return cls(app.config["SEARCH_INDEX_PATH"])

    # -- opening ---------------------------------------------------------------
    def _current_name(self) -> str | None:
        try:
            name = (self.path / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def _open(self) -> Any:
        """The live index, reopened when a rebuild switched CURRENT. Raises
        ``LookupError`` when there is none, other errors when it is unreadable."""
        try:
            mtime = (self.path / CURRENT).stat().st_mtime
        except FileNotFoundError:
            self._drop()
            raise LookupError("no search index") from None
        if self._ix is not None and mtime == self._current_mtime:
            return self._ix
        name = self._current_name()
        if name is None:
            raise LookupError("no search index")
        if name != self._ix_name or self._ix is None:
            self._drop()
            self._ix = index.open_dir(str(self.path / name))
            self._ix_name = name
        self._current_mtime = mtime
        return self._ix

    def _drop(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001 - closing a broken index must not raise
                pass
        if self._ix is not None:
            try:
                self._ix.close()
            except Exception:  # noqa: BLE001
                pass
        self._searcher = self._ix = self._ix_name = None
        self._executor.clear()

    def _fresh_searcher(self) -> Any:
        ix = self._open()
        if self._searcher is None:
            self._searcher = ix.searcher()
        elif not self._searcher.up_to_date():
            self._searcher = self._refreshed(ix, self._searcher)
        return self._searcher

    @staticmethod
    def _refreshed(ix: Any, old: Any) -> Any:
        """A searcher for the index's latest version that keeps the segment readers
        still valid (same segment, same deletions) open.

        Whoosh 2.7's own ``refresh()`` means to do this but looks its readers up by
        the wrong key and reopens every segment: tens of milliseconds after each
        commit, paid by the next search.
        """
        from whoosh.reading import MultiReader, SegmentReader
        from whoosh.searching import Searcher

        try:
            toc = ix._read_toc()
        except Exception:  # noqa: BLE001 - a commit replacing the TOC: open afresh
            old.close()
            return ix.searcher()
        previous = {reader.segment().segment_id(): reader
                    for reader, _ in old.ixreader.leaf_readers() if reader.segment() is not None}
        readers = []
        for segment in toc.segments:
            reader = previous.pop(segment.segment_id(), None)
            if reader is not None and reader.segment().deleted_count() == segment.deleted_count():
                reader._gen = toc.generation
                readers.append(reader)
                continue
            if reader is not None:
                reader.close()
            readers.append(SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation))
        for reader in previous.values():
            reader.close()
        if not readers:
            return ix.searcher()
        combined = readers[0] if len(readers) == 1 else MultiReader(readers, generation=toc.generation)
        return Searcher(combined, fromindex=ix)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- state -------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            searcher, failure = self._try_searcher()
            if searcher is not None:
                return {"ok": True, "state": "ready", "documents": searcher.doc_count()}
            if failure == "LookupError":
                return {"ok": True, "state": "not_built", "documents": 0}
            return {"ok": False, "state": "corrupt", "error": failure}

    def _try_searcher(self) -> tuple[Any, str | None]:
        """The searcher, or None and why: ``LookupError`` (no index) or the error's
        name (an unreadable one; dropped, so the next try reopens it)."""
        import warnings

        # Whoosh leaves a file open when a damaged index fails to load; it is
        # closed as the error is dropped, which must not turn into a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                return self._fresh_searcher(), None
            except LookupError:
                return None, "LookupError"
            except Exception as error:  # noqa: BLE001 - report, never raise
                failure = type(error).__name__
            self._drop()
        return None, failure

    # -- writing -------------------------------------------------------------------
    def index(self, documents: Iterable[SearchDocument], delete: Iterable[str] = ()) -> None:
        """Replace/add and delete in one commit. The caller holds the writer lock
        (portal.search.indexer); Whoosh's own lock is a second guard."""
        ix = self._writable()
        writer = ix.writer(limitmb=64)
        try:
            for doc_id in delete:
                writer.delete_by_term("id", doc_id)
            for doc in documents:
                writer.update_document(**_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def _writable(self) -> Any:
        with self._lock:
            return self._open()

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None,
                processes: int = 1) -> int:
        """Write a whole new index beside the live one, then switch CURRENT to it.

        Searches keep using the old index until the switch; old folders are removed
        afterwards (processes still reading them keep their open files). The
        segments are built in memory and written directly (:mod:`portal.search.bulk`),
        one per ``write_memory_mb`` of postings, and not merged afterwards: the
        executor searches several segments as fast as one, and Whoosh's own
        writer takes over for updates. ``processes > 1`` builds in that many
        worker processes while this one reads the documents (for the command
        line only: it forks).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"ix-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        target = self.path / name
        target.mkdir()
        ix = index.create_in(str(target), schema())
        try:
            count = bulk.build(ix, (_fields(doc) for doc in documents), processes=processes,
                               budget=self._budget(processes), progress=progress)
        except BaseException:
            ix.close()
            shutil.rmtree(target, ignore_errors=True)
            raise
        ix.close()
        tmp = self.path / f"{CURRENT}.{os.getpid()}"
        tmp.write_text(name + "\n")
        os.replace(tmp, self.path / CURRENT)
        self._remove_old(keep=name)
        with self._lock:
            self._drop()
        return count

    def _budget(self, processes: int) -> int:
        """Postings each segment builder of a rebuild holds before it writes its
        segment: ``write_memory_mb`` shared by the building processes (each also
        needs ~100 MB of its own). At 512 MB a worker of two holds ~11 million
        postings: 100,000 documents of ~150 words make one segment per worker."""
        return max(100_000, self.write_memory_mb * 2**20 // bulk.BYTES_PER_POSTING // max(1, processes))

    def _remove_old(self, keep: str) -> None:
        for folder in self.path.glob("ix-*"):
            if folder.name != keep and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)

    def optimize(self) -> None:
        self._writable().optimize()

    # -- searching -----------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResults:
        with self._lock:
            searcher, failure = self._try_searcher()
            if searcher is None:
                state = "not_built" if failure == "LookupError" else "corrupt"
                return SearchResults([], 0, request.page, request.per_page, state=state)
            try:
                return self._executor.search(searcher, request)
            except Exception:  # noqa: BLE001
                # A segment removed under us (a rebuild, a merge): one more try on a
                # fresh searcher, then let the caller see the error.
                self._drop()
                return self._executor.search(self._fresh_searcher(), request)
