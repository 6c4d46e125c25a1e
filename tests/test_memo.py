"""Memo tables that store only while they pay (modelcheck/engine/memo.py), and the
search staying the same whatever they decide."""
from __future__ import annotations

from pathlib import Path

import pytest

from modelcheck.engine import packed
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.memo import AdaptiveMemo

from test_packed import _pair, _same, pipeline

ROOT = Path(__file__).resolve().parent.parent


def _lookup(memo: AdaptiveMemo, key):
    """What the generated code does: a hit counts, a miss stores."""
    v = memo.table.get(key)
    if v is None:
        return memo.store(key, ("value", key))
    memo.hits[0] += 1
    return v


def test_a_table_that_never_hits_stops_storing_after_its_first_window():
    memo = AdaptiveMemo(1 << 17)
    for k in range(AdaptiveMemo.FIRST_WINDOW):
        _lookup(memo, k)
    assert not memo.storing and memo.table == {}
    for k in range(10_000):  # while off: nothing is kept
        assert _lookup(memo, ("new", k)) == ("value", ("new", k))
    assert memo.table == {}


def test_a_table_that_is_off_tries_again_after_limit_misses():
    memo = AdaptiveMemo(1 << 13)
    for k in range(AdaptiveMemo.FIRST_WINDOW):
        _lookup(memo, k)
    assert not memo.storing
    for k in range(1 << 13):
        _lookup(memo, ("off", k))
    assert memo.storing  # on again; now keys repeat: it stays on and keeps them
    for _ in range(50):
        for k in range(100):
            _lookup(memo, ("hot", k))
    assert memo.storing and len(memo.table) >= 100


def test_a_table_that_hits_keeps_its_entries_and_never_passes_its_limit():
    limit = 1 << 14
    memo = AdaptiveMemo(limit)
    for round_ in range(30):
        for k in range(round_ * 1000, round_ * 1000 + 3000):  # two thirds repeat
            _lookup(memo, k)
            assert len(memo.table) <= limit
    assert memo.storing and memo.window == limit


@pytest.mark.parametrize("first", [1, 8, 64])
def test_the_search_is_the_same_whatever_the_memos_decide(monkeypatch, first):
    """Tiny windows switch the memos off and on all along a search: the packed
    search still matches the State one, state for state."""
    monkeypatch.setattr(AdaptiveMemo, "FIRST_WINDOW", first)
    text = (ROOT / "bench" / "promela" / "vote_count.ha").read_text()
    model = pipeline(text, consts={"N": 3})
    a, b = _pair(model, collect_all=True)
    _same(a, b)
    assert a.stats.distinct_states == 1108  # Spin's count (tests/test_spin_crosscheck.py)


def test_networks_that_never_repeat_leave_the_network_memos_small(monkeypatch):
    """vote_count: almost every state has its own network, so the inbox memo stops
    storing after its first window, and the invariants' memo likewise."""
    text = (ROOT / "bench" / "promela" / "vote_count.ha").read_text()
    model = pipeline(text, consts={"N": 4})
    made = []
    real = packed.PackedModel.__init__

    def spy(self, *a, **kw):
        real(self, *a, **kw)
        made.append(self)

    monkeypatch.setattr(packed.PackedModel, "__init__", spy)
    r = explore(model, Options(max_states=60_000))
    pm = made[0]
    assert r.stats.distinct_states >= 60_000
    assert len(pm._inbox) <= AdaptiveMemo.FIRST_WINDOW
    assert len(pm._send) <= AdaptiveMemo.FIRST_WINDOW  # bytes sends skip it
    assert len(model._inv_memo.table) == 0  # the packed search memoises by ids itself
