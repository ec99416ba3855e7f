"""A realistic corpus for the search benchmark: documents across kinds, audiences
and languages, with Zipf-distributed words.

Text is made of pseudo-words built from each language's syllables and endings
(so stemmers and accent folding do real work) mixed with real partner-portal
words ("Vertrag", "contrat", "契約"). Word frequencies follow Zipf's law, as in
real text, so a few words are in most documents and most words in few — which is
what makes posting lists long or short.

Deterministic for a seed: the same corpus, the same queries.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from portal.search.backend import SearchDocument

#: Share of documents per language (the deployment's default, English, dominates).
LANGUAGE_SHARE = {"en": 0.42, "de": 0.16, "fr": 0.12, "es": 0.10, "pt_BR": 0.08, "ja": 0.06, "ar": 0.06}

SYLLABLES = {
    "en": ("ar", "en", "in", "on", "er", "st", "pro", "con", "ment", "tion", "al", "ble", "ing",
           "re", "de", "com", "part", "ner", "ship", "sel", "ven", "dor", "mar", "ket", "lic"),
    "de": ("ver", "trag", "ung", "schu", "lein", "ber", "hand", "ler", "ge", "schaft", "keit", "an",
           "bei", "zeit", "stel", "le", "rab", "att", "kun", "den", "wer", "bung", "lie", "fer", "ä", "ü", "ö"),
    "fr": ("con", "trat", "par", "te", "nai", "re", "é", "lé", "ment", "tion", "ven", "deur", "ré",
           "seau", "for", "ma", "qué", "ri", "que", "è", "mar", "ché", "cli", "ent"),
    "es": ("con", "tra", "to", "so", "cio", "ven", "ta", "ción", "pro", "gra", "ma", "ne", "go",
           "cia", "ñ", "dis", "tri", "bui", "dor", "mer", "ca", "do", "cli", "en", "te"),
    "pt_BR": ("con", "tra", "to", "par", "cei", "ro", "ven", "da", "ção", "pro", "gra", "ma", "ne",
              "gó", "cio", "dis", "tri", "bu", "i", "dor", "mer", "ca", "ões", "cli", "en"),
    "ar": ("عق", "د", "شر", "يك", "بر", "نا", "مج", "سو", "ق", "تد", "ري", "ب", "مب", "يع", "ات",
           "ال", "من", "تج", "خد", "مة", "دع", "م", "عم", "ل", "ون"),
    "ja": ("契", "約", "販", "売", "代", "理", "店", "研", "修", "認", "定", "市", "場", "製", "品",
           "価", "格", "支", "援", "資", "料", "案", "件", "登", "録", "更", "新"),
}
ENDINGS = {
    "en": ("", "s", "ed", "ing", "er", "ly"),
    "de": ("", "e", "en", "er", "ung", "ungen", "s"),
    "fr": ("", "s", "e", "es", "er", "é"),
    "es": ("", "s", "es", "ar", "ado", "ción"),
    "pt_BR": ("", "s", "es", "ar", "ado", "ção"),
    "ar": ("", "ات", "ون", "ين", "ة"),
    "ja": ("",),
}
#: Real words of the trade, placed among the frequent words of each language.
DOMAIN_WORDS = {
    "en": "partner contract renewal discount training certification deal pricing margin "
          "reseller distributor quarter pipeline campaign onboarding program tier".split(),
    "de": "Partner Vertrag Verträge Verlängerung Rabatt Schulung Zertifizierung Preisliste "
          "Wiederverkäufer Quartal Kampagne Programm Stufe".split(),
    "fr": "partenaire contrat contrats renouvellement remise formation certification tarif "
          "revendeur trimestre campagne programme niveau".split(),
    "es": "socio contrato contratos renovación descuento formación certificación precios "
          "revendedor trimestre campaña programa nivel".split(),
    "pt_BR": "parceiro contrato contratos renovação desconto treinamento certificação preços "
             "revendedor trimestre campanha programa nível".split(),
    "ar": "شريك عقد العقود تجديد خصم تدريب شهادة الأسعار موزع الربع حملة برنامج مستوى".split(),
    "ja": "パートナー 契約 更新 割引 研修 認定 価格表 販売店 四半期 キャンペーン プログラム".split(),
}

#: Kinds with their share and audience mix.
KINDS = (
    ("resource.guide", 0.18), ("resource.announcement", 0.10), ("resource.policy", 0.05),
    ("training.course", 0.17), ("assets.asset", 0.15), ("marketplace.listing", 0.10),
    ("deals.registration", 0.25),
)
VOCABULARY = 12_000  # word types per language
WORDS_PER_DOCUMENT = (100, 200)


@dataclass(frozen=True)
class CorpusShape:
    documents: int = 100_000
    organizations: int = 2_000
    programs: int = 3
    tiers_per_program: int = 4
    seed: int = 2026


class Vocabulary:
    """Zipf-distributed words of one language."""

    def __init__(self, language: str, rng: random.Random) -> None:
        syllables, endings = SYLLABLES[language], ENDINGS[language]
        words: list[str] = []
        seen: set[str] = set()
        domain = DOMAIN_WORDS[language]
        while len(words) < VOCABULARY:
            n = rng.choice((1, 2, 2, 3, 3, 4))
            word = "".join(rng.choice(syllables) for _ in range(n)) + rng.choice(endings)
            if len(word) >= 2 and word not in seen:
                seen.add(word)
                words.append(word)
        # Domain words rank among the 300 most frequent.
        for i, word in enumerate(domain):
            words.insert(20 + i * 20, word)
        self.words = words
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(words))]
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng
        self.sep = "" if language == "ja" else " "

    def sample(self, count: int) -> list[str]:
        total = self.cumulative[-1]
        return [self.words[bisect.bisect(self.cumulative, self.rng.random() * total)]
                for _ in range(count)]

    def text(self, count: int) -> str:
        words = self.sample(count)
        if self.sep:
            # Sentences: a capital, a full stop every 8-20 words.
            out, i = [], 0
            while i < len(words):
                n = self.rng.randint(8, 20)
                sentence = words[i:i + n]
                sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
                out.append(" ".join(sentence) + ".")
                i += n
            return " ".join(out)
        return "、".join("".join(words[i:i + 6]) for i in range(0, len(words), 6)) + "。"


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if r < acc:
            return value
    return table[-1][0]


def documents(shape: CorpusShape = CorpusShape()) -> Iterator[SearchDocument]:
    """The corpus, one document at a time."""
    rng = random.Random(shape.seed)
    vocab = {lang: Vocabulary(lang, random.Random(shape.seed + i)) for i, lang in enumerate(LANGUAGE_SHARE)}
    languages = tuple(LANGUAGE_SHARE.items())
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    tag_pool = ("pricing", "security", "cloud", "onboarding", "emea", "americas", "apac",
                "q1", "q2", "q3", "q4", "launch", "webinar", "case-study", "compliance")
    for n in range(shape.documents):
        language = _pick(rng, languages)
        kind = _pick(rng, KINDS)
        words = vocab[language]
        organization_id = None
        if kind == "deals.registration":
            organization_id = rng.randint(1, shape.organizations)
            tokens = [f"org:{organization_id}"]
        else:
            r = rng.random()
            if r < 0.2:
                tokens = ["public", "staff"]
            elif r < 0.6:
                tokens = ["partners", "staff"]
            elif r < 0.8:
                tokens = [f"program:{rng.randint(1, shape.programs)}", "staff"]
            elif r < 0.95:
                tier = rng.randint(1, shape.programs * shape.tiers_per_program)
                tokens = [f"tier:{tier}", "staff"]
            else:
                tokens = ["staff"]
        title = words.text(rng.randint(3, 8)).rstrip(".。")
        body = words.text(rng.randint(*WORDS_PER_DOCUMENT))
        plugin = "core" if kind.startswith("resource.") else kind.split(".")[0]
        yield SearchDocument(
            id=f"bench:{n}",
            kind=kind,
            title=title,
            body=body,
            summary=body[:160],
            url=f"/bench/{n}",
            language=language,
            tokens=tokens,
            plugin=plugin,
            tags=rng.sample(tag_pool, rng.randint(0, 3)),
            organization_id=organization_id,
            updated_at=now - timedelta(days=rng.randint(0, 1500), minutes=rng.randint(0, 1440)),
            permission="deals.view" if kind == "deals.registration" else None,
        )


@dataclass
class QuerySet:
    one_word: list[str]
    two_words: list[str]
    phrase: list[str]
    prefix: list[str]


def queries(language: str, count: int, seed: int = 7, shape: CorpusShape = CorpusShape()) -> QuerySet:
    """Queries a person would type, drawn from the corpus's own text: words by
    their frequency (so common and rare words both appear), pairs and phrases
    from real documents, prefixes of title words."""
    rng = random.Random(seed)
    corpus = documents(CorpusShape(documents=min(shape.documents, 4000), seed=shape.seed,
                                   organizations=shape.organizations))
    sample = [d for d in corpus if d.language == language]
    one, two, phrase, prefix = [], [], [], []
    for _ in range(count):
        doc = rng.choice(sample)
        words = [w.strip(".,、。") for w in doc.body.split() if len(w.strip(".,、。")) > 3]
        if language == "ja":
            words = [doc.body[i:i + 2] for i in range(0, 60, 3)]
        one.append(rng.choice(words))
        a = rng.randrange(len(words) - 1)
        two.append(f"{words[a]} {rng.choice(words)}")
        phrase.append(f'"{words[a]} {words[a + 1]}"')
        title_words = [w for w in doc.title.split() if len(w) >= 4] or [doc.title[:4]]
        word = rng.choice(title_words)
        prefix.append(word[: rng.randint(3, min(6, len(word)))])
    return QuerySet(one, two, phrase, prefix)
