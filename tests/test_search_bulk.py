"""Full rebuilds: the segments the bulk builder writes are the ones Whoosh would
write, and Whoosh reads, updates, deletes in and merges them."""

from __future__ import annotations

import pickle
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from whoosh import index
from whoosh.formats import Positions
from whoosh.query import Term

from portal.search import bulk
from portal.search.analysis import ANALYZER_LANGUAGES, analyze, analyzer
from portal.search.backend import SearchDocument, SearchRequest
from portal.search.query import parse
from portal.search.whoosh_backend import WhooshBackend, _fields, schema
from portal.audience import Reach

WORDS = {
    "en": "The partner contract renewals and a discount for the reseller's Q3 pipeline, v2.1 of it".split(),
    "de": "Der Vertrag die Verträge Verlängerung Rabatt für den Wiederverkäufer Schulungen".split(),
    "fr": "Le contrat les contrats renouvellement remise Éléments du revendeur c'est".split(),
    "es": "El contrato los contratos renovación descuento para el revendedor niño".split(),
    "pt_BR": "O contrato os contratos renovação desconto parceiros do revendedor".split(),
    "ar": "والعقود العقود شريك في تجديد خصم على الموزع".split(),
    "ja": "契約書 パートナー Salesforce連携 販売店 研修 認定 価格表 ｶﾀｶﾅ".split(),
    "nl": "Het contract de contracten korting İstanbul ÆØÅ".split(),
}


def corpus(n: int, seed: int = 3) -> list[SearchDocument]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    docs = []
    for i in range(n):
        language = rng.choice(list(WORDS))
        words = WORDS[language]
        body_words = [rng.choice(words) for _ in range(rng.randint(0, 60))]
        if i % 17 == 0:
            body_words += [words[1]] * 300  # a word hundreds of times: long position lists
        docs.append(SearchDocument(
            id=f"t:{i}", kind=rng.choice(("resource.guide", "deals.registration")),
            title=" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))),
            body=" ".join(body_words), url=f"/t/{i}", language=language,
            tokens=rng.sample(["public", "partners", "staff", "program:1", "org:3"], rng.randint(1, 3)),
            plugin=rng.choice(("core", "deals")), summary="s" * rng.randint(0, 30),
            tags=rng.sample(["Pricing", "cloud", "q1"], rng.randint(0, 2)),
            organization_id=rng.choice((None, 3, 4)),
            updated_at=start + timedelta(minutes=rng.randint(0, 10**6)),
            permission=rng.choice((None, "deals.view")),
        ))
    return docs


def contents(ix) -> dict:  # type: ignore[no-untyped-def]
    """Everything a reader can tell about an index, segment boundaries aside."""
    out: dict = {}
    with ix.reader() as reader:
        count = reader.doc_count_all()
        by_id = {reader.stored_fields(n)["id"]: n for n in range(count)}
        order = sorted(by_id)
        rank = {key: n for n, key in enumerate(order)}
        out["stored"] = [reader.stored_fields(by_id[key]) for key in order]
        for name in reader.indexed_field_names():
            out["length", name] = [reader.doc_field_length(by_id[key], name) for key in order]
            out["total", name] = reader.field_length(name)
            for text in reader.lexicon(name):
                matcher = reader.postings(name, text)
                postings = []
                while matcher.is_active():
                    postings.append((rank[reader.stored_fields(matcher.id())["id"]],
                                     matcher.weight(), matcher.value()))
                    matcher.next()
                info = reader.term_info(name, text)
                out["term", name, text] = (sorted(postings), info.weight(), info.doc_frequency(),
                                           info.min_length(), info.max_length(), info.max_weight())
        for column in ("kind", "updated"):
            values = list(reader.column_reader(column))
            out["column", column] = [values[by_id[key]] for key in order]
    return out


def whoosh_built(path, docs):  # type: ignore[no-untyped-def]
    path.mkdir()
    ix = index.create_in(str(path), schema())
    writer = ix.writer()
    for doc in docs:
        writer.add_document(**_fields(doc))
    writer.commit()
    return ix


@pytest.mark.parametrize("language", sorted(set(ANALYZER_LANGUAGES.values()) | {"xx"}))
def test_index_terms_are_the_analyzers_tokens(language):
    rng = random.Random(language)
    words = [w for ws in WORDS.values() for w in ws] + ["the", "and", "a", "", "v2.1", "İİ", "ß", "ﬁ"]
    ana = analyzer(language)
    for _ in range(200):
        text = rng.choice((" ", ", ", ". ", "\n", "、")).join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        assert ana.index_terms(text) == [token.text for token in ana(text)]


def test_bulk_positions_are_whoosh_s_encoding():
    rng = np.random.default_rng(1)
    lists = [sorted(rng.choice(70_000, size=n, replace=False).tolist()) for n in
             [1, 2, 3, 1, 255, 1000] + rng.integers(1, 40, 200).tolist()]
    lists += [[0], [255], [256], [65535], [65536], [2**31 - 1]]
    freqs = np.array([len(x) for x in lists])
    deltas = np.concatenate([np.diff(x, prepend=0) for x in lists])
    expected = [Positions().encode(x) for x in lists]
    assert bulk.encode_positions_bulk(freqs, deltas) == expected
    long = [list(range(0, 3003, 3))]  # over pickle's batch of 1000: the plain way
    assert bulk.encode_positions_bulk(np.array([1001]), np.diff(long[0], prepend=0)) == \
        [Positions().encode(long[0])]
    assert Positions().decode_positions(expected[0]) == lists[0]
    assert pickle.loads(expected[1][4:]) == np.diff(lists[1], prepend=0).tolist()


@pytest.mark.parametrize("chunk", [bulk.CHUNK, 7])
def test_a_bulk_built_index_reads_exactly_as_whoosh_s_own(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(bulk, "CHUNK", chunk)
    docs = corpus(300)
    expected = contents(whoosh_built(tmp_path / "whoosh", docs))
    (tmp_path / "bulk").mkdir()
    ix = index.create_in(str(tmp_path / "bulk"), schema())
    assert bulk.build(ix, [_fields(doc) for doc in docs]) == 300
    ix = index.open_dir(str(tmp_path / "bulk"))
    assert len(ix._segments()) == 1
    assert contents(ix) == expected


def test_parallel_segments_are_searched_updated_deleted_and_merged_by_whoosh(tmp_path):
    docs = corpus(600, seed=8)
    (tmp_path / "bulk").mkdir()
    ix = index.create_in(str(tmp_path / "bulk"), schema())
    built = bulk.build(ix, (_fields(doc) for doc in docs), processes=2, budget=5_000)
    assert built == 600
    ix = index.open_dir(str(tmp_path / "bulk"))
    assert len(ix._segments()) > 2
    reference = whoosh_built(tmp_path / "whoosh", docs)
    for field, text in [("body_de", "vertrag"), ("acl", "partners"), ("kind", "deals.registration"),
                        ("title_ja", "契約"), ("org", "")]:
        with ix.searcher() as ours, reference.searcher() as theirs:
            found = {hit["id"] for hit in ours.search(Term(field, text), limit=None)}
            assert found == {hit["id"] for hit in theirs.search(Term(field, text), limit=None)}
            assert found
    # Whoosh's own writer updates and deletes in the bulk segments, then merges them all.
    changed = docs[5]
    changed.title = "Zyxwvut"
    writer = ix.writer()
    writer.update_document(**_fields(changed))
    writer.delete_by_term("id", docs[6].id)
    writer.commit()
    writer = reference.writer()
    writer.update_document(**_fields(changed))
    writer.delete_by_term("id", docs[6].id)
    writer.commit()
    ix.optimize()
    reference.optimize()
    assert len(ix._segments()) == 1
    assert contents(ix) == contents(reference)


def test_the_backend_rebuilds_in_worker_processes_and_searches(tmp_path):
    backend = WhooshBackend(tmp_path / "search", write_memory_mb=1)
    docs = corpus(400, seed=2)
    for doc in docs:
        doc.tokens = ["public"]
    assert backend.rebuild(iter(docs), processes=2) == 400
    request = SearchRequest(words=parse("contrat"), reach=Reach({"public"}), languages=("fr",),
                            facets=False)
    found = backend.search(request)
    term = analyze("fr", "contrat")[0]
    assert found.total == sum(1 for d in docs if d.language == "fr" and
                              term in analyze("fr", d.title + " " + d.body)) > 0
    backend.index([SearchDocument(**{**docs[0].__dict__, "title": "Zyxwvut"})])
    request = SearchRequest(words=parse("zyxwvut"), reach=Reach({"public"}),
                            languages=(docs[0].language,))
    assert backend.search(request).total == 1
    backend.close()


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failed_build_leaves_no_segment_behind(tmp_path, processes):
    docs = [_fields(doc) for doc in corpus(700, seed=4)]
    docs[650]["no_such_field"] = "x"
    ix = index.create_in(str(tmp_path), schema())
    with pytest.raises(Exception, match="no_such_field"):
        bulk.build(ix, docs, processes=processes, budget=3_000)
    ix = index.open_dir(str(tmp_path))
    assert ix.doc_count_all() == 0
    leftovers = [name for name in ix.storage.list()
                 if not name.startswith("_MAIN_") and name != "MAIN_WRITELOCK"]
    assert leftovers == []
