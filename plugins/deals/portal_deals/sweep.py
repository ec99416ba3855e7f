"""Orphaned attachment files: files in the attachment storage that no attachment
row refers to. They are left by a deletion whose file could not be removed after
the commit (logged, see ``views._remove_stored_file``) and by a crash between
writing an upload and committing its row. ``portal deals sweep-files`` removes them.

What keeps it safe:

* only the entries of the storage folder itself are looked at — no subfolder,
  no symbolic link, and only names the storage gives (``<32 hex>.<ext>`` and
  their ``.tmp``); anything else there is left alone;
* a file younger than ``older_than`` is never removed: an upload writes its file
  before its row is committed;
* rows are looked up after the folder is listed, so a file whose row commits
  meanwhile is seen as referenced; a file already gone (another host's sweep, a
  deletion) is not an error. Several hosts may sweep the same storage at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from portal.extensions import db
from portal.models import utcnow
from portal_deals import storage
from portal_deals.models import DealAttachment

#: Stored names looked up in one query.
BATCH = 500


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int


@dataclass
class SweepReport:
    """What one sweep saw and did."""

    folder: Path
    dry_run: bool
    orphans: int = 0
    orphan_bytes: int = 0
    removed: int = 0
    removed_bytes: int = 0
    already_gone: int = 0
    referenced: int = 0
    recent: int = 0
    ignored: int = 0
    #: (stored name, reason) of the orphans that could not be removed
    failed: list[tuple[str, str]] = field(default_factory=list)


def sweep_orphans(older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None,
                  batch: int = BATCH) -> SweepReport:
    """Find (and unless ``dry_run``, remove) the stored files older than
    ``older_than`` that no attachment refers to."""
    report = SweepReport(folder=storage.folder(), dry_run=dry_run)
    cutoff = ((now or utcnow()) - older_than).timestamp()
    for chunk in _chunks(_old_files(report, cutoff), batch):
        referenced = _referenced({item.name for item in chunk})
        for item in chunk:
            if item.name in referenced:
                report.referenced += 1
            else:
                _orphan(report, item)
    return report


def _old_files(report: SweepReport, cutoff: float) -> Iterator[StoredFile]:
    try:
        entries = os.scandir(report.folder)
    except FileNotFoundError:
        return  # nothing was ever attached
    with entries:
        for entry in entries:
            item = _stored_file(report, entry, cutoff)
            if item is not None:
                yield item


def _stored_file(report: SweepReport, entry: os.DirEntry[str], cutoff: float) -> StoredFile | None:
    """The entry as a stored file old enough to sweep (None: leave it alone)."""
    try:
        if not (storage.is_stored_name(entry.name) and entry.is_file(follow_symlinks=False)):
            report.ignored += 1
            return None
        info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None  # removed since the folder was listed
    if info.st_mtime > cutoff:
        report.recent += 1
        return None
    return StoredFile(entry.name, info.st_size)


def _chunks(items: Iterable[StoredFile], size: int) -> Iterator[list[StoredFile]]:
    chunk: list[StoredFile] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _referenced(names: set[str]) -> set[str]:
    """The names among ``names`` that an attachment row refers to."""
    # A connection of its own, given back at once: no transaction stays open
    # between batches, and the caller's session is left as it was.
    with db.engine.connect() as connection:
        return set(connection.scalars(
            sa.select(DealAttachment.stored_name).where(DealAttachment.stored_name.in_(names))))


def _orphan(report: SweepReport, item: StoredFile) -> None:
    report.orphans += 1
    report.orphan_bytes += item.size
    if report.dry_run:
        return
    try:
        removed = storage.remove(item.name)
    except OSError as error:
        report.failed.append((item.name, error.strerror or str(error)))
        return
    if removed:
        report.removed += 1
        report.removed_bytes += item.size
    else:
        report.already_gone += 1
