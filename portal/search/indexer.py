"""Keeping the index fresh: the queue of changed documents and the one writer.

A change and its queue entry commit together (``enqueue`` runs inside the
change's transaction), so no committed change is ever lost to the index. After
the commit the request returns at once; a background thread of the process
that made the change — or of any other worker, each polls the queue every
``SEARCH_POLL_SECONDS`` — takes the host's writer lock, re-reads those documents
from the database, commits them to the index and only then deletes the entries
it read. Whoever cannot get the lock leaves the work to whoever holds it, so no
lock error ever reaches a user, and an entry written while a batch runs stays
for the next batch.

Until its entry is done, a changed document is left out of search results
(:func:`pending_ids`): a page made staff-only is never found by partners in the
moment before the index catches up.

``SEARCH_INDEXING = "inline"`` (tests, command-line tools) processes the queue
right after each commit instead, in the same thread.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import SearchQueueEntry

QUEUED_KEY = "portal.search.queued"
#: Entries handled per index commit.
BATCH = 500
#: Most pending ids a search leaves out (a longer queue means a rebuild is running).
PENDING_LIMIT = 1000
LOCK_FILE = "writer.lock"


def enqueue(key: str) -> None:
    """Queue document ``key`` for re-indexing, in the current transaction."""
    db.session.add(SearchQueueEntry(key=key))
    db.session.info[QUEUED_KEY] = current_app._get_current_object()  # type: ignore[attr-defined]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    app = session.info.pop(QUEUED_KEY, None)
    if app is not None:
        app.extensions["portal.search"].changed()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(QUEUED_KEY, None)


def pending_ids() -> frozenset[str]:
    """Documents changed but not yet re-indexed (at most :data:`PENDING_LIMIT`)."""
    rows = db.session.scalars(
        sa.select(SearchQueueEntry.key).order_by(SearchQueueEntry.id).limit(PENDING_LIMIT)
    )
    return frozenset(rows)


@contextmanager
def writer_lock(path: Path, *, wait: bool) -> Iterator[bool]:
    """The host's one index writer: yields whether the lock was had."""
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def drain(*, wait: bool = False) -> int:
    """Apply queued changes to the index (in the current app context).

    Returns how many entries were handled; 0 when another process holds the
    writer lock (it will handle them). Builds the index first when there is none
    or it cannot be read.
    """
    service = current_app.extensions["portal.search"]
    with writer_lock(service.path, wait=wait) as locked:
        if not locked:
            return 0
        if not service.backend.state()["ok"] or service.backend.state()["state"] != "ready":
            return rebuild_locked()
        return _apply_queue()


def _apply_queue() -> int:
    from portal.search.documents import collect

    service = current_app.extensions["portal.search"]
    done = 0
    while True:
        rows = db.session.execute(
            sa.select(SearchQueueEntry.id, SearchQueueEntry.key)
            .order_by(SearchQueueEntry.id).limit(BATCH)
        ).all()
        if not rows:
            break
        keys = {key for _, key in rows}
        documents = list(collect(keys))
        found = {doc.id for doc in documents}
        service.backend.index(documents, delete=sorted(keys - found))
        db.session.execute(sa.delete(SearchQueueEntry).where(
            SearchQueueEntry.id.in_([entry_id for entry_id, _ in rows])))
        db.session.commit()
        done += len(rows)
    db.session.commit()  # end the read transaction (SQLite keeps a snapshot otherwise)
    return done


def rebuild(progress: Any = None, processes: int = 1) -> int:
    """Rebuild the whole index from the database; waits for the writer lock."""
    service = current_app.extensions["portal.search"]
    with writer_lock(service.path, wait=True):
        return rebuild_locked(progress, processes)


def rebuild_locked(progress: Any = None, processes: int = 1) -> int:
    """Rebuild while holding the writer lock. Queue entries seen before the
    rebuild read the database are settled by it; later ones stay queued."""
    from portal.search.documents import collect

    service = current_app.extensions["portal.search"]
    seen = list(db.session.scalars(sa.select(SearchQueueEntry.id)))
    count = service.backend.rebuild(collect(None), progress, processes)
    for start in range(0, len(seen), BATCH):
        db.session.execute(sa.delete(SearchQueueEntry).where(
            SearchQueueEntry.id.in_(seen[start:start + BATCH])))
    db.session.commit()
    _apply_queue()
    return count


class BackgroundIndexer:
    """One daemon thread per process: wakes on this process's commits and every
    ``SEARCH_POLL_SECONDS`` to check the queue; started on first use, and again
    in a forked worker (gunicorn forks after the app is built)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.poll = float(app.config["SEARCH_POLL_SECONDS"])
        self._wake = threading.Event()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopping = False

    def ensure_running(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._wake = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="portal-search-indexer",
                                            daemon=True)
            self._thread.start()
            import atexit

            atexit.register(self._finish)

    def _finish(self) -> None:
        """At exit (a script that changed documents): let the current round finish
        and the queue drain, for at most ``SEARCH_EXIT_WAIT`` seconds."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        self._stopping = True
        self._wake.set()
        thread.join(float(self.app.config.get("SEARCH_EXIT_WAIT", 30)))

    def wake(self) -> None:
        self.ensure_running()
        self._wake.set()

    def _run(self) -> None:
        failures = 0
        while True:
            # After a failure, wait longer each time (up to a minute): the queue
            # keeps the work, and a broken database must not flood the log.
            self._wake.wait(self.poll if not failures else min(60.0, self.poll * 2 ** failures))
            self._wake.clear()
            try:
                with self.app.app_context():
                    try:
                        self._round()
                    finally:
                        db.session.remove()
                failures = 0
                if self._stopping:
                    return
            except Exception:  # noqa: BLE001 - keep the thread alive
                failures += 1
                if failures in (1, 5) or failures % 50 == 0:
                    self.app.logger.exception("search indexer round failed (%d in a row)", failures)
                if self._stopping:
                    return

    def _round(self) -> None:
        """Drain until the queue is empty or another process is the writer (then
        look again shortly: it may finish before our entries are in)."""
        while True:
            has_work = db.session.scalar(sa.select(SearchQueueEntry.id).limit(1)) is not None
            db.session.commit()
            service = self.app.extensions["portal.search"]
            if not has_work and service.backend.state()["state"] == "ready":
                return
            if drain() == 0:
                if not has_work:
                    return
                time.sleep(min(0.1, self.poll))
