"""A bounded store for values a worker process keeps between requests, least
recently used dropped first (the layout's kept pieces, signed CSRF tokens)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import Flask


class LRUStore:
    """At most ``size`` values. Safe under a threaded server: two threads racing on
    the same key may each compute the value, never fail."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)
        if found is not None:
            try:
                self._items.move_to_end(key)
            except KeyError:  # another thread dropped it meanwhile
                pass
        return found

    def put(self, key: Hashable, value: Any) -> None:
        try:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        except KeyError:  # another thread changed the order meanwhile
            pass

    def __len__(self) -> int:
        return len(self._items)


def app_store(app: Flask, name: str, size: int) -> LRUStore:
    """The app's store called ``name`` (made on first use)."""
    store = app.extensions.get(name)
    if store is None:
        store = app.extensions[name] = LRUStore(size)
    return store
