"""Memo tables that store only while they pay (modelcheck/engine/memo.py), and the
search staying the same whatever they decide."""
from __future__ import annotations

import os
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


def _spied_models(monkeypatch) -> list:
    """Every PackedModel the next searches build, in order."""
    made = []
    real = packed.PackedModel.__init__

    def spy(self, *a, **kw):
        real(self, *a, **kw)
        made.append(self)

    monkeypatch.setattr(packed.PackedModel, "__init__", spy)
    return made


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
    made = _spied_models(monkeypatch)
    r = explore(model, Options(max_states=60_000))
    pm = made[0]
    assert r.stats.distinct_states >= 60_000
    assert len(pm._inbox) <= AdaptiveMemo.FIRST_WINDOW
    assert len(pm._send) <= AdaptiveMemo.FIRST_WINDOW  # bytes sends skip it
    assert len(model._inv_memo.table) == 0  # the packed search memoises by ids itself


def test_a_table_holds_no_more_entries_than_the_room_the_search_gives():
    """memo.follow: a table is emptied when it reaches the room (a few entries a
    stored state), so memory follows the visited set; follow(None) lifts it."""
    from modelcheck.engine import memo as memo_mod
    memo = AdaptiveMemo(1 << 17)
    try:
        memo_mod.follow(1)  # the floor: MIN_ROOM entries
        for k in range(3 * memo_mod.MIN_ROOM):  # every key asked twice: the table pays
            _lookup(memo, k)
            _lookup(memo, k)
            assert len(memo.table) <= memo_mod.MIN_ROOM
        assert memo.storing
        memo_mod.follow(4 * memo_mod.MIN_ROOM)  # the search has stored more states
        for k in range(3 * memo_mod.MIN_ROOM, 6 * memo_mod.MIN_ROOM):
            _lookup(memo, k)
            _lookup(memo, k)
        assert memo_mod.MIN_ROOM < len(memo.table) <= 4 * memo_mod.MIN_ROOM
    finally:
        memo_mod.follow(None)
    assert memo_mod.ROOM[0] > 1 << 40


@pytest.mark.parametrize("workers", [1, 2])
def test_memos_follow_the_states_a_symmetric_search_stores(monkeypatch, workers):
    """With symmetry, a search of a few thousand states makes many more canonical
    forms than it stores; its memo tables stay within the room (memo.follow), the
    counts stay those of the unbounded tables, and the room is lifted at the end."""
    from modelcheck.engine import memo as memo_mod
    text = (ROOT / "bench" / "promela" / "vote_count.ha").read_text()
    model = pipeline(text, consts={"N": 4})
    monkeypatch.setattr(memo_mod, "MIN_ROOM", 256)
    sizes = []
    real = AdaptiveMemo.store
    parent = os.getpid()

    def spy(self, key, value):
        r = real(self, key, value)
        if workers == 1:
            sizes.append((len(self.table), memo_mod.ROOM[0]))
        elif os.getpid() != parent:  # in a worker process (forked with this spy): a
            # failed assertion there fails the search, hence the test
            assert len(self.table) <= memo_mod.ROOM[0] < 1 << 40, "a worker's memo outgrew its room"
        return r

    monkeypatch.setattr(AdaptiveMemo, "store", spy)
    r = explore(model, Options(workers=workers, symmetry=True))
    assert r.stats.distinct_states == 30026 and r.stats.states_without_symmetry == 701056
    if workers == 1:  # (each worker process checks its own tables, in the spy)
        assert sizes and all(n <= room < 1 << 40 for n, room in sizes)
        assert max(n for n, _ in sizes) <= memo_mod.ROOM_PER_STATE * 30026 < AdaptiveMemo(1 << 17).limit
    assert memo_mod.ROOM[0] > 1 << 40


def test_outcomes_whose_keys_never_repeat_are_not_kept(monkeypatch):
    """A node whose variables never repeat (a counter): its outcome memo misses on
    every state, so it stops storing after its first window instead of keeping an
    entry per state."""
    model = pipeline("""spec counter
role One {
  var n: 0..9000 = 0
  action inc when n < 9000 { n += 1 }
}
invariant small: One.n <= 9000
""")
    made = _spied_models(monkeypatch)
    r = explore(model, Options(symmetry=False))
    assert r.verdict == "holds" and r.stats.distinct_states == 9001
    assert len(made[0]._outs) < AdaptiveMemo.FIRST_WINDOW
    assert not made[0]._outs_memo.storing  # judged after its first window: no hit


SHARED = """spec shared
role Node {
  var flags: seq<bool, 2> = [false, false]
  var bits: seq<0..1, 2> = [0, 0]
  var pair: (bool, 0..1) = (false, 0)
  var seen: set<0..1> = {}
  var m: map<0..1, bool> = {}
  action f(i: 0..1) { flags[i] = not flags[i] }
  action b(i: 0..1) { bits[i] = 1 - bits[i] }
  action p { pair = (not pair[0], 1 - pair[1]) }
  action s(i: 0..1) { seen |= {i} }
  action put(i: 0..1) { m[i] = true }
}
invariant not_all: not (Node.flags == [true, true] and Node.bits == [1, 1] and 0 in Node.seen)
"""


def test_node_values_share_equal_variable_values_and_keep_their_types(monkeypatch):
    """PackedModel._node_id: every stored node value holds one object per distinct
    value of each variable, and a seq of bools is never given for the equal seq of
    ints ([true, false] == [1, 0] in Python): the search, its findings and its
    traces are the State engine's."""
    model = pipeline(SHARED)
    made = _spied_models(monkeypatch)
    for kw in ({"symmetry": False}, {"symmetry": False, "collect_all": True}):
        a, b = _pair(model, **kw)
        _same(a, b)
    values = made[0].nodes.values
    for j in range(5):
        column = [v[j] for v in values]
        assert len({id(x) for x in column}) == len(set(column)), j  # one object per value
    for v in values:
        flags, bits, pair, _, m = v
        assert all(x is True or x is False for x in flags) and all(type(x) is int for x in bits)
        assert (pair[0] is True or pair[0] is False) and type(pair[1]) is int
        assert all(x is True or x is False for _, x in m)
    assert any(v[0] == v[1] for v in values)  # equal values that are not the same object
