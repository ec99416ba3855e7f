"""Several worker processes change documents at once; the index loses none of it.

Each process is what a gunicorn worker is: its own app on the shared database and
index folder, indexing in the background. They publish pages as fast as they
can; no request waits for the index, no lock error surfaces (an error logged by
an indexer thread fails the test), and in the end every page is found.
"""

from __future__ import annotations

import logging
import multiprocessing
import time

import sqlalchemy as sa

from portal.extensions import db
from portal.models import SearchQueueEntry, User

WRITERS = 3
PAGES_EACH = 12


def _writer(config: dict, instance: str, number: int, results) -> None:  # pragma: no cover - child
    from portal import create_app
    from portal.events import emit
    from portal.testing import factories

    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    app = create_app(config, instance_path=instance)
    app.logger.addHandler(Collect())
    slowest = 0.0
    with app.app_context():
        for n in range(PAGES_EACH):
            started = time.perf_counter()
            page = factories.resource_page(f"Parallel launch kit {number}-{n}", "partners",
                                           body="Everything for the parallel launch.")
            emit("resource.published", page)
            db.session.commit()
            slowest = max(slowest, time.perf_counter() - started)
        # Wait for this process's (or another's) indexer to empty the queue.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueEntry))
            db.session.commit()
            if not waiting:
                break
            time.sleep(0.1)
        db.session.remove()
        db.engine.dispose()
    results.put((number, errors, slowest))


def test_parallel_writer_processes_lose_no_update(app, world, tmp_path):
    from portal.search import search_for
    from portal.search.indexer import rebuild

    rebuild()  # an empty index exists: the writers only update it
    config = {key: value for key, value in app.config.items()
              if key.isupper() and isinstance(value, (str, int, float, bool, list, dict, type(None)))}
    config.update(SEARCH_INDEXING="background", SEARCH_POLL_SECONDS=0.2)
    admin_id = world.vendor_admin.id
    db.session.remove()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_writer, args=(config, app.instance_path, i, results))
                 for i in range(WRITERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    for number, errors, slowest in outcomes:
        assert errors == [], f"writer {number} logged errors: {errors}"
        # The request never waited for an index commit (those take ~0.1 s each).
        assert slowest < 2.0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueEntry)) == 0
    with app.test_request_context():
        found = search_for(db.session.get(User, admin_id), "parallel", per_page=50)
    assert found.total == WRITERS * PAGES_EACH
    assert {hit.title for hit in found.hits} == {
        f"Parallel launch kit {i}-{n}" for i in range(WRITERS) for n in range(PAGES_EACH)}
