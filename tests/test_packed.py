"""The packed fast path (modelcheck/packed.py) against the search on `State`s.

Packing must be invisible: the same states in the same order, so the same counts,
depth, first violation and step-for-step trace, in every mode the fast path takes
(plain, collect-all as the matrix uses it, fingerprints, state and depth limits,
run-time errors). Compared on every example spec it applies to and on the random
specs of test_reduction_random.py.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, pipeline
from test_reduction_random import SEEDS, make_spec

from modelcheck import packed
from modelcheck.checker import check
from modelcheck.diagnostics import Source
from modelcheck.explorer import Options, explore
from modelcheck.model import build
from modelcheck.parser import parse

SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))
CAP = 20_000  # states per comparison: both searches stop at the same state


def _model(name: str):
    """The spec's invariants only (properties need the graph, which packing skips)."""
    path = ROOT / "specs" / name
    source = Source(str(path), path.read_text())
    checked = check(parse(source), {})
    return build(checked, source, invariant_names=[d.name for d in checked.invariants] or None)


def _same(a, b) -> None:
    assert a.verdict == b.verdict
    assert a.stop_reason == b.stop_reason
    assert (a.stats.distinct_states, a.stats.transitions, a.stats.depth) == \
        (b.stats.distinct_states, b.stats.transitions, b.stats.depth)
    assert (a.violation.message if a.violation else None) == (b.violation.message if b.violation else None)
    assert a.trace == b.trace
    assert list(a.findings) == list(b.findings)
    for name, f in a.findings.items():
        assert f.trace == b.findings[name].trace, name


def _pair(model, **kw):
    fast = explore(model, Options(**kw))
    slow = explore(model, Options(packed=False, **kw))
    return fast, slow


@pytest.mark.parametrize("name", SPECS)
def test_example_specs_same_search(name):
    model = _model(name)
    if not packed.applicable(model):
        pytest.skip("time block: the State search is used")
    _same(*_pair(model, max_states=CAP))
    _same(*_pair(model, max_states=CAP, collect_all=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_same_search(seed):
    model = pipeline(make_spec(seed))
    fast, slow = _pair(model, collect_all=True, max_states=CAP)
    _same(fast, slow)
    _same(*_pair(model, fingerprints=True, max_states=CAP))


def test_fingerprints_depth_limit_and_timeout_paths():
    model = _model("majority_election.ha")
    _same(*_pair(model, fingerprints=True, max_states=CAP))
    _same(*_pair(model, max_depth=4))
    fast, slow = _pair(model, max_depth=40)  # deeper than the state space: complete
    _same(fast, slow)
    assert fast.verdict == "holds"
    res = explore(model, Options(timeout=1e-6))
    assert res.verdict == "incomplete" and res.stop_reason == "timeout"


ERROR = """
spec err
message Ping(v: 0..3)
role A[2] {
  var x: 0..2 = 0
  action bump { x += 1 }
  on Ping(v) { x = v }
  action ping when x == 1 { broadcast Ping(x + 2) }
}
faults { crash at most 1
  restart }
invariant small: forall a in A: a.x <= 2
"""


def test_run_time_errors_same_finding():
    model = pipeline(ERROR)
    fast, slow = _pair(model)
    _same(fast, slow)
    assert fast.violation.kind == "runtime_error"
    fast, slow = _pair(model, collect_all=True, max_states=CAP)  # pings pile up without end
    _same(fast, slow)


RESTART = """
spec restart_body
message Hello(v: 0..2)
ghost var rebooted: set<A> = {}
role A[2] {
  persistent var n: 0..2 = 0
  var seen: bool = false
  var said: bool = false
  on restart {
    n = (n + 1) % 3
    rebooted |= {self}
    broadcast Hello(n)
  }
  on Hello(v) from p { seen = true }
  action go when not said { said = true
    broadcast Hello(n) }
}
faults {
  crash at most 2
  restart
  partition at most 1
  one_way at most 1
  heal
  duplicate at most 1
  loss at most 1
}
invariant one_reboot: len(rebooted) <= 1
"""


def test_restart_bodies_ghosts_and_every_fault_kind():
    model = pipeline(RESTART)
    fast, slow = _pair(model, collect_all=True)
    _same(fast, slow)
    assert fast.verdict == "violated"
    fast, slow = _pair(pipeline(RESTART.replace("<= 1", "<= 2")))
    _same(fast, slow)
    assert fast.verdict == "holds" and fast.stats.distinct_states > 1000


def test_the_generated_code_holds_no_spec_text():
    model = pipeline(RESTART)
    src = packed.PackedModel(model).source
    for word in ("Hello", "rebooted", "restart_body", "seen"):
        assert word not in src
