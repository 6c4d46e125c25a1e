"""The packed engine's own shortcuts against the search on `State`s: dead messages
dropped (prune/dead.py, `Collector.packed`: incremental per successor) and the
invariants memoised per invariant by the slots each reads
(invariants.per_invariant, CodeGen.source_parts).

Both must be invisible: the same states in the same order, so the same counts,
depth, first violation and trace as `Options(packed=False)`, which drops dead
messages from whole `State`s and evaluates every invariant on every new state.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, pipeline
from test_packed import _model, _same
from test_pruning import SEEDS, term_spec

from modelcheck.engine import packed
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.invariants import part_indexes
from modelcheck.engine.model import build
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.lang.parser import parse

ON = {"skip_partitions": True, "drop_dead_messages": True}  # verify's defaults
SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))
CAP = 6_000  # states per comparison (both searches stop at the same state): keeps CI short


def _pair(model, **kw):
    return explore(model, Options(**kw)), explore(model, Options(packed=False, **kw))


@pytest.mark.parametrize("name", SPECS)
def test_example_specs_dead_messages_same_search(name):
    model = _model(name)
    _same(*_pair(model, max_states=CAP, **ON))
    _same(*_pair(model, max_states=CAP, collect_all=True, **ON))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_term_specs_dead_messages_same_search(seed):
    model = pipeline(term_spec(seed))
    _same(*_pair(model, collect_all=True, max_states=CAP, **ON))
    _same(*_pair(model, max_states=CAP, symmetry=True, **ON))


def test_paxos_counts_with_dead_messages():
    """A model where most successors send (delivery set): the incremental path for
    new messages. Pinned counts (bench/models/paxos.ha's header)."""
    path = ROOT / "bench" / "models" / "paxos.ha"
    source = Source(str(path), path.read_text())
    model = build(check(parse(source), {"V": 2, "P": 1}), source)
    fast, slow = _pair(model, **ON)
    _same(fast, slow)
    assert (fast.verdict, fast.stats.distinct_states) == ("holds", 4_955)
    fast, slow = _pair(model, **ON, symmetry=True)
    _same(fast, slow)
    assert fast.stats.distinct_states == 1_065


WIDE_TERMS = """
spec wide
network { delivery DELIVERY }
message Req(t: 0..2, x: 0..99)
role S[3] {
  persistent var term: 0..2 = 0
  action timeout(x: 0..99) when term < 2 {
    term += 1
    broadcast Req(term, x)
  }
  on Req(t, x) from c when t > term {
    term = t
  }
}
invariant bounded: forall s in S: s.term <= 2
"""


@pytest.mark.parametrize("mode", ["set", "unordered"])
def test_dead_messages_past_one_byte_ids(mode):
    """600 distinct messages after one step: networks with ids from 256 on are str
    (one character per id, packed.NetCodec), and the collector drops dead messages
    from those as from bytes."""
    model = pipeline(WIDE_TERMS.replace("DELIVERY", mode))
    fast, slow = _pair(model, max_states=3_000, **ON)
    _same(fast, slow)
    assert fast.stop_reason == "max-states"
    pm = packed.PackedModel(model)
    level = pm.successors(pm.initial)
    assert len(level) == 300 and len({m for s in level for m in s[pm.k + 1]}) > 1
    assert any(type(s[pm.k + 1]) is str for t in level[-10:] for s in pm.successors(t) if s is not None)


PARTS = """
spec parts
const N = 2
message Ping(x: 0..2)
network { delivery set }
ghost var bumps: set<(A, 0..3)> = {}

role A[N] {
  var a: 0..3 = 0
  var buddy: node = B[0]
  action bump when a < 3 {
    a += 1
    bumps |= {(self, a)}
  }
  action ping(x: 1..2) {
    send Ping(x) to buddy
  }
}

role B[N] {
  var b: 0..2 = 0
  on Ping(x) from s {
    b = x
  }
}

faults { crash at most 2 }

invariant few_bumps: len(bumps) < 4
invariant small_a: forall x in A: x.a <= 2
invariant some_b_up: count(y in B where crashed(y)) < 2
invariant buddies_low: forall x in A: x.buddy.b < 2
invariant two: N == 2
"""


def test_each_invariant_is_memoised_by_what_it_reads():
    model = pipeline(PARTS)
    pm = packed.PackedModel(model)
    k = pm.k  # A[0], A[1], B[0], B[1]; then up, net, cut, ghosts
    slots = {inv.name: part_indexes(pm, inv.parts) for inv in model.invariants}
    assert slots == {"few_bumps": (k + 3,), "small_a": (0, 1), "some_b_up": (k,),
                     "buddies_low": tuple(range(k)), "two": ()}
    assert part_indexes(pm, None) == tuple(range(k + 1)) + (k + 3,)


@pytest.mark.parametrize("faults", [True, False])
@pytest.mark.parametrize("symmetry", [True, False])
def test_per_invariant_memo_same_findings(faults, symmetry):
    """Invariants over different slots, violated at different depths: the same first
    violation and the same findings (each on its shortest trace) as on `State`s."""
    model = pipeline(PARTS, faults=faults)
    for kw in ({}, {"collect_all": True}):
        fast, slow = _pair(model, symmetry=symmetry, **kw)
        _same(fast, slow)
    every = explore(model, Options(symmetry=symmetry, collect_all=True))
    want = {"few_bumps", "small_a", "buddies_low"} | ({"some_b_up"} if faults else set())
    assert set(every.findings) == want


ALL_OF_IT = PARTS + """invariant all_of_it:
  len(bumps) + count(x in A where x.a == 3) + count(y in B where y.b == 2) + count(y in B where crashed(y)) < 7
"""


@pytest.mark.parametrize("symmetry", [True, False])
def test_an_invariant_reading_everything_beside_ones_reading_less(symmetry):
    """An invariant reading every slot (memoised by what the search reads of the state,
    the very tuple) beside invariants reading less (each by its own slots): the same
    first violation and findings as on `State`s."""
    model = pipeline(ALL_OF_IT)
    pm = packed.PackedModel(model)
    slots = {inv.name: part_indexes(pm, inv.parts) for inv in model.invariants}
    assert slots["all_of_it"] == part_indexes(pm, None) and slots["small_a"] != slots["all_of_it"]
    for kw in ({}, {"collect_all": True}):
        fast, slow = _pair(model, symmetry=symmetry, **kw)
        _same(fast, slow)
    every = explore(model, Options(symmetry=symmetry, collect_all=True))
    assert {"all_of_it", "few_bumps", "small_a", "buddies_low", "some_b_up"} <= set(every.findings)


def test_an_invariant_over_the_ghosts_is_evaluated_once_per_ghost_value():
    """The memo really is per invariant: `few_bumps` (the ghosts only) is evaluated
    once per distinct ghost value reached, far fewer times than there are distinct
    (nodes, up, ghosts) combinations, which a whole-state memo would evaluate it on."""
    model = pipeline(PARTS)
    calls = {inv.name: 0 for inv in model.invariants}

    def counting(inv, holds):
        def counted(st):
            calls[inv.name] += 1
            return holds(st)
        return counted
    for inv in model.invariants:
        inv.holds = counting(inv, inv.holds)
    res = explore(model, Options(symmetry=False, collect_all=True))
    seen, level = {model.initial}, [model.initial]
    while level:
        level = [t.state for s in level for t in model.successors(s)
                 if t.state is not None and t.state not in seen and not seen.add(t.state)]
    assert res.stats.distinct_states == len(seen)
    assert calls["few_bumps"] == len({s.ghosts for s in seen})
    assert calls["small_a"] == len({s.nodes[:2] for s in seen})
    assert calls["few_bumps"] * 10 < len({(s.nodes, s.up, s.ghosts) for s in seen})


TERMS = """
spec terms
network { delivery DELIVERY }
message Req(t: 0..3)
message Ack(t: 0..3)
role S[3] {
  var term: 0..3 = 0
  var acks: 0..3 = 0
  action timeout when term < 3 {
    term += 1
    acks = 0
    broadcast Req(term)
  }
  on Req(t) from c when t > term {
    term = t
    acks = 0
    reply Ack(t)
  }
  on Ack(t) when t == term and acks < 3 {
    acks += 1
  }
}
FAULTS
invariant bounded: forall s in S: s.acks <= 3
"""


@pytest.mark.parametrize("mode", ["set", "unordered"])
@pytest.mark.parametrize("faults", ["", "faults { partition at most 1  heal }"])
def test_plans_drop_dead_messages_as_the_collector_does(monkeypatch, mode, faults):
    """The generated plans (packed.PackedModel._plan_lines) drop the dead messages of
    a node's step themselves: its own messages its new term makes dead, a Req sent
    to a node whose term is already as high (looked up per state), an Ack to a node
    that moved on. With a partition the states with a cut link go through the
    collector instead. The whole search is the same as on `State`s, and the plans
    were used."""
    built = []
    make = packed.PackedModel._make_plan
    monkeypatch.setattr(packed.PackedModel, "_make_plan", lambda self, *a: built.append(1) or make(self, *a))
    model = pipeline(TERMS.replace("DELIVERY", mode).replace("FAULTS", faults))
    opts = {**ON, "skip_partitions": False}
    fast, slow = _pair(model, **opts)
    _same(fast, slow)
    assert built and fast.stats.distinct_states > 1_000
    kept = explore(model, Options(**{**opts, "drop_dead_messages": False}))
    assert kept.stats.distinct_states > fast.stats.distinct_states  # some messages did die
    _same(*_pair(model, symmetry=True, **opts))


@pytest.mark.parametrize("mode", ["set", "unordered"])
def test_plans_rebuilt_after_their_table_is_emptied(monkeypatch, mode):
    """With room for four plans the table (and its shared entries) is emptied again
    and again in the middle of the search: the plans rebuilt are the same, so is
    the search."""
    built = []
    make = packed.PackedModel._make_plan
    monkeypatch.setattr(packed.PackedModel, "_make_plan", lambda self, key, *a: built.append(key) or make(self, key, *a))
    monkeypatch.setattr(packed, "PLAN_LIMIT", 4)
    monkeypatch.setattr(packed, "MIN_REUSE", 0)  # (they always pay: kept on)
    model = pipeline(TERMS.replace("DELIVERY", mode).replace("FAULTS", ""))
    _same(*_pair(model, **ON))
    assert len(built) > len(set(built)) > 4  # plans were built again after the table was emptied


@pytest.mark.parametrize("mode", ["set", "unordered"])
def test_plans_turned_off_mid_search_same_search(monkeypatch, mode):
    """Plans that do not pay (packed.MIN_REUSE) are turned off when their table is
    first emptied, in the middle of a level, dead messages dropped: the general
    lines and the collector take every later state, and the search is the same."""
    models = []
    make = packed.PackedModel._make_plan
    monkeypatch.setattr(packed.PackedModel, "_make_plan", lambda self, *a: models.append(self) or make(self, *a))
    monkeypatch.setattr(packed, "PLAN_LIMIT", 4)
    monkeypatch.setattr(packed, "MIN_REUSE", 10 ** 9)
    model = pipeline(TERMS.replace("DELIVERY", mode).replace("FAULTS", ""))
    _same(*_pair(model, **ON))
    assert models and not models[0].use_plans[0] and not models[0]._plans
    built = len(models)
    assert 4 < built < 10  # none built once they were off (the state being expanded may finish its own)
