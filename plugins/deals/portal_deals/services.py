"""What happens to a registration: the state machine and every change, in one place.

Views, the command line and the demo call these functions; none of them changes a
registration's status by itself. Each change

* checks the transition against :data:`TRANSITIONS` and applies it with a
  conditional ``UPDATE … WHERE status IN (allowed)``: of two requests racing to
  approve the same registration (or two hosts expiring it), one wins and the
  other is refused with :class:`TransitionRefused` (the views answer 409);
* treats a protection whose period is over as expired first (:func:`settle`), so
  a lapsed registration cannot be won or extended even before the expiry
  command ran;
* writes a :class:`DealHistory` step and emits a ``deal.*`` event (audit log,
  notifications, search) in the same transaction.

Attachments and staff notes live here too: who may delete an attachment (and
when), and the staff's internal notes, which never reach a partner.

Protection is a set of :class:`DealClaim` rows (customer key × product) whose
primary key the database enforces, so two partners registering the same customer
at the same moment can never both be protected: the second one's claim fails,
and it stays submitted, flagged as a conflict for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.events import emit
from portal.extensions import db
from portal.models import utcnow
from portal.permissions import can
from portal_deals import matching
from portal_deals.i18n import _, _l, ngettext
from portal_deals.models import (
    ACTIVE,
    ATTACHMENTS_REMOVABLE,
    OPEN,
    DealAttachment,
    DealClaim,
    DealComment,
    DealHistory,
    DealProduct,
    DealRegistration,
    DealStaffNote,
    DealStatus,
)
from portal_deals.rules import in_reporting_currency, rules_for, tier_of

S = DealStatus

#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[DealStatus], DealStatus]] = {
    "submit": (frozenset({S.DRAFT, S.MORE_INFO}), S.SUBMITTED),
    "request_info": (frozenset({S.SUBMITTED}), S.MORE_INFO),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "win": (frozenset({S.APPROVED}), S.WON),
    "lose": (frozenset({S.APPROVED}), S.LOST),
    "expire": (frozenset({S.APPROVED}), S.EXPIRED),
    "withdraw": (frozenset(OPEN), S.WITHDRAWN),
}
#: The event each action raises (``deal.<name>``).
EVENTS = {
    "submit": "submitted", "request_info": "info_requested", "approve": "approved",
    "reject": "rejected", "win": "won", "lose": "lost", "expire": "expired",
    "withdraw": "withdrawn",
}
EDITABLE = frozenset({S.DRAFT, S.MORE_INFO})

REFUSALS = {
    "submit": _l("Only a draft, or a registration waiting for more information, can be "
                 "submitted. Its status is “%(status)s”."),
    "request_info": _l("Only a submitted registration can be reviewed. Its status is “%(status)s”."),
    "approve": _l("Only a submitted registration can be reviewed. Its status is “%(status)s”."),
    "reject": _l("Only a submitted registration can be reviewed. Its status is “%(status)s”."),
    "win": _l("Only a protected registration can be marked won or lost. Its status is “%(status)s”."),
    "lose": _l("Only a protected registration can be marked won or lost. Its status is “%(status)s”."),
    "expire": _l("Only a protected registration can expire. Its status is “%(status)s”."),
    "withdraw": _l("This registration can no longer be withdrawn. Its status is “%(status)s”."),
    "edit": _l("Only a draft, or a registration waiting for more information, can be "
               "changed. Its status is “%(status)s”."),
    "extend": _l("Only a protected registration can be extended. Its status is “%(status)s”."),
    "delete_attachment": _l("Attachments can be deleted only while the registration is a draft, "
                            "submitted or waiting for more information. Its status is “%(status)s”: "
                            "ask the channel team to delete it."),
}


class TransitionRefused(Exception):
    """An impossible change: nothing was changed. ``message`` is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ActionForbidden(Exception):
    """The user may not do this to this object (the views answer 403 with the
    reason); nothing was changed. ``message`` is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClaimTaken(Exception):
    """Another registration already protects this customer for one of the products."""

    def __init__(self, holders: list[int]) -> None:
        super().__init__(f"claimed by {holders}")
        self.holders = holders


def refusal(action: str, registration: DealRegistration) -> TransitionRefused:
    """The refusal of ``action`` on ``registration`` in its current state."""
    return TransitionRefused(str(REFUSALS[action]) % {"status": registration.effective_status.label})


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "id", None)


def _history(registration: DealRegistration, action: str, actor: Any, before: DealStatus | None,
             after: DealStatus | None, note: str | None = None) -> None:
    db.session.add(DealHistory(
        registration_id=registration.id, actor_id=_actor_id(actor), action=action,
        from_status=before.value if before else None, to_status=after.value if after else None,
        note=note,
    ))


def _conditional_update(registration: DealRegistration, where: list[Any], values: dict[str, Any]) -> bool:
    """``UPDATE deals_registration SET … WHERE id = … AND <where>``: True when it
    changed the row (then the object is reloaded)."""
    result = db.session.execute(
        sa.update(DealRegistration)
        .where(DealRegistration.id == registration.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    return result.rowcount == 1


def _move(registration: DealRegistration, action: str, actor: Any, *, note: str | None = None,
          values: dict[str, Any] | None = None, event_data: dict[str, Any] | None = None,
          now: datetime | None = None) -> None:
    """Apply ``action`` or raise :class:`TransitionRefused` (nothing changed)."""
    sources, target = TRANSITIONS[action]
    now = now or utcnow()
    if action != "expire":
        settle(registration, now)
    if registration.status not in sources:
        raise refusal(action, registration)
    before_state = registration.audit_state()
    before = registration.status
    where: list[Any] = [DealRegistration.status.in_(sources)]
    if action == "expire":
        where.append(DealRegistration.expires_at <= now)
    elif S.APPROVED in sources:
        where.append(sa.or_(DealRegistration.status != S.APPROVED, DealRegistration.expires_at > now))
    changes = {"status": target, "updated_at": now, **(values or {})}
    if target in (S.WON, S.LOST, S.EXPIRED, S.WITHDRAWN, S.REJECTED):
        changes.setdefault("closed_at", now)
        changes.setdefault("extension_requested_at", None)
    if not _conditional_update(registration, where, changes):
        raise refusal(action, registration)
    if before is S.APPROVED:
        release_claims(registration)
    _history(registration, action, actor, before, target, note)
    emit(f"deal.{EVENTS[action]}", registration, before=before_state, actor=actor,
         **(event_data or {}))


def settle(registration: DealRegistration, now: datetime | None = None) -> bool:
    """Expire a protection whose period is over (True when this call expired it)."""
    now = now or utcnow()
    if not (registration.status is S.APPROVED and registration.expires_at is not None
            and registration.expires_at <= now):
        return False
    try:
        _move(registration, "expire", None, now=now)
    except TransitionRefused:
        return False  # someone else (another host's `portal deals expire`) was first
    return True


def release_claims(registration: DealRegistration) -> None:
    db.session.execute(sa.delete(DealClaim).where(DealClaim.registration_id == registration.id))


# -- creating and editing ------------------------------------------------------------

@dataclass
class RegistrationData:
    """Validated input of the registration form (see ``forms.RegistrationForm.data_out``)."""

    program_id: int
    customer_name: str
    customer_website: str | None
    customer_country: str
    customer_industry: str | None
    contact_name: str
    contact_email: str
    contact_phone: str | None
    product_ids: list[int]
    value: Decimal
    currency: str
    expected_close: Any
    description: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def _apply(registration: DealRegistration, data: RegistrationData) -> None:
    key = matching.company_key(data.customer_name)
    domain = matching.customer_domain(data.customer_website, data.contact_email)
    registration.program_id = data.program_id
    registration.customer_name = data.customer_name
    registration.customer_key = key[:200]
    registration.customer_stem = matching.company_stem(key)
    registration.customer_website = data.customer_website
    registration.customer_domain = domain
    registration.domain_label = matching.domain_label(domain)
    registration.customer_country = data.customer_country
    registration.customer_industry = data.customer_industry
    registration.contact_name = data.contact_name
    registration.contact_email = data.contact_email
    registration.contact_phone = data.contact_phone
    registration.value = data.value
    registration.currency = data.currency
    registration.value_reporting = in_reporting_currency(data.value, data.currency)
    registration.expected_close = data.expected_close
    registration.description = data.description
    registration.extra = dict(data.extra)
    registration.products = list(db.session.scalars(
        sa.select(DealProduct).where(DealProduct.id.in_(data.product_ids))))


def create(data: RegistrationData, organization_id: int, actor: Any) -> DealRegistration:
    """A new draft of ``organization_id``."""
    now = utcnow()
    registration = DealRegistration(organization_id=organization_id, created_by_id=_actor_id(actor),
                                    status=S.DRAFT, created_at=now, updated_at=now, extra={})
    _apply(registration, data)
    db.session.add(registration)
    db.session.flush()
    _history(registration, "create", actor, None, S.DRAFT)
    emit("deal.created", registration, before=None, actor=actor)
    return registration


def update(registration: DealRegistration, data: RegistrationData, actor: Any) -> None:
    """Change a draft (or a registration waiting for more information)."""
    if registration.status not in EDITABLE:
        raise refusal("edit", registration)
    before = registration.audit_state()
    # Lock the row and check its state in one statement, then change it.
    if not _conditional_update(registration, [DealRegistration.status.in_(EDITABLE)],
                               {"updated_at": utcnow()}):
        raise refusal("edit", registration)
    _apply(registration, data)
    db.session.flush()
    _history(registration, "edit", actor, registration.status, registration.status)
    emit("deal.updated", registration, before=before, actor=actor)


# -- conflicts -------------------------------------------------------------------------

CANDIDATES_MAX = 200


def customer_of(registration: DealRegistration) -> matching.Customer:
    return matching.Customer(
        name=registration.customer_name, key=registration.customer_key,
        domain=registration.customer_domain, country=registration.customer_country,
        product_ids=frozenset(registration.product_ids),
        host=matching.host_of(registration.customer_website),
    )


def candidates(customer: matching.Customer, *, exclude_id: int | None = None,
               organization_id: int | None = None, now: datetime | None = None) -> list[DealRegistration]:
    """Registrations that may be the same customer: active ones of anybody, and the
    organization's own drafts. Every branch of the OR reads an index."""
    now = now or utcnow()
    key = customer.key
    same: list[Any] = [DealRegistration.customer_key == key,
                       DealRegistration.customer_stem == matching.company_stem(key)]
    if customer.domain:
        same.append(DealRegistration.customer_domain == customer.domain)
        label = matching.domain_label(customer.domain)
        if label:
            same.append(DealRegistration.domain_label == label)
    state = DealRegistration.status.in_(ACTIVE)
    if organization_id is not None:
        state = sa.or_(state, sa.and_(DealRegistration.status == S.DRAFT,
                                      DealRegistration.organization_id == organization_id))
    stmt = (
        sa.select(DealRegistration)
        .where(sa.or_(*same), state,
               sa.or_(DealRegistration.status != S.APPROVED, DealRegistration.expires_at > now))
        .options(selectinload(DealRegistration.products))
        .order_by(DealRegistration.id.desc())
        .limit(CANDIDATES_MAX)
    )
    if exclude_id is not None:
        stmt = stmt.where(DealRegistration.id != exclude_id)
    return list(db.session.scalars(stmt))


def matches_for(customer: matching.Customer, *, exclude_id: int | None = None,
                organization_id: int | None = None) -> list[matching.Match]:
    """Conflicting registrations, strongest first, each with its reasons."""
    found = []
    for other in candidates(customer, exclude_id=exclude_id, organization_id=organization_id):
        names = {p.id: p.name for p in other.products}
        match = matching.compare(customer, customer_of(other), names)
        if match.is_conflict:
            match.registration = other
            found.append(match)
    found.sort(key=lambda m: (-m.score, m.registration.id))
    return found


def conflicts(registration: DealRegistration) -> list[matching.Match]:
    return matches_for(customer_of(registration), exclude_id=registration.id,
                       organization_id=registration.organization_id)


@dataclass
class Precheck:
    """What a partner learns before submitting: nothing about other partners
    beyond "this customer appears to be protected already"."""

    protected_elsewhere: bool
    own: list[DealRegistration]


#: A match this strong with another partner's protected registration is reported.
PRECHECK_THRESHOLD = 80


def precheck(customer: matching.Customer, organization_id: int, exclude_id: int | None = None) -> Precheck:
    protected_elsewhere = False
    own = []
    for match in matches_for(customer, exclude_id=exclude_id, organization_id=organization_id):
        other = match.registration
        if other.organization_id == organization_id:
            own.append(other)
        elif other.is_protected and match.score >= PRECHECK_THRESHOLD:
            protected_elsewhere = True
    return Precheck(protected_elsewhere, own)


# -- the review -------------------------------------------------------------------------

def submit(registration: DealRegistration, actor: Any) -> list[matching.Match]:
    """Submit for review; approve at once when the program's rules say so and
    nothing conflicts. Returns the conflicts found."""
    now = utcnow()
    _move(registration, "submit", actor, values={"submitted_at": now}, now=now)
    # On SQLite the UPDATE above holds the write lock, so this sees every committed
    # registration; on PostgreSQL a concurrent one may still be invisible, and the
    # claims below decide.
    found = conflicts(registration)
    registration.conflict_score = max((m.score for m in found), default=None)
    rules = rules_for(registration.program_id)
    tier = tier_of(registration.organization_id, registration.program_id)
    if registration.conflict_score is None and tier is not None and tier in rules.auto_approve_tier_ids:
        try:
            approve(registration, None, automatic=True)
        except ClaimTaken:
            found = conflicts(registration)
            registration.conflict_score = max((m.score for m in found), default=100)
    db.session.flush()
    return found


def _claims(registration: DealRegistration) -> list[DealClaim]:
    keys = matching.claim_keys(customer_of(registration))
    # One total order (key, product) for every transaction: concurrent claims wait
    # for each other row by row and never deadlock.
    pairs = sorted((key[:260], product_id) for key in keys for product_id in registration.product_ids)
    return [DealClaim(key=key, product_id=product_id, registration_id=registration.id)
            for key, product_id in pairs]


def _settle_claim_holders(claims: list[DealClaim], now: datetime) -> None:
    """Expire lapsed registrations that still hold any of these claims."""
    if not claims:
        return
    keys = {c.key for c in claims}
    holder_ids = db.session.scalars(
        sa.select(DealRegistration.id)
        .join(DealClaim, DealClaim.registration_id == DealRegistration.id)
        .where(DealClaim.key.in_(keys), DealRegistration.status == S.APPROVED,
               DealRegistration.expires_at <= now)
        .distinct()
    ).all()
    for holder_id in holder_ids:
        holder = db.session.get(DealRegistration, holder_id)
        if holder is not None:
            settle(holder, now)


def take_claims(registration: DealRegistration, now: datetime | None = None) -> None:
    """Insert the registration's claims, or raise :class:`ClaimTaken` (nothing kept)."""
    now = now or utcnow()
    claims = _claims(registration)
    _settle_claim_holders(claims, now)
    try:
        with db.session.begin_nested():
            db.session.add_all(claims)
            db.session.flush()
    except IntegrityError:
        holders = db.session.scalars(
            sa.select(DealClaim.registration_id)
            .where(DealClaim.key.in_({c.key for c in claims}),
                   DealClaim.product_id.in_(registration.product_ids),
                   DealClaim.registration_id != registration.id)
            .distinct()
        ).all()
        raise ClaimTaken(sorted(holders)) from None


def approve(registration: DealRegistration, actor: Any, *, automatic: bool = False,
            note: str | None = None) -> None:
    """Protection starts now, for the program's protection period."""
    now = utcnow()
    settle(registration, now)
    if registration.status not in TRANSITIONS["approve"][0]:
        raise refusal("approve", registration)
    rules = rules_for(registration.program_id)
    take_claims(registration, now)
    _move(registration, "approve", actor, now=now, note=note, event_data={"automatic": automatic},
          values={"protected_at": now, "decided_at": now, "decided_by_id": _actor_id(actor),
                  "expires_at": now + timedelta(days=rules.protection_days),
                  "reminded_at": None, "extensions_used": 0})


def reject(registration: DealRegistration, actor: Any, reason: str) -> None:
    now = utcnow()
    _move(registration, "reject", actor, note=reason, now=now,
          values={"note": reason, "decided_at": now, "decided_by_id": _actor_id(actor)})


def request_info(registration: DealRegistration, actor: Any, question: str) -> None:
    _move(registration, "request_info", actor, note=question, values={"note": question})


def withdraw(registration: DealRegistration, actor: Any, note: str | None = None) -> None:
    _move(registration, "withdraw", actor, note=note, values={"note": note})


def win(registration: DealRegistration, actor: Any, final_value: Decimal, note: str | None = None) -> None:
    _move(registration, "win", actor, note=note, values={
        "final_value": final_value,
        "final_value_reporting": in_reporting_currency(final_value, registration.currency),
        "note": note,
    })


def lose(registration: DealRegistration, actor: Any, reason: str, note: str | None = None) -> None:
    _move(registration, "lose", actor, note=note, values={"lost_reason": reason, "note": note})


def expire(registration: DealRegistration, now: datetime | None = None) -> bool:
    """Expire one registration whose protection is over (the command's step)."""
    return settle(registration, now)


# -- extensions -------------------------------------------------------------------------

def extensions_left(registration: DealRegistration) -> int:
    return max(0, rules_for(registration.program_id).max_extensions - registration.extensions_used)


def request_extension(registration: DealRegistration, actor: Any, reason: str) -> None:
    now = utcnow()
    settle(registration, now)
    if registration.status is not S.APPROVED:
        raise refusal("extend", registration)
    rules = rules_for(registration.program_id)
    if registration.extensions_used >= rules.max_extensions:
        raise TransitionRefused(ngettext(
            "No extension is left: the program allows %(num)d extension.",
            "No extension is left: the program allows %(num)d extensions.",
            rules.max_extensions))
    if registration.extension_requested_at is not None:
        raise TransitionRefused(_("An extension is already requested and waits for review."))
    before = registration.audit_state()
    changed = _conditional_update(registration, [
        DealRegistration.status == S.APPROVED, DealRegistration.expires_at > now,
        DealRegistration.extension_requested_at.is_(None),
        DealRegistration.extensions_used < rules.max_extensions,
    ], {"extension_requested_at": now, "extension_reason": reason, "updated_at": now})
    if not changed:
        raise TransitionRefused(_("An extension is already requested and waits for review."))
    _history(registration, "extension_requested", actor, S.APPROVED, S.APPROVED, reason)
    emit("deal.extension_requested", registration, before=before, actor=actor)


def _decide_extension(registration: DealRegistration, actor: Any, grant: bool, note: str | None) -> None:
    now = utcnow()
    settle(registration, now)
    if registration.status is not S.APPROVED:
        raise refusal("extend", registration)
    if registration.extension_requested_at is None:
        raise TransitionRefused(_("No extension is requested for this registration."))
    before = registration.audit_state()
    values: dict[str, Any] = {"extension_requested_at": None, "updated_at": now}
    if grant:
        days = rules_for(registration.program_id).extension_days
        values.update(expires_at=registration.expires_at + timedelta(days=days),
                      extensions_used=registration.extensions_used + 1, reminded_at=None)
    changed = _conditional_update(registration, [
        DealRegistration.status == S.APPROVED,
        DealRegistration.extension_requested_at.is_not(None),
        DealRegistration.expires_at == registration.expires_at,
    ], values)
    if not changed:
        raise TransitionRefused(_("No extension is requested for this registration."))
    action = "extended" if grant else "extension_declined"
    _history(registration, action, actor, S.APPROVED, S.APPROVED, note)
    emit(f"deal.{action}", registration, before=before, actor=actor, note=note)


def grant_extension(registration: DealRegistration, actor: Any, note: str | None = None) -> None:
    _decide_extension(registration, actor, True, note)


def decline_extension(registration: DealRegistration, actor: Any, note: str | None = None) -> None:
    _decide_extension(registration, actor, False, note)


# -- comments and attachments ---------------------------------------------------------------

def comment(registration: DealRegistration, author: Any, body: str) -> DealComment:
    item = DealComment(registration_id=registration.id, author_id=_actor_id(author), body=body)
    db.session.add(item)
    db.session.flush()
    emit("deal.commented", registration, before=None, after={"comment": body}, actor=author,
         comment_id=item.id)
    return item


def attach(registration: DealRegistration, uploader: Any, filename: str, stored_name: str,
           content_type: str, size: int) -> DealAttachment:
    item = DealAttachment(registration_id=registration.id, uploaded_by_id=_actor_id(uploader),
                          filename=filename, stored_name=stored_name, content_type=content_type,
                          size=size)
    db.session.add(item)
    db.session.flush()
    emit("deal.attachment_added", registration, before=None, actor=uploader,
         after={"filename": filename, "size": size, "content_type": content_type})
    return item


def attachment_deletion_refusal(user: Any, registration: DealRegistration,
                                item: DealAttachment) -> ActionForbidden | TransitionRefused | None:
    """Why ``user`` may not delete ``item`` now (None: they may).

    Vendor staff who may review the registration delete any attachment in any
    state. While the registration is still open (draft, submitted, more
    information needed) the person who attached a file deletes it, and so does
    their organization's partner admin (``deals.colleague_attachments``) for a
    file any member of the organization attached; nobody else does, and no
    partner ever deletes a file the channel team attached.
    """
    if can(user, "deals.review", registration):
        return None
    if not can(user, "deals.comment", registration):
        return ActionForbidden(_("Only the person who attached this file, their organization's "
                                 "administrator or the channel team can delete it."))
    if not _uploaded_by(user, item):
        refused = _colleague_refusal(user, registration, item)
        if refused is not None:
            return refused
    if registration.effective_status not in ATTACHMENTS_REMOVABLE:
        return refusal("delete_attachment", registration)
    return None


def _uploaded_by(user: Any, item: DealAttachment) -> bool:
    return item.uploaded_by_id is not None and item.uploaded_by_id == _actor_id(user)


def _colleague_refusal(user: Any, registration: DealRegistration,
                       item: DealAttachment) -> ActionForbidden | None:
    """Why ``user``, who did not attach ``item``, may not delete it as their
    organization's admin (None: it is a colleague's file and they may)."""
    if not can(user, "deals.colleague_attachments", registration):
        return ActionForbidden(_("Only the person who attached this file, their organization's "
                                 "administrator or the channel team can delete it."))
    uploader = item.uploaded_by
    colleague = (uploader is not None and uploader.is_partner
                 and uploader.organization_id == registration.organization_id)
    if not colleague:
        # The channel team's file (or one whose uploader is no longer known).
        return ActionForbidden(_("Only the channel team can delete this file: nobody from your "
                                 "organization attached it."))
    return None


class AttachmentGone(Exception):
    """The attachment was deleted meanwhile (by another request)."""


def delete_attachment(registration: DealRegistration, item: DealAttachment, actor: Any) -> str:
    """Delete the attachment's row, with a history step and an event; returns
    the stored file's name. The caller removes the file once the transaction has
    committed (a rolled-back deletion must leave the file in place).

    Raises :class:`ActionForbidden` or :class:`TransitionRefused` (see
    :func:`attachment_deletion_refusal`; nothing changed) or :class:`AttachmentGone`.
    """
    refused = attachment_deletion_refusal(actor, registration, item)
    if refused is not None:
        raise refused
    now = utcnow()
    # The partner's right depends on the state: check it and lock the row in one
    # statement, so a review deciding the registration meanwhile is either seen
    # or waits for this deletion.
    where = [] if can(actor, "deals.review", registration) else [
        DealRegistration.status.in_(ATTACHMENTS_REMOVABLE)]
    if not _conditional_update(registration, where, {"updated_at": now}):
        raise refusal("delete_attachment", registration)
    before = {"attachment_id": item.id, **item.audit_state()}
    stored_name, filename = item.stored_name, item.filename
    deleted = db.session.execute(
        sa.delete(DealAttachment)
        .where(DealAttachment.id == item.id, DealAttachment.registration_id == registration.id)
    ).rowcount
    if deleted != 1:
        raise AttachmentGone()
    _history(registration, "attachment_deleted", actor, registration.status, registration.status, filename)
    emit("deal.attachment_deleted", registration, before=before, after={}, actor=actor,
         attachment_id=before["attachment_id"])
    return stored_name


# -- staff notes ------------------------------------------------------------------------------

def staff_notes(registration: DealRegistration) -> list[DealStaffNote]:
    """The registration's staff notes, newest first (for staff pages only)."""
    return list(db.session.scalars(
        sa.select(DealStaffNote).where(DealStaffNote.registration_id == registration.id)
        .options(selectinload(DealStaffNote.author))
        .order_by(DealStaffNote.created_at.desc(), DealStaffNote.id.desc())))


def add_staff_note(registration: DealRegistration, author: Any, body: str) -> DealStaffNote:
    """An internal note of vendor staff. It is audited but is no history step and
    notifies nobody: the history, notifications and emails reach partners."""
    if not can(author, "deals.staff_note", registration):
        raise ActionForbidden(_("Only the channel team can write staff notes."))
    item = DealStaffNote(registration_id=registration.id, author_id=_actor_id(author), body=body,
                         created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    emit("deal.staff_note_added", registration, before=None, after={"staff_note": body}, actor=author,
         staff_note_id=item.id)
    return item


class StaffNoteGone(Exception):
    """The staff note was deleted meanwhile (by another request)."""


def _writes_notes(user: Any, registration: DealRegistration) -> ActionForbidden | None:
    if not can(user, "deals.staff_note", registration):
        return ActionForbidden(_("Only the channel team can write staff notes."))
    return None


def _is_author(user: Any, note: DealStaffNote) -> bool:
    return note.author_id is not None and note.author_id == _actor_id(user)


def staff_note_edit_refusal(user: Any, registration: DealRegistration,
                            note: DealStaffNote) -> ActionForbidden | None:
    """Why ``user`` may not change ``note`` (None: they may). Only its author
    does, while they may write staff notes on the registration."""
    refused = _writes_notes(user, registration)
    if refused is None and not _is_author(user, note):
        refused = ActionForbidden(_("Only the author of a staff note can change it."))
    return refused


def staff_note_deletion_refusal(user: Any, registration: DealRegistration,
                                note: DealStaffNote) -> ActionForbidden | None:
    """Why ``user`` may not delete ``note`` (None: they may): its author and
    vendor admins (``deals.staff_note_moderate``) do."""
    refused = _writes_notes(user, registration)
    if refused is None and not (_is_author(user, note)
                                or can(user, "deals.staff_note_moderate", registration)):
        refused = ActionForbidden(_("Only the author of a staff note, or a vendor admin, can delete it."))
    return refused


def _locked_note(registration: DealRegistration, note: DealStaffNote) -> DealStaffNote:
    """The note as stored now, its row locked until the commit (PostgreSQL; SQLite
    has one writer at a time): the audit's "before" is what this change replaces."""
    current = db.session.scalar(
        sa.select(DealStaffNote)
        .where(DealStaffNote.id == note.id, DealStaffNote.registration_id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True))
    if current is None:
        raise StaffNoteGone()
    return current


def edit_staff_note(registration: DealRegistration, note: DealStaffNote, editor: Any,
                    body: str) -> DealStaffNote:
    """Change a staff note's text (its author only) and mark it edited. Audited
    (``deal.staff_note_edited``, the text before and after) like a new note: no
    history step, no notification, nothing a partner reads.

    Raises :class:`ActionForbidden` (nothing changed) or :class:`StaffNoteGone`.
    """
    note = _locked_note(registration, note)
    refused = staff_note_edit_refusal(editor, registration, note)
    if refused is not None:
        raise refused
    before = note.body
    note.body = body
    note.edited_at = utcnow()
    db.session.flush()
    emit("deal.staff_note_edited", registration, before={"staff_note": before},
         after={"staff_note": body}, actor=editor, staff_note_id=note.id)
    return note


def delete_staff_note(registration: DealRegistration, note: DealStaffNote, actor: Any) -> None:
    """Delete a staff note (its author, or a vendor admin). Audited
    (``deal.staff_note_deleted``, with the text it had) and nothing else.

    Raises :class:`ActionForbidden` (nothing changed) or :class:`StaffNoteGone`.
    """
    note = _locked_note(registration, note)
    refused = staff_note_deletion_refusal(actor, registration, note)
    if refused is not None:
        raise refused
    before = {"staff_note_id": note.id, "author_id": note.author_id, "staff_note": note.body}
    deleted = db.session.execute(
        sa.delete(DealStaffNote)
        .where(DealStaffNote.id == note.id, DealStaffNote.registration_id == registration.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted != 1:
        raise StaffNoteGone()
    db.session.expunge(note)
    emit("deal.staff_note_deleted", registration, before=before, after={}, actor=actor,
         staff_note_id=before["staff_note_id"])


# -- time ---------------------------------------------------------------------------------

def expire_due(now: datetime | None = None, batch: int = 500) -> int:
    """Expire every protection whose period is over; commit per batch. Safe to run
    on several hosts at once: each registration is expired by exactly one of them
    (a conditional UPDATE), and its event is raised once. Returns how many this
    call expired."""
    now = now or utcnow()
    expired = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            sa.select(DealRegistration.id)
            .where(DealRegistration.status == S.APPROVED, DealRegistration.expires_at <= now,
                   DealRegistration.id > last_id)
            .order_by(DealRegistration.id)
            .limit(batch)
        ).all()
        if not ids:
            return expired
        for registration_id in ids:
            registration = db.session.get(DealRegistration, registration_id)
            if registration is not None and settle(registration, now):
                expired += 1
        db.session.commit()
        last_id = ids[-1]


def remind_due(days: int, now: datetime | None = None) -> list[DealRegistration]:
    """Mark protections ending within ``days`` as reminded (once per protection
    period; an extension resets it) and raise ``deal.expiry_reminder`` for each.
    Like :func:`expire_due`, each one is claimed by one host only."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(DealRegistration)
        .where(DealRegistration.status == S.APPROVED, DealRegistration.expires_at > now,
               DealRegistration.expires_at <= now + timedelta(days=days),
               DealRegistration.reminded_at.is_(None))
        .order_by(DealRegistration.expires_at)
    ).all()
    reminded = []
    for registration in due:
        if _conditional_update(registration, [DealRegistration.status == S.APPROVED,
                                              DealRegistration.reminded_at.is_(None)],
                               {"reminded_at": now}):
            emit("deal.expiry_reminder", registration, before=None, actor=None)
            reminded.append(registration)
    db.session.commit()
    return reminded
