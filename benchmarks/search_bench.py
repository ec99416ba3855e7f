"""Search benchmark: full rebuild, query latency by query type, update cost, memory,
with SQLite FTS5 on the same corpus as the reference point.

    .venv/bin/python benchmarks/search_bench.py --documents 20000 100000
    .venv/bin/python benchmarks/search_bench.py --documents 100000 --processes 2 --queries 300

The corpus (``benchmarks/search_corpus.py``) has 100,000 documents of 100–200
words across seven kinds, five audiences and seven languages. Queries are timed
through the portal's own backend with what a partner reaches (public, partners,
one program, two tiers, their organization), the plugins on for them, highlights
and facet counts — what ``/search`` asks for. Figures are milliseconds, p50/p99.

Targets (issue 5): at 20,000 documents p99 ≤ 50 ms for every query type; at
100,000 p50 ≤ 30 ms and p99 ≤ 150 ms; a full rebuild of 100,000 under 90 s; a
change findable within a second without the request waiting for a commit (the
request only writes a queue row; see tests/test_search_concurrency.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", category=SyntaxWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from search_corpus import CorpusShape, documents, queries  # noqa: E402

from portal.audience import Reach  # noqa: E402
from portal.search.backend import SearchDocument, SearchRequest  # noqa: E402
from portal.search.query import parse  # noqa: E402
from portal.search.whoosh_backend import WhooshBackend  # noqa: E402

PARTNER = Reach({"public", "partners", "program:1", "tier:1", "tier:2", "org:17"})
PLUGINS = frozenset({"training", "assets", "marketplace", "deals"})
PERMISSIONS = frozenset({"deals.view"})
KINDS = ("one_word", "two_words", "phrase", "prefix")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mb() -> float:
    """The largest peak of a finished child process (the rebuild's workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def request_for(text: str, kind: str) -> SearchRequest:
    return SearchRequest(words=parse(text, as_you_type=kind == "prefix"), reach=PARTNER,
                         languages=("en",), plugins=PLUGINS, permissions=PERMISSIONS)


def bench_whoosh(n: int, workdir: Path, processes: int, count: int) -> dict:
    path = workdir / f"whoosh-{n}"
    backend = WhooshBackend(path)
    shape = CorpusShape(documents=n)
    gc.collect()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    built = backend.rebuild(documents(shape), processes=processes)
    rebuild_s = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    workers_peak = children_peak_mb()
    peak_after_rebuild = peak_mb()
    qs = queries("en", count, shape=shape)
    result: dict = {"documents": built, "rebuild_s": rebuild_s, "workers_peak_mb": workers_peak,
                    "load": (load_before, load_after),
                    "rebuild_peak_mb": peak_after_rebuild,
                    "segments": len(backend._open()._segments())}
    # First query opens the searcher (reported separately), then one warm-up pass.
    started = time.perf_counter()
    backend.search(request_for("partner", "one_word"))
    result["first_query_ms"] = (time.perf_counter() - started) * 1000
    for kind in KINDS:
        for text in getattr(qs, kind)[: count // 4]:
            backend.search(request_for(text, kind))
    for kind in KINDS:
        samples = []
        for text in getattr(qs, kind):
            started = time.perf_counter()
            backend.search(request_for(text, kind))
            samples.append((time.perf_counter() - started) * 1000)
        result[kind] = percentiles(samples)
    # One update: commit a changed document, then find it (a new searcher version).
    doc = next(iter(documents(CorpusShape(documents=1, seed=99))))
    update = SearchDocument(**{**doc.__dict__, "id": "bench:update", "title": "Zyxwvut launch",
                               "tokens": ["partners"]})
    commits, visible = [], []
    for i in range(5):
        update.title = f"Zyxwvut{i} launch"
        started = time.perf_counter()
        backend.index([update])
        commits.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        found = backend.search(request_for(f"zyxwvut{i}", "one_word"))
        visible.append((time.perf_counter() - started) * 1000)
        assert found.total == 1, found
    result["update_commit_ms"] = statistics.median(commits)
    result["first_search_after_update_ms"] = statistics.median(visible)
    result["rss_mb"] = rss_mb()
    result["peak_mb"] = peak_mb()
    backend.close()
    return result


def bench_fts5(n: int, workdir: Path, count: int) -> dict:
    """The reference: SQLite FTS5 (unicode61, no stemming) with the same documents,
    the permission filter as a MATCH on an audience column, bm25 order, a count
    and a snippet."""
    path = workdir / f"fts5-{n}.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, acl, kind UNINDEXED, "
                 "tokenize='unicode61 remove_diacritics 2', prefix='2 3')")
    shape = CorpusShape(documents=n)
    # The corpus is made first, so that the build time is FTS5's alone.
    started = time.perf_counter()
    rows = [(d.title, d.body, " ".join(t.replace(":", "_") for t in d.tokens), d.kind)
            for d in documents(shape)]
    corpus_s = time.perf_counter() - started
    started = time.perf_counter()
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    build_s = time.perf_counter() - started
    del rows
    acl = " OR ".join(t.replace(":", "_") for t in sorted(PARTNER.tokens))
    qs = queries("en", count, shape=shape)

    def fts_query(text: str, kind: str) -> str:
        words = parse(text, as_you_type=kind == "prefix")
        parts = [f'"{w}"' for w in words.words] + [f'"{p}"' for p in words.phrases]
        if words.prefix:
            parts.append(f'"{words.prefix}"*')
        return "{title body}: (" + " AND ".join(parts) + f") AND acl: ({acl})"

    result: dict = {"build_s": build_s, "corpus_s": corpus_s}
    for kind in KINDS:
        samples = []
        for text in getattr(qs, kind):
            q = fts_query(text, kind)
            started = time.perf_counter()
            conn.execute("SELECT title, snippet(docs, 1, '<mark>', '</mark>', '…', 20) FROM docs "
                         "WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 1.0) LIMIT 10", (q,)).fetchall()
            conn.execute("SELECT kind, count(*) FROM docs WHERE docs MATCH ? GROUP BY kind",
                         (q,)).fetchall()
            samples.append((time.perf_counter() - started) * 1000)
        result[kind] = percentiles(samples)
    conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--queries", type=int, default=200, help="queries per type")
    parser.add_argument("--processes", type=int, default=1, help="rebuild processes")
    parser.add_argument("--no-fts5", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal-search-bench-") as tmp:
        workdir = Path(tmp)
        for n in args.documents:
            whoosh = bench_whoosh(n, workdir, args.processes, args.queries)
            print(f"\n== {n:,} documents ==")
            print(f"Whoosh rebuild: {whoosh['rebuild_s']:.1f} s ({args.processes} process(es), "
                  f"{whoosh['segments']} segments; the corpus is generated meanwhile, as a "
                  f"reindex reads the database); first query {whoosh['first_query_ms']:.0f} ms")
            print(f"rebuild memory: this process's peak {whoosh['rebuild_peak_mb']:.0f} MB, "
                  f"a worker's peak {whoosh['workers_peak_mb']:.0f} MB; load average before and "
                  f"after: {whoosh['load'][0]:.2f}, {whoosh['load'][1]:.2f} (on {os.cpu_count()} cores)")
            print(f"update: commit {whoosh['update_commit_ms']:.0f} ms, next search "
                  f"{whoosh['first_search_after_update_ms']:.1f} ms; memory RSS "
                  f"{whoosh['rss_mb']:.0f} MB (peak {whoosh['peak_mb']:.0f} MB)")
            fts5 = None if args.no_fts5 else bench_fts5(n, workdir, args.queries)
            print(f"{'query':10} {'Whoosh p50':>11} {'p99':>7}" + ("" if fts5 is None else
                  f" {'FTS5 p50':>10} {'p99':>7}"))
            for kind in KINDS:
                p50, p99 = whoosh[kind]
                line = f"{kind:10} {p50:11.1f} {p99:7.1f}"
                if fts5 is not None:
                    line += f" {fts5[kind][0]:10.1f} {fts5[kind][1]:7.1f}"
                print(line)
            if fts5 is not None:
                print(f"FTS5 build: {fts5['build_s']:.1f} s (generating its corpus first: "
                      f"{fts5['corpus_s']:.1f} s)")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
