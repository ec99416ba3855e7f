"""The resource library's demo pages, seeded by ``portal demo`` (:mod:`portal.demo`).

Pages for every audience (public, all partners, the Reseller program only, Gold
tier and higher, staff only) in several languages, so that each demo login finds
something of its own in the library and in search. Idempotent: a page is looked
up by its slug and only created when missing. The German contract page uses the
word "Vertrag" but never "Verträge", so a search for "Verträge" finds it only
through stemming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.audience import Audience
from portal.extensions import db
from portal.models import Program, ResourceCategory, ResourcePage, ResourceStatus, Tier, utcnow


@dataclass(frozen=True)
class DemoPage:
    slug: str
    title: str
    summary: str
    category: ResourceCategory
    language: str
    audience: Audience
    tags: tuple[str, ...]
    body: str
    #: program slugs (audience PROGRAMS) or (program slug, tier name) (audience TIERS)
    programs: tuple[str, ...] = ()
    tiers: tuple[tuple[str, str], ...] = ()
    #: days before today it was published; None: a draft
    published_days_ago: int | None = 30


PAGES = (
    DemoPage(
        "welcome-to-the-partner-portal",
        "Welcome to the partner portal",
        "What the portal offers partners and companies thinking of joining one of our programs.",
        ResourceCategory.ANNOUNCEMENT, "en", Audience.PUBLIC, ("welcome", "getting started"),
        """\
The partner portal is where our resellers, referral partners and technology
partners find everything they need to sell, implement and integrate with us.

## What you find here

- **Program guides** for each partner program, with the benefits of every tier.
- **Deal registration**, so that the opportunities you bring are protected.
- **Training and certification** for your sales and technical teams.
- **Marketing assets** you can co-brand, and market development funds.

## Not a partner yet?

Use *Become a partner* at the top of the page. Tell us about your company and
the program that fits you best; our channel team answers within five working
days.
""",
        published_days_ago=120,
    ),
    DemoPage(
        "deal-registration-how-it-works",
        "Deal registration: how it works",
        "Register an opportunity before you quote, and we protect it for 90 days.",
        ResourceCategory.GUIDE, "en", Audience.PARTNERS, ("deals", "registration"),
        """\
Deal registration protects the work you put into an opportunity. Once your
registration is approved, no other partner receives a better discount on the
same deal for **90 days**.

## Before you register

1. Qualify the opportunity: a named customer, a budget and a decision date.
2. Check that the customer is not already in an active registration.
3. Agree the products and quantities you expect to quote.

## After you register

Your channel manager reviews every registration within two working days. You
receive an email when it is approved or when we need more information.

| Deal size | Extra discount | Review time |
|:--|--:|--:|
| Up to €50,000 | 5 % | 1 day |
| €50,000 – €250,000 | 8 % | 2 days |
| Over €250,000 | 12 % | 2 days |

> An approved registration can be extended once by 30 days if the customer's
> decision is delayed.
""",
        published_days_ago=90,
    ),
    DemoPage(
        "reseller-program-guide-2026",
        "Reseller program guide 2026",
        "Tiers, discounts and requirements of the Reseller program this year.",
        ResourceCategory.GUIDE, "en", Audience.PROGRAMS, ("reseller", "program guide", "discounts"),
        """\
The Reseller program rewards partners who build a practice around our
platform. Your tier depends on certified people and on the value of the deals
you win over the last twelve months.

## Tiers at a glance

| Tier | Certified people | Won deal value | Base discount |
|:--|--:|--:|--:|
| Registered | 0 | – | 10 % |
| Silver | 2 | – | 18 % |
| Gold | 4 | €250,000 | 25 % |
| Platinum | 8 | €1,000,000 | 32 % |

## How tiers are reviewed

Tiers are reviewed every quarter. When you meet the requirements of a higher
tier, your channel manager proposes the change; if you fall below your tier's
requirements, you keep it for one more quarter to catch up.

## Where to start

Register your first deals, send two colleagues to the *Sales Professional*
course, and ask your channel manager for a joint business plan.
""",
        programs=("reseller",),
        published_days_ago=60,
    ),
    DemoPage(
        "gold-and-platinum-co-marketing-funds",
        "Gold and Platinum: co-marketing funds",
        "How Gold and Platinum resellers claim market development funds each quarter.",
        ResourceCategory.GUIDE, "en", Audience.TIERS, ("mdf", "marketing", "gold"),
        """\
Gold and Platinum resellers receive market development funds (MDF) every
quarter: **2 %** of the previous quarter's won deal value, up to €40,000.

## What the funds cover

- Events and webinars that feature our platform.
- Digital campaigns using the co-branded assets from the portal.
- Sales training for your own team.

## Claiming

Submit a plan before the activity and your claim with proof of performance
within 60 days after it. Claims are paid with the next monthly payment run.
Unused funds expire at the end of the following quarter.
""",
        tiers=(("reseller", "Gold"),),
        published_days_ago=45,
    ),
    DemoPage(
        "partner-code-of-conduct",
        "Partner code of conduct",
        "The standards every partner agrees to when representing our products.",
        ResourceCategory.POLICY, "en", Audience.PARTNERS, ("compliance", "policy"),
        """\
We expect every partner to represent our products honestly and to follow the
law in every country where they do business.

## Honest selling

- Describe products and their limits accurately; never promise features on our
  behalf that are not on the published roadmap.
- Quote prices and discounts only as the program allows.

## Anti-bribery and gifts

No payment, gift or hospitality may be offered to influence a customer's
decision. Gifts above €100 in value must be declared to your channel manager.

## Data protection

Customer data shared through the portal may be used only for the deal it was
shared for. Report any suspected data breach to us within 24 hours.

Breaches of this code may lead to suspension from the programs.
""",
        published_days_ago=200,
    ),
    DemoPage(
        "vertragsbedingungen-fuer-vertriebspartner",
        "Ihr Vertrag als Vertriebspartner: die wichtigsten Bedingungen",
        "Laufzeit, Kündigung, Zahlungsziele und Haftung im Überblick.",
        ResourceCategory.POLICY, "de", Audience.PROGRAMS, ("vertrag", "konditionen", "reseller"),
        """\
Dieser Überblick fasst die wichtigsten Punkte Ihres Vertrags als
Vertriebspartner zusammen. Maßgeblich ist stets der unterzeichnete Vertrag.

## Laufzeit und Kündigung

Der Vertrag läuft zunächst zwölf Monate und verlängert sich danach jeweils um
ein Jahr. Beide Seiten können ihn mit einer Frist von drei Monaten zum Ende der
Laufzeit kündigen.

## Preise und Zahlungsziele

- Es gelten die Rabatte Ihrer Partnerstufe zum Zeitpunkt der Bestellung.
- Rechnungen sind innerhalb von 30 Tagen ohne Abzug zahlbar.
- Bei Zahlungsverzug können wir neue Bestellungen zurückhalten.

## Haftung

Die Haftung richtet sich nach Abschnitt 9 des Vertrags. Für leichte
Fahrlässigkeit ist sie auf den Auftragswert der letzten zwölf Monate begrenzt.

Fragen zu Ihrem Vertrag beantwortet Ihr Channel Manager.
""",
        programs=("reseller",),
        published_days_ago=75,
    ),
    DemoPage(
        "guide-du-programme-de-recommandation",
        "Guide du programme de recommandation",
        "Comment recommander un client et percevoir votre commission.",
        ResourceCategory.GUIDE, "fr", Audience.PROGRAMS, ("recommandation", "commission"),
        """\
Le programme de recommandation rémunère les partenaires qui nous présentent
de nouveaux clients, sans qu'ils aient à revendre nos produits.

## Recommander un client

1. Enregistrez l'opportunité dans le portail avant le premier rendez-vous.
2. Présentez-nous le client ; notre équipe commerciale prend le relais.
3. Suivez l'avancement de l'affaire depuis votre tableau de bord.

## Commissions

Vous percevez **10 %** de la première année de contrat signée, versés le mois
suivant le paiement du client. Les partenaires *Preferred* reçoivent 12 %.
""",
        programs=("referral",),
        published_days_ago=50,
    ),
    DemoPage(
        "anuncio-nuevos-precios-para-distribuidores",
        "Anuncio: nuevos precios para distribuidores",
        "La lista de precios cambia el 1 de enero; las ofertas registradas mantienen "
        "el precio anterior.",
        ResourceCategory.ANNOUNCEMENT, "es", Audience.PROGRAMS, ("precios", "distribuidores"),
        """\
A partir del **1 de enero** entra en vigor la nueva lista de precios para
distribuidores. Los precios de las suscripciones suben un 4 % de media; los
servicios profesionales no cambian.

## ¿Qué pasa con las ofertas en curso?

Las oportunidades registradas y aprobadas antes del 31 de diciembre mantienen
el precio anterior durante toda su validez.

## Próximos pasos

- Descargue la nueva lista de precios en la sección de recursos de marketing.
- Revise con su gerente de canal las ofertas que cierran en enero.
""",
        programs=("reseller",),
        published_days_ago=10,
    ),
    DemoPage(
        "technology-alliance-integration-guide-ja",
        "テクノロジーアライアンス統合ガイド",
        "認定コネクタの開発から公開までの手順です。",
        ResourceCategory.GUIDE, "ja", Audience.PROGRAMS, ("統合", "api", "コネクタ"),
        """\
テクノロジーアライアンスのパートナーは、当社プラットフォームとの統合を開発し、
マーケットプレイスで公開できます。

## 開発の流れ

1. 開発者アカウントを申請し、サンドボックス環境を受け取ります。
2. 公開APIとWebhookを使ってコネクタを開発します。
3. 認定テストを実行し、結果を提出します。

## 認定の基準

- すべての API 呼び出しでエラー処理を行うこと。
- 顧客データを暗号化して保存すること。
- サポート窓口を日本語または英語で用意すること。

認定されたコネクタは、マーケットプレイスに掲載されます。
""",
        programs=("technology-alliance",),
        published_days_ago=35,
    ),
    DemoPage(
        "partner-data-protection-policy-ar",
        "سياسة حماية البيانات للشركاء",
        "كيف نحمي بيانات العملاء التي تشاركها معنا عبر البوابة.",
        ResourceCategory.POLICY, "ar", Audience.PARTNERS, ("البيانات", "الخصوصية"),
        """\
نلتزم بحماية بيانات العملاء التي يشاركها الشركاء معنا عبر بوابة الشركاء.

## البيانات التي نجمعها

- اسم العميل وعنوانه وبيانات الاتصال بالمسؤول عن الصفقة.
- تفاصيل الصفقة المسجلة وقيمتها المتوقعة.

## كيف نستخدمها

نستخدم هذه البيانات فقط لمراجعة الصفقات المسجلة وحمايتها، ولا نشاركها مع أي
شريك آخر. تُحذف بيانات الصفقات المغلقة بعد ثلاث سنوات.

## التواصل معنا

لأي سؤال حول حماية البيانات، تواصل مع مدير القناة المسؤول عنك.
""",
        published_days_ago=150,
    ),
    DemoPage(
        "channel-manager-playbook-quarterly-reviews",
        "Channel manager playbook: quarterly business reviews",
        "How we prepare and run quarterly business reviews with our partners.",
        ResourceCategory.OTHER, "en", Audience.STAFF, ("playbook", "qbr"),
        """\
Quarterly business reviews (QBRs) keep our partners' plans and ours aligned.
Hold one with every Gold and Platinum reseller, and with any partner whose tier
is under review.

## Prepare

- Pull the partner's registered, won and lost deals of the quarter.
- Check certifications that expire within the next 90 days.
- Review open MDF claims and unused funds.

## Run the meeting

1. Results against the joint business plan.
2. Pipeline for the next quarter, deal by deal.
3. Enablement: training, assets, events.
4. Agreed actions, with owners and dates.

Record the agreed actions on the organization's page the same day.
""",
        published_days_ago=20,
    ),
    DemoPage(
        "partner-summit-2027",
        "Partner Summit 2027: save the date",
        "Our yearly partner summit, in Lisbon next spring.",
        ResourceCategory.ANNOUNCEMENT, "en", Audience.PARTNERS, ("events", "summit"),
        """\
Our partner summit returns next spring in **Lisbon**: two days of roadmap
sessions, hands-on labs and the partner awards.

The agenda and registration open soon.
""",
        published_days_ago=None,  # a draft: staff see it, partners do not yet
    ),
)


def _program(slug: str) -> Program:
    return db.session.scalars(sa.select(Program).where(Program.slug == slug)).one()


def _tier(program_slug: str, name: str) -> Tier:
    return next(t for t in _program(program_slug).tiers if t.name == name)


def seed_pages(created: Callable[..., None], author: Any) -> None:
    """Create the demo pages that are missing; ``created(event, page)`` records each."""
    now = utcnow()
    for spec in PAGES:
        if db.session.scalar(sa.select(ResourcePage.id).where(ResourcePage.slug == spec.slug)):
            continue
        published_at = (None if spec.published_days_ago is None
                        else now - timedelta(days=spec.published_days_ago))
        page = ResourcePage(
            slug=spec.slug, title=spec.title, summary=spec.summary, body=spec.body,
            category=spec.category, language=spec.language, audience=spec.audience,
            status=ResourceStatus.DRAFT if published_at is None else ResourceStatus.PUBLISHED,
            published_at=published_at, created_at=published_at or now,
            updated_at=published_at or now,
            author_id=getattr(author, "id", None), updated_by_id=getattr(author, "id", None),
        )
        page.programs = [_program(slug) for slug in spec.programs]
        page.tiers = [_tier(program, tier) for program, tier in spec.tiers]
        page.set_tags(spec.tags)
        db.session.add(page)
        created("resource.created", page)
        if page.is_published:
            created("resource.published", page)
