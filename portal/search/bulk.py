"""Writing a whole index fast: segments built in memory, written in Whoosh's format.

Whoosh's own writer puts every posting of every document through a sorting
pool (a tuple per posting, pickled to temporary run files once the pool is
full, merged back with a heap), then asks the per-document reader for the
field length of each posting, one stat() and column read at a time, and a
rebuild then merged its segments into one. That was most of a rebuild's time,
and it grew faster than the corpus (534 s for 100,000 documents, 57 s for 20,000).

A :class:`SegmentBuilder` keeps a segment's postings in memory instead: a text
field's words become term numbers once (:class:`_TextField`), other fields
their terms as Whoosh makes them. When it holds :attr:`SegmentBuilder.budget`
postings, or the documents run out, it sorts each text field's tokens into
posting lists with numpy and writes the segment: the per-document columns and
stored fields with Whoosh 3's per-document writer, the term table and posting
blocks with its field writer (:class:`_FieldWriter` hands it a term's whole
posting list; see there for the three ways its blocks differ, none visible to
a reader). The result is an ordinary Whoosh segment — Whoosh opens, searches,
updates, deletes in and merges it like any other (tests/test_search_bulk.py
checks every posting, length, column and stored field against Whoosh's own
writer) — left as separate files rather than one compound file.

:func:`build` lays the segments of one new index: in this process, or in worker
processes that each build segments from a share of the documents (the caller
reads the documents; the workers analyse and write), then commits them in one
table of contents.
"""

from __future__ import annotations

import multiprocessing
import queue
import struct
import traceback
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter, W3TermInfo
from whoosh.analysis import IDTokenizer
from whoosh.fields import ID, UnknownFieldError
from whoosh.filedb import filetables
from whoosh.formats import Existence, Positions
from whoosh.index import TOC, clean_files
from whoosh.system import pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import LockError

from portal.search.analysis import PortalAnalyzer

#: About what a builder's memory grows by per posting it holds (a text's token is
#: 4 bytes; the terms, the other fields and the sorting when it writes add the rest:
#: 50,000 documents, 9.5 million postings, peaked at 300 MB in a worker of ~90 MB).
BYTES_PER_POSTING = 24
#: Postings a builder holds before it writes its segment.
DEFAULT_BUDGET = 8_000_000
#: Smallest pickled block (bytes) worth compressing.
COMPRESS_FROM = 128
#: Distinct values of a field whose terms a builder keeps (kinds, audiences, tags repeat).
INDEX_CACHE = 4096
#: Tokens of a text field turned into Python objects at a time, when a segment is written.
CHUNK = 100_000
#: Documents sent to a worker process at a time.
BATCH = 200

_pack_uint = struct.Struct("!I").pack
_pack_int = struct.Struct("!i").pack
_TERMINFO = W3TermInfo._struct
_HASH_LENGTHS = filetables._lengths


def encode_positions(positions: list[int]) -> bytes:
    """``Positions.encode``: the count, then the pickled list of position deltas."""
    deltas = [positions[0]]
    deltas.extend(b - a for a, b in zip(positions, positions[1:]))
    return _pack_uint(len(deltas)) + dumps(deltas, 2)


#: pickle.dumps(list, 2) writes a list of more items than this in several MARK … APPENDS runs.
_PICKLE_BATCH = 1000


def encode_positions_bulk(freqs: np.ndarray, deltas: np.ndarray) -> list[bytes]:
    """:func:`encode_positions` of many postings at once: ``freqs`` is each
    posting's number of positions, ``deltas`` their position deltas laid end to
    end. The bytes are those of ``pack_uint(n) + pickle.dumps(deltas, 2)`` — a
    protocol 2 pickle of a list of ints: ``\x80\x02 ] q\x00``, then one item
    and ``a`` (APPEND), or ``(`` (MARK), the items and ``e`` (APPENDS), then
    ``.``; an int is ``K`` and one byte, ``M`` and two, or ``J`` and four."""
    count = len(freqs)
    if not count:
        return []
    freqs = freqs.astype(np.int64)
    deltas = deltas.astype(np.int64)
    if int(freqs.max()) > _PICKLE_BATCH or int(deltas.max()) >= 2**31:
        # Rare (a word a thousand times in one text): the plain way.
        values, at = [], 0
        for n in freqs.tolist():
            chunk = deltas[at:at + n].tolist()
            values.append(_pack_uint(n) + dumps(chunk, 2))
            at += n
        return values
    item = np.where(deltas < 256, 2, np.where(deltas < 65536, 3, 5))
    many = freqs > 1
    posting_of = np.repeat(np.arange(count), freqs)
    items_size = np.bincount(posting_of, weights=item, minlength=count).astype(np.int64)
    size = 4 + 5 + many + items_size + 2
    end = np.cumsum(size)
    begin = end - size
    out = np.zeros(int(end[-1]), dtype=np.uint8)
    # The count, big-endian, then the pickle's opening.
    freq32 = freqs.astype(">u4").view(np.uint8).reshape(-1, 4)
    for i in range(4):
        out[begin + i] = freq32[:, i]
    for i, byte in enumerate(b"\x80\x02]q\x00"):
        out[begin + 4 + i] = byte
    out[begin[many] + 9] = ord("(")
    # Each item after those of its posting that come before it.
    first_item = begin + 9 + many
    item_end = np.cumsum(item)
    posting_first = np.repeat(item_end[np.cumsum(freqs) - freqs] - item[np.cumsum(freqs) - freqs], freqs)
    at = np.repeat(first_item, freqs) + (item_end - item) - posting_first
    small, middle = item == 2, item == 3
    large = item == 5
    out[at[small]] = ord("K")
    out[at[small] + 1] = deltas[small]
    out[at[middle]] = ord("M")
    out[at[middle] + 1] = deltas[middle] & 0xFF
    out[at[middle] + 2] = deltas[middle] >> 8
    if large.any():
        out[at[large]] = ord("J")
        for i in range(4):
            out[at[large] + 1 + i] = (deltas[large] >> (8 * i)) & 0xFF
    out[end - 2] = np.where(many, ord("e"), ord("a"))
    out[end - 1] = ord(".")
    raw = out.tobytes()
    return [raw[a:b] for a, b in zip(begin.tolist(), end.tolist())]


def compress(data: bytes, level: int) -> bytes:
    """zlib with a 2 KB window: a posting block or a stored document is a few KB,
    and ``zlib.compress``'s defaults spend tens of microseconds setting up a
    32 KB window for it. Any zlib reader (``zlib.decompress``) reads it."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 11, 4)
    return packer.compress(data) + packer.flush()


class _FieldWriter(W3FieldWriter):
    """Whoosh 3's field writer (term table, posting file), given a term's whole
    posting list at once.

    The blocks are Whoosh 3's: 128 postings each, the last one marked, the same
    header, statistics and term info, read by Whoosh's own reader. Three things
    differ from what ``W3PostingsWriter`` writes, none visible to a reader: the
    block is pickled with protocol 4 rather than 2 (a Python 2 leftover that
    pickles every position list as a latin-1 string, several times slower both
    ways and twice the size), a block smaller than :data:`COMPRESS_FROM` bytes is
    stored uncompressed (as Whoosh means to: its check is overwritten by a slip),
    and :func:`compress` uses a small window.
    """

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        self._fixed = self._format.fixed_value_size()

    def add_term(self, btext: bytes, ids: list[int], deltas: list[int], weights: list[float],
                 values: list[bytes], lengths: list[int] | None) -> None:
        """One term's postings: document numbers (ascending), the same as
        :func:`block_deltas` gives them, weights, encoded values, and the
        documents' field lengths as the length column gives them (``None`` when
        the field keeps none)."""
        limit = self._codec._blocklimit
        level = self._codec._compression
        fixed = self._fixed
        count = len(ids)
        parts = [WHOOSH3_HEADER_MAGIC]
        total_weight = 0.0
        max_weight = 0.0
        min_length: int | None = None
        max_length = 0
        for start in range(0, count, limit):
            end = start + limit
            block_weights = array("f", weights[start:end] if count > limit else weights)
            size = len(block_weights)
            first_weight = block_weights[0]
            if block_weights.count(first_weight) != size:
                mini_weights: Any = tuple(block_weights)
            elif first_weight == 1.0:
                mini_weights = None
            else:
                mini_weights = first_weight
            if fixed is None or fixed < 0:
                mini_values: Any = tuple(values[start:end])
            elif fixed == 0:
                mini_values = None
            else:
                mini_values = b"".join(values[start:end])
            data = dumps((tuple(deltas[start:end]), mini_weights, mini_values), 4)
            comp = level if level and len(data) >= COMPRESS_FROM else 0
            if comp:
                data = compress(data, comp)
            block_max = max(block_weights)
            if block_max < 0.0:
                block_max = 0.0
            block_min_length, block_max_length = None, 0
            if lengths is not None:
                block_lengths = lengths[start:end]
                if 0 in block_lengths:
                    block_lengths = [n for n in block_lengths if n]
                if block_lengths:
                    block_min_length, block_max_length = min(block_lengths), max(block_lengths)
            info = dumps((size, ids[min(end, count) - 1], block_max, comp,
                          length_to_byte(block_min_length), length_to_byte(block_max_length)), 2)
            parts.append(_pack_int(-(len(info) + len(data)) if end >= count
                                   else len(info) + len(data)))
            parts.append(info)
            parts.append(data)
            # The term's statistics, as W3TermInfo.add_block keeps them.
            total_weight += sum(block_weights)
            if block_max > max_weight:
                max_weight = block_max
            if block_min_length is not None and (min_length is None or block_min_length < min_length):
                min_length = block_min_length
            if block_max_length > max_length:
                max_length = block_max_length
        raw = b"".join(parts)
        postfile = self._postfile
        offset = postfile.tell()
        postfile.write(raw)
        # W3TermInfo.to_bytes of a term whose postings are in the posting file ...
        value = (_TERMINFO.pack(0, total_weight, count,
                                0 if min_length is None else length_to_byte(min_length),
                                length_to_byte(max_length), max_weight, ids[0], ids[-1])
                 + pack_long(offset) + _pack_int(len(raw)))
        # ... added to the term table as OrderedHashWriter.add does it.
        table = self._tindex
        key = pack_ushort(self._fieldid) + btext
        if key <= table.lastkey:
            raise ValueError(f"Keys must increase: {table.lastkey!r}..{key!r}")
        termfile = table.dbfile
        position = termfile.tell()
        table.index.append(position)
        termfile.write(_HASH_LENGTHS.pack(len(key), len(value)) + key + value)
        hashed = table.hashfn(key)
        table.buckets[hashed & 255].append((hashed, position))
        table.lastkey = key


def block_deltas(ids: list[int], limit: int) -> list[int]:
    """Document numbers as a posting block keeps them: each block (of ``limit``)
    starts with its first number, then the differences."""
    deltas = [b - a for a, b in zip(ids, ids[1:])]
    deltas.insert(0, 0)
    for start in range(0, len(ids), limit):
        deltas[start] = ids[start]
    return deltas


class _TextField:
    """A text field's tokens as the documents gave them: term numbers in
    position order, the document of each text and how many terms it had."""

    #: Distinct words kept with their term numbers (a cache: beyond, it starts afresh).
    WORDS_KEPT = 500_000

    def __init__(self, analyzer: PortalAnalyzer) -> None:
        self.analyzer = analyzer
        self.numbers: dict[str, int] = {}  # term -> its number
        self.terms: list[str] = []  # number -> term
        self.words: dict[str, int] = {}  # word as written -> term number, -1: a stop word
        self.tokens = array("i")
        self.docs = array("i")
        self.counts = array("i")

    def _number(self, term: str) -> int:
        number = self.numbers.get(term)
        if number is None:
            number = self.numbers[term] = len(self.terms)
            self.terms.append(term)
        return number

    def add(self, docnum: int, value: str) -> int:
        """Add one document's text; returns how many terms it has (its length)."""
        words = self.analyzer.index_words(value)
        if words is None:
            number = self._number
            found = [number(term) for term in self.analyzer.index_terms(value)]
        else:
            known = self.words
            try:
                found = [known[word] for word in words]
            except KeyError:
                if len(known) > self.WORDS_KEPT:
                    known.clear()
                term_of, number = self.analyzer.word_term, self._number
                for word in words:
                    if word not in known:
                        term = term_of(word)
                        known[word] = -1 if term is None else number(term)
                found = [known[word] for word in words]
            if -1 in found:
                found = [n for n in found if n >= 0]
        if found:
            self.tokens.extend(found)
            self.docs.append(docnum)
            self.counts.append(len(found))
        return len(found)

    def postings(self, lengths: np.ndarray | None, limit: int) -> Iterator[tuple[Any, ...]]:
        """The field's (term, documents, their block deltas, weights, values,
        field lengths) in term order, blocks of ``limit``; ``lengths`` are each
        document's field length, as the length column gives it.

        The tokens are sorted by term once, as arrays; Python lists and value
        bytes are made a slice of terms at a time (:data:`CHUNK` tokens), so a
        segment's postings never all exist as Python objects at once."""
        if not self.tokens:
            return
        tokens = np.frombuffer(self.tokens, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        total = len(tokens)
        encoded = [term.encode("utf-8") for term in self.terms]
        by_bytes = np.asarray(sorted(range(len(encoded)), key=encoded.__getitem__), dtype=np.int32)
        rank = np.empty(len(encoded), dtype=np.int32)
        rank[by_bytes] = np.arange(len(encoded), dtype=np.int32)
        # Stable: each term's tokens stay in document, then position order.
        keys = rank[tokens]
        del rank
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.int32), counts)[order]
        firsts = np.repeat((np.cumsum(counts, dtype=np.int64) - counts).astype(np.int32), counts)
        positions = (np.arange(total, dtype=np.int32) - firsts)[order]
        del firsts, order, tokens, counts
        self.tokens, self.docs, self.counts = array("i"), array("i"), array("i")
        self.numbers, self.terms, self.words = {}, [], {}
        new_posting = np.ones(total, dtype=bool)
        new_posting[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
        posting_at = np.flatnonzero(new_posting)  # token index of each posting's first position
        del new_posting
        # Position deltas within each posting (its first position as it is).
        deltas = np.empty(total, dtype=np.int32)
        deltas[0] = positions[0]
        np.subtract(positions[1:], positions[:-1], out=deltas[1:])
        deltas[posting_at] = positions[posting_at]
        del positions
        postings = len(posting_at)
        freqs = np.diff(posting_at, append=total).astype(np.int32)
        posting_keys = keys[posting_at]
        posting_docs = docs[posting_at]
        del keys, docs
        term_at = np.flatnonzero(np.diff(posting_keys, prepend=-1))
        term_end = np.append(term_at[1:], postings)
        # Block-relative document numbers: a block starts every `limit` postings of a term.
        in_term = np.arange(postings, dtype=np.int64) - np.repeat(term_at, term_end - term_at)
        doc_deltas = np.diff(posting_docs, prepend=0).astype(np.int32)
        block_first = in_term % limit == 0
        doc_deltas[block_first] = posting_docs[block_first]
        del in_term, block_first
        term_keys = posting_keys[term_at]
        del posting_keys
        # Slices of whole terms, about CHUNK tokens each.
        token_at = np.append(posting_at, total)
        bounds = [0]
        term_token_at = token_at[term_at]
        while bounds[-1] < len(term_at):
            limit_token = term_token_at[bounds[-1]] + CHUNK
            bounds.append(max(bounds[-1] + 1, int(np.searchsorted(term_token_at, limit_token, "left"))))
        for t0, t1 in zip(bounds, bounds[1:]):
            p0 = int(term_at[t0])
            p1 = int(term_end[t1 - 1])
            values = encode_positions_bulk(freqs[p0:p1], deltas[token_at[p0]:token_at[p1]])
            ids = posting_docs[p0:p1]
            doc_lengths = lengths[ids].tolist() if lengths is not None else None
            ids_list = ids.tolist()
            id_deltas = doc_deltas[p0:p1].tolist()
            weights = freqs[p0:p1].astype(np.float64).tolist()
            for key, a, b in zip(term_keys[t0:t1].tolist(), (term_at[t0:t1] - p0).tolist(),
                                 (term_end[t0:t1] - p0).tolist()):
                yield (encoded[by_bytes[key]], ids_list[a:b], id_deltas[a:b], weights[a:b],
                       values[a:b], doc_lengths[a:b] if doc_lengths is not None else None)


class SegmentBuilder:
    """One new segment of the index in ``storage``, built in memory.

    :meth:`add` takes what :meth:`whoosh.writing.SegmentWriter.add_document`
    takes and records the same things; :meth:`finish` writes the segment and
    returns it (for a table of contents), :meth:`cancel` drops its files.
    """

    def __init__(self, storage: Any, indexname: str, schema: Any, *,
                 budget: int = DEFAULT_BUDGET) -> None:
        self.storage = storage
        self.schema = schema
        self.codec = default_codec()
        self.segment = self.codec.new_segment(storage, indexname)
        self.perdoc = self.codec.per_document_writer(storage, self.segment)
        # Stored fields: one zlib stream per document (see compress()).
        self.perdoc._colwriters["_stored"]._child._compress = compress
        self.budget = budget
        self.docnum = 0
        self.postings = 0  # held in memory (text fields: tokens)
        # Other fields: term bytes -> [document numbers, weights, encoded values]
        self._terms: dict[str, dict[bytes, list[Any]]] = {}
        self._texts: dict[str, _TextField] = {}
        # scorable field -> each document's length byte (as the length column has it)
        self._lengths: dict[str, bytearray] = {}
        self._index_cache: dict[str, dict[Any, tuple[Any, ...]]] = {}
        self._fields = {name: (field, field.indexed, field.scorable, field.stored,
                               field.column_type, self._text_analyzer(field))
                        for name, field in schema.items()}
        for name, field in schema.items():
            if field.separate_spelling() or field.vector:
                raise ValueError(f"the bulk builder does not write spelling or vectors ({name})")

    @staticmethod
    def _text_analyzer(field: Any) -> PortalAnalyzer | None:
        """The field's analyzer when it is ours, with positions and no boost."""
        if (isinstance(field.analyzer, PortalAnalyzer) and type(field.format) is Positions
                and field.format.field_boost == 1.0):
            return field.analyzer
        return None

    def _index(self, name: str, field: Any, value: Any) -> tuple[tuple[bytes, int, float, bytes], ...]:
        """``field.index(value)``: kept for values that repeat (a kind, an audience),
        made directly for a plain ID."""
        cache = self._index_cache.get(name)
        if cache is None:
            cache = self._index_cache[name] = {}
        try:
            return cache[value]
        except KeyError:
            pass
        except TypeError:  # a list of values
            return tuple(field.index(value))
        if (type(field) is ID and type(field.analyzer) is IDTokenizer
                and type(field.format) is Existence and isinstance(value, str)):
            made: tuple[Any, ...] = ((value.encode("utf-8"), 1, field.format.field_boost, b""),)
        else:
            made = tuple(field.index(value))
        if len(cache) < INDEX_CACHE:
            cache[value] = made
        return made

    @property
    def full(self) -> bool:
        return self.postings >= self.budget

    def add(self, fields: dict[str, Any]) -> None:
        """Add one document (see :meth:`whoosh.writing.SegmentWriter.add_document`;
        boosts are not supported)."""
        perdoc = self.perdoc
        docnum = self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        for name in names:
            if name not in self._fields:
                raise UnknownFieldError(f"No field named {name!r} in {self.schema}")
        if len(names) < len(fields) and any(name.startswith("_") and name.endswith("_boost")
                                            for name in fields):
            raise ValueError("the bulk builder does not handle boosts")
        perdoc.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field, indexed, scorable, stored, column, text = self._fields[name]
            length = 0
            if indexed:
                if text is not None:
                    if not isinstance(value, str):
                        raise ValueError(f"{value!r} is not unicode")
                    found = self._texts.get(name)
                    if found is None:
                        found = self._texts[name] = _TextField(text)
                    length = found.add(docnum, value)
                    self.postings += length
                else:
                    table = self._terms.get(name)
                    if table is None:
                        table = self._terms[name] = {}
                    for tbytes, freq, weight, vbytes in self._index(name, field, value):
                        if scorable:
                            length += freq
                        entry = table.get(tbytes)
                        if entry is None:
                            entry = table[tbytes] = [array("I"), array("f"), []]
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        entry[2].append(vbytes)
                        self.postings += 1
                if scorable:
                    lengths = self._lengths.get(name)
                    if lengths is None:
                        lengths = self._lengths[name] = bytearray()
                    if len(lengths) < docnum:
                        lengths.extend(bytes(docnum - len(lengths)))
                    lengths.append(length_to_byte(length) if length else 0)
            customval = fields.get(f"_stored_{name}", value)
            perdoc.add_field(name, field, customval if stored else None, length)
            if column and customval is not None:
                perdoc.add_column_value(name, column, field.to_column_value(customval))
        perdoc.finish_doc()
        self.docnum += 1

    def finish(self) -> Any:
        """Write the segment's files (per-document columns, then the terms and
        their postings, field by field, term by term) and return the segment."""
        self.perdoc.close()  # also sets the segment's total field lengths
        fieldwriter = _FieldWriter(self.codec, self.storage, self.segment)
        count = self.docnum
        # What the per-document reader answers for a length byte.
        length_of = [byte_to_length(b) if b else 0 for b in range(256)]
        length_table = np.asarray(length_of, dtype=np.int64)
        limit = self.codec._blocklimit
        filled = {name for name, text in self._texts.items() if text.tokens}
        filled.update(name for name, table in self._terms.items() if table)
        for name in sorted(filled):
            field = self._fields[name][0]
            lengths = self._lengths.pop(name, None)
            if lengths is not None and len(lengths) < count:
                lengths.extend(bytes(count - len(lengths)))
            fieldwriter.start_field(name, field)
            if name in self._texts:
                text_lengths = None
                if lengths is not None:
                    text_lengths = length_table[np.frombuffer(lengths, dtype=np.uint8)]
                for term in self._texts.pop(name).postings(text_lengths, limit):
                    fieldwriter.add_term(*term)
            else:
                table = self._terms.pop(name)
                for tbytes in sorted(table):
                    docs, weights, values = table.pop(tbytes)
                    term_lengths = None
                    if lengths is not None:
                        term_lengths = [length_of[lengths[d]] for d in docs]
                    ids = docs.tolist()
                    fieldwriter.add_term(tbytes, ids, block_deltas(ids, limit), weights.tolist(),
                                         values, term_lengths)
            fieldwriter.finish_field()
        fieldwriter.close()
        segment = self.segment
        segment.set_doc_count(count)
        # Left as separate files, not assembled into one compound file: a reader
        # opens those in place, whereas Whoosh copies a compound segment's term
        # and posting files into memory each time it opens one (with a searcher,
        # with every writer) — tens of MB, tens of ms, for a segment this size.
        return segment

    def cancel(self) -> None:
        try:
            if not self.perdoc.is_closed:
                self.perdoc.close()
        except Exception:  # noqa: BLE001 - dropping files anyway
            pass
        for name in self.segment.list_files(self.storage):
            try:
                self.storage.delete_file(name)
            except OSError:
                pass


# -- whole indexes -------------------------------------------------------------------

def build(ix: Any, documents: Iterable[dict[str, Any]], *, processes: int = 1,
          budget: int = DEFAULT_BUDGET, progress: Callable[[int], None] | None = None) -> int:
    """Fill the empty index ``ix`` with ``documents`` (mappings of field values)
    and commit; returns how many were added. ``processes > 1`` builds in that
    many forked worker processes while this one reads ``documents``."""
    writelock = ix.lock("WRITELOCK")
    if not writelock.acquire(blocking=False):
        raise LockError
    try:
        toc = ix._read_toc()
        if toc.segments:
            raise ValueError("bulk building needs an empty index")
        if processes > 1:
            segments, count = _build_parallel(ix, toc.schema, documents, processes, budget, progress)
        else:
            segments, count = _build_here(ix, toc.schema, documents, budget, progress)
        # The table of contents lists the new segments: this is the commit.
        TOC(toc.schema, segments, toc.generation + 1).write(ix.storage, ix.indexname)
        clean_files(ix.storage, ix.indexname, toc.generation + 1, segments)
    finally:
        ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()
        writelock.release()
    return count


def _build_here(ix: Any, schema: Any, documents: Iterable[dict[str, Any]], budget: int,
                progress: Callable[[int], None] | None) -> tuple[list[Any], int]:
    segments: list[Any] = []
    builder = SegmentBuilder(ix.storage, ix.indexname, schema, budget=budget)
    count = 0
    try:
        for fields in documents:
            builder.add(fields)
            count += 1
            if builder.full:
                segments.append(builder.finish())
                builder = SegmentBuilder(ix.storage, ix.indexname, schema, budget=budget)
            if progress is not None and count % BATCH == 0:
                progress(BATCH)
        if builder.docnum:
            segments.append(builder.finish())
        else:
            builder.cancel()
    except BaseException:
        builder.cancel()
        _drop_segments(ix.storage, segments)
        raise
    if progress is not None and count % BATCH:
        progress(count % BATCH)
    return segments, count


def _worker(path: str, indexname: str, budget: int, tasks: Any, results: Any) -> None:
    """A worker process: build segments from batches until ``None``; answer
    ``("done", segments)`` or ``("error", text)``."""
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(path)
    segments: list[Any] = []
    builder = None
    try:
        schema = storage.open_index(indexname).schema
        builder = SegmentBuilder(storage, indexname, schema, budget=budget)
        while True:
            batch = tasks.get()
            if batch is None:
                break
            for fields in batch:
                builder.add(fields)
                if builder.full:
                    segments.append(builder.finish())
                    builder = SegmentBuilder(storage, indexname, schema, budget=budget)
        if builder.docnum:
            segments.append(builder.finish())
        else:
            builder.cancel()
        results.put(("done", segments))
    except BaseException:  # noqa: BLE001 - reported to the parent, which cleans up
        if builder is not None:
            builder.cancel()
        _drop_segments(storage, segments)
        results.put(("error", traceback.format_exc()))


def _build_parallel(ix: Any, schema: Any, documents: Iterable[dict[str, Any]], processes: int,
                    budget: int, progress: Callable[[int], None] | None) -> tuple[list[Any], int]:
    context = multiprocessing.get_context("fork")
    # A few batches in flight per worker: the reader stays ahead, memory stays bounded.
    tasks = context.Queue(maxsize=processes * 4)
    results = context.Queue()
    path = ix.storage.folder
    workers = [context.Process(target=_worker, args=(path, ix.indexname, budget, tasks, results),
                               name=f"portal-search-build-{n}", daemon=True)
               for n in range(processes)]
    for worker in workers:
        worker.start()
    count = 0
    answers: list[tuple[str, Any]] = []
    try:
        for batch in _batches(documents, BATCH):
            while True:
                try:
                    tasks.put(batch, timeout=1.0)
                    break
                except queue.Full:
                    _check_alive(workers, results, answers)
            count += len(batch)
            if progress is not None:
                progress(len(batch))
        for _ in workers:
            tasks.put(None)
        while len(answers) < len(workers):
            try:
                answers.append(results.get(timeout=1.0))
            except queue.Empty:
                _check_alive(workers, results, answers)
        for worker in workers:
            worker.join()
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
            worker.join()
        for kind, value in answers:
            if kind == "done":
                _drop_segments(ix.storage, value)
        raise
    finally:
        tasks.close()
        results.close()
    failures = [value for kind, value in answers if kind == "error"]
    segments = [segment for kind, value in answers if kind == "done" for segment in value]
    if failures:
        _drop_segments(ix.storage, segments)
        raise RuntimeError("a search index worker failed:\n" + failures[0])
    return segments, count


def _check_alive(workers: list[Any], results: Any, answers: list[tuple[str, Any]]) -> None:
    """Raise when a worker died or reported an error (instead of waiting forever)."""
    while True:
        try:
            answers.append(results.get_nowait())
        except queue.Empty:
            break
    for kind, value in answers:
        if kind == "error":
            raise RuntimeError("a search index worker failed:\n" + value)
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise RuntimeError(f"a search index worker died (exit code {worker.exitcode})")


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _drop_segments(storage: Any, segments: list[Any]) -> None:
    for segment in segments:
        for name in segment.list_files(storage):
            try:
                storage.delete_file(name)
            except OSError:
                pass

