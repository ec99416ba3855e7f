"""Answering a search over a Whoosh index with arrays instead of matcher trees.

Whoosh walks its posting lists one document at a time in Python; an OR of the
audience tokens a partner reaches, ANDed with the words, costs it tens of
milliseconds on a large index, and counting every match for the facets as much
again. Here each posting list is read once into arrays (document numbers and
term frequencies, per index segment, kept while the segment lives), and a search
becomes a few array operations over all documents at once:

* each word adds its BM25 score to a score array and marks the documents it
  matches; a document must be marked by every word (phrases are checked on
  their positions by Whoosh);
* what the user may see is a boolean array — their audience tokens, the plugins
  that are on for them, the permissions they hold — built from the same cached
  posting lists and kept per reach until the index changes;
* the count, the facets by kind and the top hits (relevance with a bonus for
  recent documents) come from the masked arrays.

Whoosh remains the engine: it analyses, stores, segments, merges and locks the
index, keeps positions for phrases, stored fields and the term dictionary for
prefixes and near spellings.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from portal.search.analysis import analyze, analyzer, analyzer_language, fold
from portal.search.backend import Hit, SearchRequest, SearchResults, Words

TITLE_BOOST = 3.0
#: How many body words a typed prefix may stand for (the most frequent first).
PREFIX_EXPANSIONS = 24
#: How many dictionary words a near spelling may stand for.
FUZZY_EXPANSIONS = 16
#: Recency: a document this many days old keeps half of its freshness bonus.
RECENCY_HALF_LIFE_DAYS = 180
RECENCY_WEIGHT = 0.3
NO_PERMISSION = "-"
#: BM25's parameters (the usual ones).
K1, B = 1.2, 0.75
#: Posting lists kept in memory, counted in postings (8 bytes each).
POSTINGS_BUDGET = 6_000_000
#: Most candidates whose word positions a phrase checks; beyond, the count is estimated.
PHRASE_CHECKS = 500
#: Encoded positions kept for phrases, counted in postings.
POSITIONS_BUDGET = 2_000_000
#: Most dictionary words a typed prefix is looked up among, per segment.
PREFIX_TERMS = 2001
#: Prefix lookups kept (per segment, field and prefix).
PREFIXES_KEPT = 4096
#: Permission masks kept per index version (one per distinct reach).
MASKS_KEPT = 64


_LENGTH_TABLE: np.ndarray | None = None


def _length_table() -> np.ndarray:
    global _LENGTH_TABLE
    if _LENGTH_TABLE is None:
        from whoosh.util.numeric import byte_to_length

        _LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
    return _LENGTH_TABLE


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" or "\uf900" <= ch <= "\uffef" for ch in text)


def _read_postings(reader: Any, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's document numbers and frequencies in one segment, block by block."""
    if (field, text) not in reader:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    matcher = reader.postings(field, text)
    ids: list[Any] = []
    weights: list[Any] = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        # Whoosh 2.7's block reader: whole blocks at a time.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int32))
            weights.append(np.asarray(matcher._weights, dtype=np.float32))
            matcher._next_block()
    else:  # pragma: no cover - other codecs: one posting at a time
        one_ids, one_weights = [], []
        while matcher.is_active():
            one_ids.append(matcher.id())
            one_weights.append(matcher.weight())
            matcher.next()
        ids, weights = [np.asarray(one_ids, np.int32)], [np.asarray(one_weights, np.float32)]
    if not ids:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    return np.concatenate(ids), np.concatenate(weights)


class _View:
    """One version of the index (one searcher): its segments laid end to end."""

    def __init__(self, executor: QueryExecutor, searcher: Any) -> None:
        self.searcher = searcher
        self.leaves: list[tuple[Any, int, str]] = []
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            self.leaves.append((reader, offset, reader.segment().segment_id()
                                if reader.segment() is not None else f"leaf{offset}"))
        self.size = searcher.doc_count_all()
        self.executor = executor
        live = np.ones(self.size, dtype=bool)
        for reader, offset, _ in self.leaves:
            if reader.has_deletions():
                dead = np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)
                live[dead + offset] = False
        self.live = live
        codes = np.zeros(self.size, dtype=np.int32)
        updated = np.zeros(self.size, dtype=np.float64)
        for reader, offset, segid in self.leaves:
            kinds, stamps = executor.columns(reader, segid)
            codes[offset:offset + len(kinds)] = kinds
            updated[offset:offset + len(stamps)] = stamps
        self.kind_codes = codes
        self.kind_names = executor.kind_names
        self.updated = updated
        self.masks: OrderedDict[Any, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def postings(self, field: str, text: str, *, lengths: bool = False) -> tuple[np.ndarray, ...]:
        """Global document numbers and frequencies of a term (and the documents'
        lengths of ``field``, for scoring)."""
        parts = []
        for reader, offset, segid in self.leaves:
            ids, tf = self.executor.segment_postings(reader, segid, field, text)
            part = [ids + offset if offset else ids, tf]
            if lengths:
                part.append(self.executor.lengths(reader, segid, field)[ids])
            parts.append(part)
        if len(parts) == 1:
            return tuple(parts[0])
        return tuple(np.concatenate(column) for column in zip(*parts))

    def docs_with(self, field: str, text: str) -> np.ndarray:
        return self.postings(field, text)[0]

    def scores(self, field: str, text: str, boost: float) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of a term for each document that has it."""
        ids, tf, lengths = self.postings(field, text, lengths=True)
        if not len(ids):
            return ids, tf
        df = len(ids)
        n = max(self.size, 1)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        average = self.executor.average_length(self, field)
        norm = K1 * (1 - B + B * lengths / average)
        return ids, (boost * idf * tf * (K1 + 1) / (tf + norm)).astype(np.float32)

    def mask(self, key: Any, build: Any) -> np.ndarray:
        with self.lock:
            found = self.masks.get(key)
            if found is not None:
                self.masks.move_to_end(key)
                return found
        made = build()
        with self.lock:
            self.masks[key] = made
            while len(self.masks) > MASKS_KEPT:
                self.masks.popitem(last=False)
        return made


class QueryExecutor:
    """Per-process caches of postings and columns, and the search itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._postings: OrderedDict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._postings_size = 0
        self._lengths: dict[tuple[str, str], np.ndarray] = {}
        self._columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Kinds get small numbers, the same in every segment and version.
        self.kind_names: list[str] = []
        self._kind_codes: dict[str, int] = {}
        self._positions: OrderedDict[tuple[str, str, str], tuple[np.ndarray, list[bytes]]] = OrderedDict()
        self._positions_size = 0
        self._averages: dict[tuple[int, str], float] = {}
        self._prefixes: OrderedDict[tuple[str, str, str], list[tuple[str, int]]] = OrderedDict()
        self._view: _View | None = None

    def clear(self) -> None:
        with self._lock:
            self._postings.clear()
            self._postings_size = 0
            self._lengths.clear()
            self._columns.clear()
            self._averages.clear()
            self._prefixes.clear()
            self._view = None

    # -- caches --------------------------------------------------------------------
    def view(self, searcher: Any) -> _View:
        view = self._view
        if view is None or view.searcher is not searcher:
            view = _View(self, searcher)
            live = {segid for _, _, segid in view.leaves}
            with self._lock:
                # Forget segments that merged away.
                for key in [k for k in self._postings if k[0] not in live]:
                    self._postings_size -= len(self._postings.pop(key)[0])
                for key in [k for k in self._lengths if k[0] not in live]:
                    del self._lengths[key]
                for key in [k for k in self._columns if k not in live]:
                    del self._columns[key]
                for key in [k for k in self._positions if k[0] not in live]:
                    self._positions_size -= len(self._positions.pop(key)[0])
                for key in [k for k in self._prefixes if k[0] not in live]:
                    del self._prefixes[key]
                self._averages.clear()
                self._view = view
        return view

    def kind_code(self, kind: str) -> int:
        code = self._kind_codes.get(kind)
        if code is None:
            with self._lock:
                code = self._kind_codes.setdefault(kind, len(self.kind_names))
                if code == len(self.kind_names):
                    self.kind_names.append(kind)
        return code

    def columns(self, reader: Any, segid: str) -> tuple[np.ndarray, np.ndarray]:
        """Each document's kind (as a code) and its updated time, for one segment."""
        found = self._columns.get(segid)
        if found is None:
            count = reader.doc_count_all()
            names = reader.column_reader("kind") if reader.has_column("kind") else [""] * count
            code_of = self.kind_code
            kinds = np.fromiter((code_of(name) for name in names), dtype=np.int32, count=count)
            if reader.has_column("updated"):
                stamps = np.fromiter(reader.column_reader("updated"), dtype=np.float64, count=count)
            else:
                stamps = np.zeros(count, np.float64)
            found = (kinds, stamps)
            self._columns[segid] = found
        return found

    def lengths(self, reader: Any, segid: str, field: str) -> np.ndarray:
        key = (segid, field)
        found = self._lengths.get(key)
        if found is None:
            count = reader.doc_count_all()
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN

            # Whoosh keeps each field's lengths as a one-byte column per document.
            name = f"_{field}_len"
            perdoc = getattr(reader, "_perdoc", None)
            if perdoc is not None and perdoc.has_column(name):
                raw = np.fromiter(perdoc.column_reader(name, LENGTHS_COLUMN), dtype=np.uint8, count=count)
                found = _length_table()[raw]
            else:
                found = np.zeros(count, np.float32)
            self._lengths[key] = found
        return found

    def segment_postings(self, reader: Any, segid: str, field: str,
                         text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (segid, field, text)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        found = _read_postings(reader, field, text)
        with self._lock:
            self._postings[key] = found
            self._postings_size += len(found[0])
            while self._postings_size > POSTINGS_BUDGET and len(self._postings) > 1:
                _, dropped = self._postings.popitem(last=False)
                self._postings_size -= len(dropped[0])
        return found

    def average_length(self, view: _View, field: str) -> float:
        key = (id(view), field)
        found = self._averages.get(key)
        if found is None:
            total, docs = 0.0, 0
            for reader, _, segid in view.leaves:
                lengths = self.lengths(reader, segid, field)
                total += float(lengths.sum())
                docs += int(np.count_nonzero(lengths))
            found = total / docs if docs else 1.0
            self._averages[key] = found
        return found

    # -- searching -----------------------------------------------------------------
    def search(self, searcher: Any, request: SearchRequest) -> SearchResults:
        view = self.view(searcher)
        # A language filter searches that language; otherwise the request's languages.
        languages = (request.language,) if request.language else request.languages
        analyzers = tuple(dict.fromkeys(analyzer_language(lang) for lang in languages))
        allowed = self._allowed(view, request)
        results = self._answer(view, request, analyzers, allowed, fuzzy=False)
        if results is not None and results.total == 0 and not request.words.phrases:
            fuzzy = self._answer(view, request, analyzers, allowed, fuzzy=True)
            if fuzzy is not None and fuzzy.total:
                fuzzy.fuzzy = True
                return fuzzy
        return results or SearchResults([], 0, request.page, request.per_page, searched=False)

    def _allowed(self, view: _View, request: SearchRequest) -> np.ndarray:
        """What the user may see, as a mask over every document of this version."""
        key = (
            request.reach.cache_key,
            None if request.plugins is None else tuple(sorted(request.plugins)),
            None if request.permissions is None else tuple(sorted(request.permissions)),
            request.language,
            tuple(sorted(t.lower() for t in request.tags)),
        )

        def build() -> np.ndarray:
            mask = view.live.copy()
            if not request.reach.everything:
                mask &= self._any(view, "acl", request.reach.tokens)
            if request.plugins is not None:
                mask &= self._any(view, "plugin", request.plugins | {"core"})
            if request.permissions is not None:
                mask &= self._any(view, "perm", request.permissions | {NO_PERMISSION})
            if request.language:
                mask &= self._any(view, "language", {request.language})
            for tag in request.tags:
                mask &= self._any(view, "tags", {tag.lower()})
            return mask

        mask = view.mask(key, build)
        if request.exclude_ids:
            mask = mask & ~self._any(view, "id", request.exclude_ids)
        return mask

    def _any(self, view: _View, field: str, values: Any) -> np.ndarray:
        mask = np.zeros(view.size, dtype=bool)
        for value in values:
            mask[view.docs_with(field, value)] = True
        return mask

    def _answer(self, view: _View, request: SearchRequest, analyzers: tuple[str, ...],
                allowed: np.ndarray, *, fuzzy: bool) -> SearchResults | None:
        # > 1 when a phrase checked only its best candidates. Kept on the executor for
        # the length of one search: the backend's lock runs one search at a time.
        self._estimate = 1.0
        clauses = self._clauses(view, request.words, analyzers, allowed, fuzzy=fuzzy)
        if not clauses:
            return None
        score = np.zeros(view.size, dtype=np.float32)
        matched = np.zeros(view.size, dtype=np.uint8)
        for clause in clauses:
            hit = np.zeros(view.size, dtype=bool)
            for ids, values in clause:
                if len(ids):
                    score[ids] += values
                    hit[ids] = True
            matched += hit
        found = (matched == len(clauses)) & allowed
        idx = np.flatnonzero(found)
        codes = view.kind_codes[idx]
        facets: dict[str, int] = {}
        if request.facets and len(idx):
            counts = np.bincount(codes, minlength=len(view.kind_names))
            facets = {view.kind_names[i]: int(c) for i, c in sorted(enumerate(counts), key=lambda p: -p[1]) if c}
        if request.kinds:
            wanted = [i for i, name in enumerate(view.kind_names) if name in request.kinds]
            keep = np.isin(codes, wanted)
            idx = idx[keep]
        total = int(len(idx))
        start = (request.page - 1) * request.per_page
        hits: list[Hit] = []
        if total and start < total:
            ranked = score[idx] * (1 + RECENCY_WEIGHT * self._freshness(view.updated[idx]))
            wanted_n = min(start + request.per_page, total)
            if wanted_n < total:
                top = np.argpartition(-ranked, wanted_n - 1)[:wanted_n]
            else:
                top = np.arange(total)
            order = top[np.lexsort((idx[top], -ranked[top]))]
            for position in order[start:start + request.per_page]:
                hits.append(self._hit(view, int(idx[position]), float(ranked[position]), request,
                                      analyzers))
        if self._estimate > 1.0:
            total = int(round(total * self._estimate))
            facets = {k: int(round(n * self._estimate)) for k, n in facets.items()}
        return SearchResults(hits, total, request.page, request.per_page, facets=facets,
                             exact=self._estimate == 1.0)

    @staticmethod
    def _freshness(stamps: np.ndarray) -> np.ndarray:
        age_days = np.maximum(0.0, time.time() - stamps) / 86400.0
        return np.power(0.5, age_days / RECENCY_HALF_LIFE_DAYS)

    # -- clauses ---------------------------------------------------------------------
    def _clauses(self, view: _View, words: Words, analyzers: tuple[str, ...],
                 allowed: np.ndarray, *, fuzzy: bool) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """One clause per word, phrase and typed prefix; each clause is a list of
        (documents, scores) alternatives, and a document must match every clause."""
        clauses = []
        for word in words.words:
            clause = self._word(view, word, analyzers, allowed, fuzzy=fuzzy)
            if clause:
                clauses.append(clause)
        for phrase in words.phrases:
            clause = self._phrase(view, phrase, analyzers, allowed)
            if clause is not None:
                clauses.append(clause)
        if words.prefix:
            clause = self._prefix(view, words.prefix, analyzers)
            if clause:
                clauses.append(clause)
        return clauses

    def _fields(self, lang: str) -> tuple[tuple[str, float], ...]:
        return ((f"title_{lang}", TITLE_BOOST), (f"body_{lang}", 1.0))

    def _word(self, view: _View, word: str, analyzers: tuple[str, ...], allowed: np.ndarray, *,
              fuzzy: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        options: list[tuple[np.ndarray, np.ndarray]] = []
        for lang in analyzers:
            terms = analyze(lang, word)
            if len(terms) > 1:  # a word the analyzer splits (Japanese): its pieces in a row
                options.extend(self._phrase_options(view, lang, terms, allowed))
                continue
            for term in terms:
                for field, boost in self._fields(lang):
                    if fuzzy:
                        for near in self._near(view, field, term):
                            options.append(view.scores(field, near, boost * 0.5))
                    else:
                        options.append(view.scores(field, term, boost))
        return options

    def _near(self, view: _View, field: str, term: str) -> list[str]:
        """Dictionary words one edit away (two for long words), for typo tolerance."""
        if len(term) < 5:
            return []
        distance = 1 if len(term) < 9 else 2
        found: dict[str, int] = {}
        for reader, _, _ in view.leaves:
            for near in reader.terms_within(field, term, distance, prefix=1):
                text = near.decode("utf-8") if isinstance(near, bytes) else near
                if text != term:
                    found[text] = found.get(text, 0) + reader.doc_frequency(field, text)
        return [t for t, _ in sorted(found.items(), key=lambda p: -p[1])[:FUZZY_EXPANSIONS]]

    def _phrase(self, view: _View, phrase: str, analyzers: tuple[str, ...],
                allowed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
        options: list[tuple[np.ndarray, np.ndarray]] = []
        any_terms = False
        for lang in analyzers:
            terms = analyze(lang, phrase)
            if not terms:
                continue
            any_terms = True
            if len(terms) == 1:
                options.extend(view.scores(f, terms[0], b) for f, b in self._fields(lang))
            else:
                options.extend(self._phrase_options(view, lang, terms, allowed))
        return options if any_terms else None

    def _phrase_options(self, view: _View, lang: str, terms: list[str],
                        allowed: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Documents with ``terms`` in a row, in the title or the body: those that
        have every term and that the user may see (arrays), then their positions."""
        options = []
        for field, boost in self._fields(lang):
            scored = [view.scores(field, t, boost) for t in terms]
            if any(not len(ids) for ids, _ in scored):
                continue
            candidates = scored[0][0]
            for ids, _ in scored[1:]:
                candidates = np.intersect1d(candidates, ids, assume_unique=True)
            if not len(candidates):
                continue
            if allowed is not None:
                candidates = candidates[allowed[candidates]]
            if not len(candidates):
                continue
            total = np.zeros(len(candidates), dtype=np.float32)
            for term_ids, values in scored:
                total += values[np.searchsorted(term_ids, candidates)]
            if len(candidates) > PHRASE_CHECKS:
                # Check the best-scored candidates only: the hits shown are among
                # them; the count is then estimated from the share that matched.
                best = np.sort(np.argpartition(-total, PHRASE_CHECKS)[:PHRASE_CHECKS])
                checked = len(candidates)
                candidates, total = candidates[best], total[best]
            else:
                checked = 0
            keep = np.isin(candidates, self._in_order(view, field, terms, candidates),
                           assume_unique=True)
            if checked:
                self._estimate = max(self._estimate, checked / PHRASE_CHECKS)
            if keep.any():
                options.append((candidates[keep], total[keep]))
        return options

    def segment_positions(self, reader: Any, segid: str, field: str,
                          text: str) -> tuple[np.ndarray, list[Any]]:
        """A term's document numbers and encoded positions in one segment, kept
        (for phrases) like the posting lists."""
        key = (segid, field, text)
        with self._lock:
            found = self._positions.get(key)
            if found is not None:
                self._positions.move_to_end(key)
                return found
        ids: list[Any] = []
        values: list[Any] = []
        if (field, text) in reader:
            matcher = reader.postings(field, text)
            if hasattr(matcher, "_read_values") and hasattr(matcher, "_next_block"):
                while matcher.is_active():
                    matcher._read_ids()
                    matcher._read_values()
                    ids.append(np.asarray(matcher._ids, dtype=np.int64))
                    values.extend(matcher._values)
                    matcher._next_block()
            else:  # pragma: no cover - other codecs
                one = []
                while matcher.is_active():
                    one.append(matcher.id())
                    values.append(matcher.value())
                    matcher.next()
                ids.append(np.asarray(one, dtype=np.int64))
        found = (np.concatenate(ids) if ids else np.empty(0, np.int64), values)
        with self._lock:
            self._positions[key] = found
            self._positions_size += len(values)
            while self._positions_size > POSITIONS_BUDGET and len(self._positions) > 1:
                _, dropped = self._positions.popitem(last=False)
                self._positions_size -= len(dropped[1])
        return found

    def _in_order(self, view: _View, field: str, terms: list[str], candidates: np.ndarray) -> np.ndarray:
        """The candidates whose ``field`` has ``terms`` at consecutive positions."""
        found: list[int] = []
        for reader, offset, segid in view.leaves:
            size = reader.doc_count_all()
            local = candidates[(candidates >= offset) & (candidates < offset + size)] - offset
            if not len(local):
                continue
            decode = reader.schema[field].format.decode_positions
            columns = []
            for term in terms:
                ids, values = self.segment_positions(reader, segid, field, term)
                at = np.searchsorted(ids, local)
                columns.append([values[i] for i in at.tolist()])
            for n, doc in enumerate(local.tolist()):
                starts = decode(columns[0][n])
                later = [set(decode(column[n])) for column in columns[1:]]
                if any(all(start + i + 1 in later[i] for i in range(len(later))) for start in starts):
                    found.append(doc + offset)
        return np.asarray(found, dtype=np.int64)

    def _prefix(self, view: _View, prefix: str, analyzers: tuple[str, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The word being typed: title and body words that start with it (the most
        frequent few), and the word itself when it is already complete.

        Indexed words are stems ("renew" for "renewals"), so a prefix longer than
        the stem ("renewa") finds nothing as typed: it is shortened a letter at a
        time, down to three, until some word starts with it.
        """
        folded = fold(prefix)
        if not folded:
            return []
        options: list[tuple[np.ndarray, np.ndarray]] = []
        for lang in analyzers:
            for field, boost in self._fields(lang):
                for term in self._expansions(view, field, folded):
                    options.append(view.scores(field, term, boost))
            for term in analyze(lang, prefix):
                for field, boost in self._fields(lang):
                    options.append(view.scores(field, term, boost))
        return options

    def _expansions(self, view: _View, field: str, prefix: str) -> list[str]:
        minimum = min(len(prefix), 2 if _is_cjk(prefix) else 3)
        for length in range(len(prefix), minimum - 1, -1):
            found: dict[str, int] = {}
            for reader, _, segid in view.leaves:
                for text, frequency in self.prefix_terms(reader, segid, field, prefix[:length]):
                    found[text] = found.get(text, 0) + frequency
            if found:
                return [t for t, _ in sorted(found.items(), key=lambda p: -p[1])[:PREFIX_EXPANSIONS]]
        return []

    def prefix_terms(self, reader: Any, segid: str, field: str,
                              prefix: str) -> list[tuple[str, int]]:
        """A segment's words of ``field`` that start with ``prefix`` (the first
        :data:`PREFIX_TERMS`) with their document frequencies, read in one pass
        over the term dictionary and kept: a segment's dictionary never changes,
        and as-you-type asks for the same prefixes again and again."""
        key = (segid, field, prefix)
        with self._lock:
            found = self._prefixes.get(key)
            if found is not None:
                self._prefixes.move_to_end(key)
                return found
        found = []
        for text, info in reader.iter_prefix(field, prefix):
            found.append((text.decode("utf-8") if isinstance(text, bytes) else text, info.doc_frequency()))
            if len(found) > PREFIX_TERMS:
                break
        with self._lock:
            self._prefixes[key] = found
            while len(self._prefixes) > PREFIXES_KEPT:
                self._prefixes.popitem(last=False)
        return found

    # -- hits ------------------------------------------------------------------------
    def _hit(self, view: _View, docnum: int, score: float, request: SearchRequest,
             analyzers: tuple[str, ...]) -> Hit:
        fields = view.searcher.stored_fields(docnum)
        snippet = None
        if request.highlight:
            snippet = self._snippet(fields, request.words)
        updated = fields.get("updated") or 0
        return Hit(
            id=fields["id"],
            kind=fields["kind"],
            title=fields.get("title") or "",
            url=fields.get("url") or "",
            summary=fields.get("summary") or "",
            language=fields.get("language") or "",
            tags=[t for t in (fields.get("tags") or "").split(",") if t],
            updated_at=datetime.fromtimestamp(updated, timezone.utc) if updated else None,
            score=score,
            snippet=snippet,
        )

    def _snippet(self, fields: dict[str, Any], words: Words) -> Markup | None:
        """The body text around the first matched words, the matches marked."""
        lang = analyzer_language(fields.get("language"))
        terms: set[str] = set()
        for word in (*words.words, *words.phrases):
            terms.update(analyze(lang, word))
        prefixes: tuple[str, ...] = ()
        if words.prefix:
            terms.update(analyze(lang, words.prefix))
            prefixes = tuple(t for t in {fold(words.prefix)} if len(t) >= 2)
        return snippet(fields.get("text") or "", terms, prefixes, lang)


#: A snippet's length in characters, and how much of it comes before the first match.
SNIPPET_CHARS = 200
SNIPPET_LEAD = 60


def snippet(text: str, terms: set[str], prefixes: tuple[str, ...], lang: str) -> Markup | None:
    """Escaped ``text`` around its first match, matches in <mark>.

    The analyzer is a generator, so the text is read only as far as the snippet
    reaches: a match near the start costs next to nothing, whatever the length.
    """
    if not text or not (terms or prefixes):
        return None
    matches: list[tuple[int, int]] = []
    for token in analyzer(lang)(text, chars=True, mode="query"):
        word = token.text
        if word in terms or (prefixes and word.startswith(prefixes)):
            if matches and token.startchar - matches[0][0] > SNIPPET_CHARS - SNIPPET_LEAD:
                break
            matches.append((token.startchar, token.endchar))
    if not matches:
        return None
    start = max(0, matches[0][0] - SNIPPET_LEAD)
    if start:
        space = text.find(" ", start, matches[0][0])
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", matches[-1][1], end)
        end = space if space != -1 else max(end, matches[-1][1])
    parts: list[Any] = ["… " if start else ""]
    at = start
    for begin, finish in matches:
        if finish > end:
            break
        parts.append(escape(text[at:begin]))
        parts.append(Markup("<mark>{}</mark>").format(text[begin:finish]))
        at = finish
    parts.append(escape(text[at:end]))
    parts.append(" …" if end < len(text) else "")
    return Markup("").join(parts)
