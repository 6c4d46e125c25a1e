"""The search itself, on hand-built models that need no language."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from conftest import ROOT, verify_json
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import Step, Transition


@dataclass
class _Inv:
    name: str
    decl: object = field(default_factory=lambda: SimpleNamespace(span=None, expr=SimpleNamespace(span=None)))


class GraphModel:
    """An explicit digraph: states are ints, `bad` states violate the invariant."""

    def __init__(self, edges: dict[int, list[int]], bad: set[int] = frozenset()):
        self.edges, self.bad = edges, bad
        self.initial = 0
        self.invariants = [_Inv("good")]

    def successors(self, s):
        return [Transition(Step("action", name=f"{s}->{t}"), t) for t in self.edges.get(s, [])]

    def violated_invariants(self, s, every=False):
        return [(self.invariants[0], None)] if s in self.bad else []


def test_counts_every_reachable_state_once():
    # 0 -> 1 -> 3, 0 -> 2 -> 3, 3 -> 0 (cycle); 4 unreachable
    m = GraphModel({0: [1, 2], 1: [3], 2: [3], 3: [0], 4: [0]})
    r = explore(m)
    assert r.verdict == "holds"
    assert r.stats.distinct_states == 4
    assert r.stats.transitions == 5
    assert r.stats.depth == 2


def test_binary_clock_has_two_states():
    m = GraphModel({0: [1], 1: [0]})
    r = explore(m)
    assert (r.stats.distinct_states, r.stats.transitions) == (2, 2)


def test_violation_trace_is_shortest():
    # long path 0-1-2-3-4(bad) and a short one 0-5-4
    m = GraphModel({0: [1, 5], 1: [2], 2: [3], 3: [4], 5: [4]}, bad={4})
    r = explore(m)
    assert r.verdict == "violated"
    assert [step.name for step, _ in r.trace] == ["0->5", "5->4"]


def test_bad_initial_state_has_empty_trace():
    r = explore(GraphModel({0: [1]}, bad={0}))
    assert r.verdict == "violated" and r.trace == []


def test_first_violation_in_successor_order_is_reported():
    m = GraphModel({0: [2, 1], 1: [], 2: []}, bad={1, 2})
    r = explore(m)
    assert r.trace[-1][1] == 2


def test_max_states_stops_incomplete():
    chain = {i: [i + 1] for i in range(100)}
    r = explore(GraphModel(chain), Options(max_states=10))
    assert r.verdict == "incomplete" and r.stop_reason == "max-states"
    assert r.stats.distinct_states == 10


def test_max_depth_incomplete_only_if_something_new_lies_beyond():
    chain = {i: [i + 1] for i in range(10)}
    r = explore(GraphModel(chain), Options(max_depth=3))
    assert r.verdict == "incomplete" and r.stop_reason == "max-depth"
    assert r.stats.distinct_states == 4
    # a cycle fully explored within the bound is complete
    r = explore(GraphModel({0: [1], 1: [0]}), Options(max_depth=1))
    assert r.verdict == "holds"


def test_deterministic():
    m = GraphModel({0: [3, 1, 2], 1: [4], 2: [4], 3: [5], 4: [5]}, bad={5})
    a, b = explore(m), explore(m)
    assert [s for _, s in a.trace] == [s for _, s in b.trace]
    assert a.stats.distinct_states == b.stats.distinct_states


def test_models_meet_the_contract():
    from conftest import pipeline
    from modelcheck.engine.contract import Explorable, Symmetric, Temporal

    double = GraphModel({0: [1]})
    assert isinstance(double, Explorable)
    assert not isinstance(double, Temporal) and not isinstance(double, Symmetric)
    model = pipeline((ROOT / "specs/naive_failover.ha").read_text())
    assert isinstance(model, Explorable) and isinstance(model, Temporal) and isinstance(model, Symmetric)


@pytest.mark.parametrize("cap", [0, 1, 2, 511, 512, 513, 1024, 1500])
def test_max_states_stops_at_the_bound_wherever_it_lies(cap):
    # the state bound is checked after every new state; the initial state is never cut off
    chain = {i: [i + 1] for i in range(2000)}
    r = explore(GraphModel(chain), Options(max_states=cap))
    assert (r.verdict, r.stop_reason) == ("incomplete", "max-states")
    assert (r.stats.distinct_states, r.stats.transitions, r.stats.frontier) == (max(cap, 2), max(cap, 2) - 1, 1)


# ---- fingerprint mode (Options.fingerprints) --------------------------------------


@pytest.mark.parametrize("spec, extra", [
    ("specs/naive_failover.ha", ()),
    ("specs/majority_election.ha", ("--no-faults",)),
    ("specs/async_failover_broken.ha", ("--prune",)),  # revisits states here: rebuilt from their traces
    ("specs/async_failover_broken.ha", ()),
    ("specs/majority_election.ha", ("--no-faults", "--symmetry")),
    ("specs/stonith_mutual_broken.ha", ()),  # a liveness lasso: the graph keeps states, no fingerprints
])
def test_fingerprints_change_nothing_but_memory(spec, extra):
    code, exact = verify_json(ROOT / spec, *extra)
    code2, fp = verify_json(ROOT / spec, *extra, "--fingerprints")
    assert code == code2
    for k in ("distinct_states", "transitions", "pruned_transitions", "depth"):
        assert exact["stats"][k] == fp["stats"][k]
    assert exact["trace"] == fp["trace"]
    assert exact["fingerprint_collision_probability"] is None
    if "stonith" in spec:
        assert fp["fingerprint_collision_probability"] is None
    else:
        n = fp["stats"]["distinct_states"]
        assert fp["fingerprint_collision_probability"] == pytest.approx(n * n / 2 ** 65)


def test_fingerprints_with_a_run_time_error(spec_file):
    p = spec_file("""
spec boom
role A { var x: 0..3 = 0
  action inc { x = x + 1 } }
invariant ok: true
""")
    code, exact = verify_json(p)
    code2, fp = verify_json(p, "--fingerprints")
    assert code == code2 == 1
    assert exact["violation"]["kind"] == fp["violation"]["kind"] == "runtime_error"
    assert exact["trace"] == fp["trace"]
