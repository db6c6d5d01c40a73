"""The per-process cache of computed figures (cowin_kit.reporting.cache)."""
from cowin_kit.reporting.cache import FiguresCache


def test_an_answer_is_computed_once_per_ttl_then_again():
    now = [0.0]
    cache = FiguresCache(clock=lambda: now[0])
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.get("k", 30, compute) == 1
    now[0] = 29
    assert cache.get("k", 30, compute) == 1
    now[0] = 31
    assert cache.get("k", 30, compute) == 2
    assert cache.get("other", 30, compute) == 3
    assert cache.get("k", 0, compute) == 4  # ttl 0: never cached


def test_the_oldest_entries_go_first():
    cache = FiguresCache(max_entries=2)
    for key in "abc":
        cache.get(key, 60, lambda key=key: key)
    assert cache.get("a", 60, lambda: "recomputed") == "recomputed"
    assert cache.get("c", 60, lambda: "recomputed") == "c"
