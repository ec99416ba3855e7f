"""Resource search: one permission-aware, multilingual index of what partners may see.

* :mod:`portal.search.backend` — the interface any engine implements;
  :mod:`portal.search.whoosh_backend` and :mod:`portal.search.executor` — Whoosh;
* :mod:`portal.search.analysis` — stemming and folding per language;
* :mod:`portal.search.documents` — documents from the core and from plugins;
* :mod:`portal.search.indexer` — the queue of changes and the background writer;
* :mod:`portal.search.views` — the header box, live results and the results page;
* :mod:`portal.search.cli` — ``portal search reindex`` and ``portal search status``.

Code asks for results with :func:`search_for`; everything a user may not open is
left out inside the query, counts and facets included.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import get_locale

from portal.audience import reach_tokens
from portal.search.backend import SearchBackend, SearchRequest, SearchResults
from portal.search.query import parse

__all__ = ["SearchService", "init_app", "search_for", "service"]


class SearchService:
    """The app's search: its backend, its indexer and how changes reach them."""

    def __init__(self, app: Flask, backend: SearchBackend) -> None:
        from portal.search.indexer import BackgroundIndexer

        self.app = app
        self.path = Path(app.config["SEARCH_INDEX_PATH"])
        self.backend = backend
        self.mode = app.config["SEARCH_INDEXING"]
        self.indexer = BackgroundIndexer(app)

    def changed(self) -> None:
        """A transaction with queued documents committed."""
        if self.mode == "inline":
            from portal.search.indexer import drain

            with self.app.app_context():
                drain(wait=True)
        elif self.mode == "background":
            self.indexer.wake()

    def on_event(self, event: Any) -> None:
        """Queue the document of the event's subject, when it may be one."""
        subject_type, subject_id = event.subject_type, event.subject_id
        if not subject_type or subject_id is None:
            return
        from portal.search.documents import document_tables
        from portal.search.indexer import enqueue

        if str(subject_type).startswith(document_tables()):
            enqueue(f"{subject_type}:{subject_id}")


def service(app: Flask | None = None) -> SearchService:
    return (app or current_app).extensions["portal.search"]


def backend_factory(spec: str) -> Any:
    """``"package.module:Class.method"`` -> that callable (``SEARCH_BACKEND``)."""
    import importlib

    module, _, attribute = spec.partition(":")
    found: Any = importlib.import_module(module)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


def init_app(app: Flask) -> None:
    from portal.search import cli, views

    search = SearchService(app, backend_factory(app.config["SEARCH_BACKEND"])(app))
    app.extensions["portal.search"] = search
    # The backend keeps index files open between requests; they are closed with
    # the app (a test's app, a worker's at exit), not left to the garbage collector.
    weakref.finalize(app, search.backend.close)
    app.extensions["portal.events"].connect(search.on_event)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.search_group)


def search_for(user: Any, text: str | None, *, as_you_type: bool = False, kinds: tuple[str, ...] = (),
               tags: tuple[str, ...] = (), language: str | None = None, page: int = 1,
               per_page: int = 10, facets: bool = True) -> SearchResults:
    """What ``user`` finds for ``text``: only documents they may open.

    Searches the user's language and the deployment's default language (the
    language most vendor content is written in). Documents changed but not yet
    re-indexed are left out until they are.
    """
    from portal.permissions import policy
    from portal.plugins import active_plugins, host
    from portal.search.indexer import pending_ids

    words = parse(text, as_you_type=as_you_type)
    reach = reach_tokens(user)
    languages = tuple(dict.fromkeys([str(get_locale() or ""), current_app.config["BABEL_DEFAULT_LOCALE"]]))
    signed_in = bool(getattr(user, "is_authenticated", False))
    if reach.everything:
        plugins = None
        permissions = None
    else:
        plugins = frozenset(active_plugins(user)) if signed_in else frozenset()
        permissions = frozenset(p for p in policy().permissions()
                                if signed_in and user.role in policy().roles_for(p))
        # A loaded plugin that is not on for the user: none of its documents.
        plugins = plugins & frozenset(host().loaded)
    request = SearchRequest(
        words=words, reach=reach, languages=tuple(lang for lang in languages if lang),
        plugins=plugins, permissions=permissions, kinds=kinds, tags=tags, language=language,
        exclude_ids=pending_ids(), page=max(1, page), per_page=per_page, facets=facets,
    )
    search = service()
    if search.mode == "background":
        # Started on first use in each worker (gunicorn forks after start-up); from
        # then on it also picks up changes made by other processes and scripts.
        search.indexer.ensure_running()
    if words.empty:
        return SearchResults([], 0, request.page, per_page, searched=False)
    return search.backend.search(request)
