"""Conflict detection: is this customer already registered, by someone else or twice?

Names are compared once normalized (:func:`company_key`): case, accents,
punctuation and legal forms (Inc, GmbH, Ltd, S.A. de C.V., …) do not count.
Websites are compared by registrable domain (:func:`registrable_domain`), so a
subdomain matches its parent (``emea.acme.com`` is ``acme.com``); the same name
under another ending (``acme.de`` / ``acme.com``) is a weaker sign. Similar names
are scored, and the products both registrations include decide how strong a match
is. Every match carries its reasons, for the reviewer's side-by-side view.

The pure functions here know nothing of the database; :func:`find_conflicts`
looks the candidates up through indexed columns only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlsplit

#: Legal forms dropped from the end of a company name (after punctuation is gone:
#: "S.A." is "sa", "Pte. Ltd." is "pte ltd", "S.A. de C.V." is "sa de cv").
LEGAL_FORMS = frozenset("""
    inc incorporated corp corporation co company cos llc llp lp lllp pllc ltd limited plc
    gmbh mbh ag kg kgaa ohg ug ev eg se gbr
    sa sas sasu sarl sca snc eurl scs sci
    srl srls spa sapa sas scarl
    bv nv vof cv
    ab as asa aps oy oyj hf
    pty pte bhd sdn tbk pt
    kk gk yk
    sl slu sau sll
    ltda eireli epp mei
    lda
    sro as spol doo dd zoo sp ooo oao zao pjsc ojsc kft zrt nyrt rt
    de rl sab capital variable
""".split())
#: Words that only connect a legal form ("Acme & Co", "S. de R.L."): dropped with it.
_CONNECTORS = frozenset({"and", "und", "et", "y", "e"})
_LEADING = frozenset({"the"})
#: Japanese legal forms, written without spaces before or after the name.
_JAPANESE_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "（株）", "(株)")
_SPECIAL_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "ð": "d",
                                  "þ": "th", "ı": "i", "ß": "ss"})
_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^\w]+|_")

#: Two-level public suffixes: ``acme.co.uk``'s registrable domain is ``acme.co.uk``.
MULTI_LEVEL_SUFFIXES = frozenset("""
    co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk
    com.au net.au org.au edu.au gov.au co.nz org.nz net.nz
    co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr
    com.br net.br org.br gov.br com.mx org.mx gob.mx com.ar com.co com.pe com.uy com.ve
    com.cn net.cn org.cn com.hk com.tw com.sg edu.sg gov.sg com.my com.ph com.vn
    co.in net.in org.in firm.in co.id co.th co.il co.za org.za
    com.tr com.sa com.eg com.qa com.kw ae.org co.ae
    com.pl com.pt com.es com.gr com.ro com.ua
    example.com example.net example.org
""".split())
# (The documentation domains of RFC 2606 are treated as suffixes: demo data and
# tests name customers ``initech.example.com``, which must not all be one domain.)
#: Addresses at these providers say nothing about the customer's company.
FREE_MAIL = frozenset("""
    gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com ymail.com
    icloud.com me.com mac.com aol.com gmx.de gmx.net gmx.com web.de t-online.de
    proton.me protonmail.com mail.com yandex.ru mail.ru qq.com 163.com orange.fr free.fr
    laposte.net libero.it zoho.com
""".split())

#: From this score on, a match is a conflict (the queue flags it, the reviewer sees it).
CONFLICT_THRESHOLD = 60
#: Names at least this alike (0..1) count as similar.
SIMILAR_NAMES = 0.82


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_LETTERS))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def name_tokens(name: str) -> list[str]:
    """The words of a company name that identify it (see :func:`company_key`)."""
    text = _fold(name or "")
    text = _APOSTROPHES.sub("", text)
    # "S.A." and "G.m.b.H." are one word each; a dot between words is a space.
    text = re.sub(r"(?<=\b\w)\.(?=\w\b)", "", text)
    text = re.sub(r"\b(\w)\.(?=\s|$)", r"\1", text)
    text = re.sub(r"\b(\w)/(\w)\b", r"\1\2", text)  # "A/S", "S/A"
    for form in _JAPANESE_FORMS:
        text = text.replace(form, " ")
    text = text.replace("&", " and ").replace("+", " and ")
    tokens = [t for t in _NOT_WORD.split(text) if t]
    while len(tokens) > 1 and tokens[0] in _LEADING:
        tokens.pop(0)
    # Legal forms (and the connectors between them) from the end, while a name is left.
    while len(tokens) > 1 and (tokens[-1] in LEGAL_FORMS or tokens[-1] in _CONNECTORS):
        tokens.pop()
    return tokens


def company_key(name: str) -> str:
    """``"ACME Networks, Inc."`` and ``"Acme Networks Incorporated"`` → ``"acme networks"``;
    ``"Société Générale S.A."`` → ``"societe generale"``."""
    return " ".join(name_tokens(name))


def company_stem(key: str) -> str:
    """The first letters of a key without spaces: where similar names are looked for
    (``"bright path"`` and ``"brightpath"`` share ``"brigh"``)."""
    return key.replace(" ", "")[:5]


def host_of(url_or_host: str | None) -> str | None:
    """The lower-case host of a website address (``https://www.Acme.com/x`` → ``www.acme.com``)."""
    value = (url_or_host or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return None
    host = host.strip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return host or None


def registrable_domain(host: str | None) -> str | None:
    """``emea.sales.acme.co.uk`` → ``acme.co.uk``; ``www.acme.com`` → ``acme.com``."""
    if not host:
        return None
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        return host  # an address, not a name
    parts = [p for p in host.split(".") if p]
    if len(parts) < 2:
        return host
    if len(parts) >= 3 and ".".join(parts[-2:]) in MULTI_LEVEL_SUFFIXES:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def domain_label(domain: str | None) -> str | None:
    """The name part of a registrable domain: ``acme.co.uk`` → ``acme``."""
    if not domain or "." not in domain:
        return None
    return domain.split(".", 1)[0] or None


def email_domain(email: str | None) -> str | None:
    """The company domain of an address, or None for a free-mail provider."""
    if not email or "@" not in email:
        return None
    host = host_of(email.rsplit("@", 1)[1])
    domain = registrable_domain(host)
    return None if domain in FREE_MAIL else domain


def customer_domain(website: str | None, contact_email: str | None) -> str | None:
    """The customer's domain: from its website, else from its contact's address."""
    return registrable_domain(host_of(website)) or email_domain(contact_email)


def name_similarity(key_a: str, key_b: str) -> float:
    """0..1: how alike two normalized names are (spacing, a typo, a word more)."""
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    compact = SequenceMatcher(None, key_a.replace(" ", ""), key_b.replace(" ", "")).ratio()
    a, b = set(key_a.split()), set(key_b.split())
    overlap = len(a & b) / len(a | b)
    # One name is the other with a word more ("acme" / "acme networks").
    contained = 0.8 if (a <= b or b <= a) and (a & b) else 0.0
    return max(compact, overlap, contained)


@dataclass(frozen=True)
class Customer:
    """What a registration says about its customer, as matching needs it."""

    name: str
    key: str
    domain: str | None
    country: str | None
    product_ids: frozenset[int]
    host: str | None = None

    @classmethod
    def of(cls, name: str, website: str | None, contact_email: str | None, country: str | None,
           product_ids: Any = ()) -> Customer:
        return cls(name=name, key=company_key(name),
                   domain=customer_domain(website, contact_email), country=country,
                   product_ids=frozenset(int(p) for p in product_ids),
                   host=host_of(website))


@dataclass(frozen=True)
class Reason:
    """One reason two registrations match: a code and what to show with it."""

    code: str  # same_domain, subdomain, domain_label, same_name, similar_name,
    #            shared_products, other_products, other_country
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Match:
    score: int
    reasons: list[Reason]
    registration: Any = None

    @property
    def is_conflict(self) -> bool:
        return self.score >= CONFLICT_THRESHOLD


def compare(mine: Customer, other: Customer, product_names: dict[int, str] | None = None) -> Match:
    """Score how likely ``other`` is the same customer and opportunity as ``mine``."""
    product_names = product_names or {}
    reasons: list[Reason] = []
    score = 0
    if mine.domain and mine.domain == other.domain:
        a, b = _bare(mine.host), _bare(other.host)
        if a and b and a != b:
            reasons.append(Reason("subdomain", {"domain": mine.domain, "a": a, "b": b}))
        else:
            reasons.append(Reason("same_domain", {"domain": mine.domain}))
        score = 95
    elif mine.domain and other.domain and domain_label(mine.domain) == domain_label(other.domain):
        reasons.append(Reason("domain_label", {"a": mine.domain, "b": other.domain}))
        score = 70
    similarity = name_similarity(mine.key, other.key)
    if mine.key and mine.key == other.key:
        reasons.append(Reason("same_name", {"key": mine.key}))
        score = max(score, 90) + (5 if score else 0)
    elif similarity >= SIMILAR_NAMES:
        reasons.append(Reason("similar_name", {"percent": int(round(similarity * 100))}))
        score = max(score, int(similarity * 80)) + (5 if score else 0)
    if not score:
        return Match(0, [])
    shared = mine.product_ids & other.product_ids
    if shared:
        names = sorted(product_names.get(p, str(p)) for p in shared)
        reasons.append(Reason("shared_products", {"products": names}))
        score += 5
    elif mine.product_ids and other.product_ids:
        reasons.append(Reason("other_products", {}))
        score -= 25
    if mine.country and other.country and mine.country != other.country:
        reasons.append(Reason("other_country", {"a": mine.country, "b": other.country}))
        score -= 10
    return Match(max(0, min(100, score)), reasons)


def _bare(host: str | None) -> str | None:
    return host[4:] if host and host.startswith("www.") else host


def claim_keys(customer: Customer) -> list[str]:
    """The keys an approved registration of this customer claims (with each product)."""
    keys = [f"name:{customer.key}"] if customer.key else []
    if customer.domain:
        keys.append(f"domain:{customer.domain}")
    return keys
