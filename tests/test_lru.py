"""The bounded store behind the layout's kept pieces and the signed CSRF tokens."""

from portal.lru import LRUStore


def test_the_least_recently_used_value_goes_first():
    store = LRUStore(2)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" is now the most recently used
    store.put("c", 3)
    assert (store.get("a"), store.get("b"), store.get("c")) == (1, None, 3)
    assert len(store) == 2


def test_putting_a_key_again_replaces_its_value_and_keeps_the_bound():
    store = LRUStore(2)
    store.put("a", 1)
    store.put("a", 2)
    store.put("b", 3)
    assert (store.get("a"), store.get("b"), len(store)) == (2, 3, 2)
