"""Search helpers for tests: build the index, or damage it on purpose."""

from __future__ import annotations


def index_now() -> int:
    """Rebuild the current app's search index from its database (in an app context)."""
    from portal.search.indexer import rebuild

    return rebuild()


def damage_index() -> None:
    """Overwrite the live index's table of contents, as a crash or a full disk might."""
    from portal.search import service

    search = service()
    current = (search.path / "CURRENT").read_text().strip()
    for toc in (search.path / current).glob("*.toc"):
        toc.write_bytes(b"not a whoosh table of contents")
    search.backend.close()
