"""Where search documents come from: the core's sources and every loaded plugin.

The core's resource library and each plugin hand over plain mappings (see the
``portal_searchable_documents`` hook); this module checks them, turns their
audience into tokens (:mod:`portal.audience`) and yields
:class:`~portal.search.backend.SearchDocument` objects. A plugin whose
documents are malformed is reported like any failing hook and the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

from flask import current_app

from portal.audience import content_tokens
from portal.search.backend import SearchDocument

Source = Callable[..., Any]

#: Longest title and body kept in the index (characters).
MAX_TITLE = 300
MAX_BODY = 100_000


def core_sources() -> list[tuple[str, Source, dict[str, Any]]]:
    """The core's document sources: (name, documents function, kinds)."""
    from portal.resources import search as resources

    return [("core", resources.searchable_documents, resources.KINDS)]


def kinds() -> dict[str, Any]:
    """Every kind of document with its (lazy) label: the core's, then plugins'."""
    from portal.plugins import host

    found: dict[str, Any] = {}
    for _, _, labels in core_sources():
        found.update(labels)
    for plugin, labels in host().call("portal_search_kinds"):
        if isinstance(labels, dict):
            found.update({k: v for k, v in labels.items() if str(k).startswith(plugin + ".")})
    return found


def document_tables() -> tuple[str, ...]:
    """Table-name prefixes whose records may be documents: the core's resource pages
    and the tables of every plugin that offers documents (``<plugin>_…``)."""
    from portal.plugins import host

    plugin_host = host()
    prefixes = ["resource_page"]
    for impl in plugin_host.manager.hook.portal_searchable_documents.get_hookimpls():
        prefixes.append(f"{impl.plugin_name}_")
    return tuple(prefixes)


def estimate() -> int:
    """About how many documents a rebuild will index (for its progress bar):
    the core's exactly, plus each plugin's count when it offers one."""
    from portal.resources import search as resources

    return resources.count()


def collect(keys: Collection[str] | None = None) -> Iterator[SearchDocument]:
    """Every current document (``keys=None``) or those of ``keys``."""
    for name, source, _ in core_sources():
        yield from _checked(name, source(since=None, keys=keys), keys)
    from portal.plugins import host

    plugin_host = host()
    for impl in reversed(plugin_host.manager.hook.portal_searchable_documents.get_hookimpls()):
        plugin = impl.plugin_name
        # An implementation written before ``keys`` existed yields everything;
        # :func:`_checked` then keeps only the ids asked for (slower, still right).
        args = {"since": None, "keys": keys}
        try:
            produced = impl.function(**{k: v for k, v in args.items() if k in impl.argnames})
            yield from _checked(plugin, produced or (), keys)
        except Exception as error:  # noqa: BLE001 - one plugin must not stop the index
            import traceback

            plugin_host._fail(plugin, "portal_searchable_documents",
                              f"{type(error).__name__}: {error}", traceback.format_exc())


def _checked(source: str, items: Any, keys: Collection[str] | None) -> Iterator[SearchDocument]:
    for item in items:
        if keys is not None and isinstance(item, dict) and item.get("id") not in keys:
            continue
        try:
            yield to_document(source, item)
        except (KeyError, TypeError, ValueError) as error:
            current_app.logger.warning("search: %s gave a document that is not valid (%s): %r",
                                       source, error, str(item)[:200])
            if source != "core":
                from portal.plugins import host

                host()._fail(source, "portal_searchable_documents",
                             f"invalid document: {type(error).__name__}: {error}")


def to_document(source: str, item: dict[str, Any]) -> SearchDocument:
    """Check one mapping and make it a document; raises ``ValueError`` when it is unusable."""
    if not isinstance(item, dict):
        raise TypeError("a document is a mapping")
    doc_id, kind = str(item["id"]), str(item["kind"])
    if ":" not in doc_id:
        raise ValueError(f"id {doc_id!r} is not '<table>:<key>'")
    if source != "core" and not kind.startswith(source + "."):
        raise ValueError(f"kind {kind!r} must start with {source + '.'!r}")
    url = str(item["url"])
    if not url.startswith("/"):
        raise ValueError(f"url {url!r} must be a path on the portal")
    organization_id = item.get("organization_id")
    tokens = content_tokens(item.get("audience") or "staff",
                            organization_id=int(organization_id) if organization_id is not None else None)
    updated = item.get("updated_at")
    if updated is not None and not isinstance(updated, datetime):
        raise ValueError("updated_at must be a datetime")
    tags = item.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    return SearchDocument(
        id=doc_id,
        kind=kind,
        title=str(item.get("title") or "")[:MAX_TITLE],
        body=str(item.get("body") or "")[:MAX_BODY],
        url=url,
        language=str(item.get("language") or current_app.config["BABEL_DEFAULT_LOCALE"]),
        tokens=tokens,
        plugin=source,
        summary=str(item.get("summary") or "")[:500],
        tags=[str(t).strip().lower().replace(",", " ")[:40] for t in tags if str(t).strip()][:20],
        organization_id=int(organization_id) if organization_id is not None else None,
        updated_at=updated,
        permission=str(item["permission"]) if item.get("permission") else None,
    )
