"""``portal search``: rebuild the index, see its state."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db

search_group = AppGroup("search", help="The resource search index.")


@search_group.command("reindex")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes that build the index while this one reads the "
                   "documents (at most one per core helps).")
def reindex_command(processes: int) -> None:
    """Rebuild the search index from the database (searches keep working meanwhile)."""
    from portal.search import service
    from portal.search.indexer import rebuild

    from portal.search.documents import estimate

    search = service()
    expected = max(search.backend.state().get("documents") or 0, estimate(), 1)
    with click.progressbar(length=expected, label="Indexing documents", show_pos=True) as bar:
        count = rebuild(progress=bar.update, processes=processes)
    click.echo(f"Search index rebuilt: {count} documents in {search.path}")


@search_group.command("status")
def status_command() -> None:
    """Show the index state, its size and how many changes wait for it."""
    from portal.models import SearchQueueEntry
    from portal.search import service

    state = service().backend.state()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueEntry)) or 0
    click.echo(f"Index: {state['state']} ({current_app.config['SEARCH_INDEX_PATH']})")
    click.echo(f"Documents: {state.get('documents', 0)}")
    click.echo(f"Changes waiting: {waiting}")
    if not state["ok"]:
        click.echo("Run `portal search reindex` to rebuild it.", err=True)
        click.get_current_context().exit(1)
