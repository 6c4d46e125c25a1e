"""Temporal properties on packed states (explorer._explore_packed_graph) against the
search on `State`s (Options(packed=False)).

The graph recorded on packed states must be the graph the State search records:
the same state ids, edges and fairness units, so the same counts, verdicts, lassos
(stem, cycle, trigger) and step-for-step traces, for every property operator, with
fault steps, run-time errors in steps and in predicates, liveness assumptions
(`eventually heal`, `eventually restart`), time (ticks are a fairness unit, clock
choices an environment step), measures, and the state and depth bounds. Compared on
every example spec with properties and on random specs with random properties.
"""
from __future__ import annotations

import random

import pytest

from conftest import ROOT, pipeline
from test_packed import make_timed_spec
from test_reduction_random import SEEDS, make_spec

from modelcheck.engine import packed
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import build
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.lang.parser import parse

PROPERTY_SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha") if "\nproperty " in p.read_text())


def _model(path, consts=None):
    source = Source(str(path), path.read_text())
    return build(check(parse(source), consts or {}), source)


def _same(a, b) -> None:
    assert (a.verdict, a.stop_reason) == (b.verdict, b.stop_reason)
    assert (a.stats.distinct_states, a.stats.transitions, a.stats.depth) == \
        (b.stats.distinct_states, b.stats.transitions, b.stats.depth)
    assert list(a.findings) == list(b.findings)
    for name, f in a.findings.items():
        g = b.findings[name]
        assert f.violation.message == g.violation.message, name
        assert f.violation.binding == g.violation.binding, name
        assert f.trace == g.trace, name
        assert f.cycle == g.cycle, name
        assert f.trigger == g.trigger, name
    assert a.trace == b.trace and a.cycle == b.cycle
    assert a.measures == b.measures  # ranges and witness traces


def _pair(model, **kw):
    fast = explore(model, Options(**kw))
    slow = explore(model, Options(packed=False, **kw))
    return fast, slow


def test_the_fast_path_records_the_graph(monkeypatch):
    """Not a vacuous comparison: a model with properties takes the packed search,
    whose edges come from PackedModel.labelled (one call per expanded state), and
    Options(packed=False) does not."""
    model = _model(ROOT / "specs" / "partial_quorum_fixed.ha")
    assert model.properties and packed.applicable(model)
    plan = Options().validate(model)
    assert plan.packed and plan.graph
    assert not Options(record_graph=True).validate(model).packed  # `graph` draws States
    calls = []
    labelled = packed.PackedModel.labelled
    monkeypatch.setattr(packed.PackedModel, "labelled", lambda pm, p: calls.append(p) or labelled(pm, p))
    fast = explore(model, Options())
    assert len(calls) >= fast.stats.distinct_states == 22_292
    calls.clear()
    explore(model, Options(packed=False))
    assert not calls


@pytest.mark.parametrize("name", PROPERTY_SPECS)
def test_example_specs_same_liveness(name):
    model = _model(ROOT / "specs" / name)
    assert model.properties
    _same(*_pair(model))
    _same(*_pair(model, collect_all=True))


PROPS = [
    "property p_ev: eventually ({e})",
    "property p_ae: always eventually ({e})",
    "property p_lt: ({e}) leads_to ({f})",
    "property p_al: always ({e})",
    "property p_fa: forall a in A: eventually a.x == 2",
    "property p_fl: forall b in B: (b.y == 1) leads_to (b.y == 2)",
]
EXPRS = ["forall a in A: a.x == 2", "exists b in B: b.y == 2", "flag", "1 in seen", "last == 1",
         "count(a in A where a.x >= 1) >= 1", "not flag"]


def _with_properties(text: str, seed: int) -> str:
    rnd = random.Random(seed * 7919)
    lines = []
    for tmpl in rnd.sample(PROPS, rnd.randint(1, 3)):
        lines.append(tmpl.format(e=rnd.choice(EXPRS), f=rnd.choice(EXPRS)))
    if "heal" in text and rnd.random() < 0.5:
        text = text.replace("  heal\n", "  heal\n  eventually heal\n", 1)
    if "  restart\n" in text and rnd.random() < 0.5:
        text = text.replace("  restart\n", "  restart\n  eventually restart\n", 1)
    return text + "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_same_liveness(seed):
    text = _with_properties(make_spec(seed), seed)
    model = pipeline(text)
    fast, slow = _pair(model, collect_all=True, max_states=30_000)
    _same(fast, slow)
    if fast.verdict != "incomplete":
        _same(*_pair(model))


TIMED_PROPS = ["property t_ev: eventually pings >= 1", "property t_ae: always eventually now >= 2",
               "property t_lt: pings == 1 leads_to pings == 2", "property t_fa: forall x in N: eventually x.sent == 1"]


@pytest.mark.parametrize("seed", range(20))
def test_random_timed_specs_same_liveness(seed):
    rnd = random.Random(seed)
    text = make_timed_spec(seed) + "\n".join(rnd.sample(TIMED_PROPS, 2)) + "\n"
    model = pipeline(text)
    _same(*_pair(model, collect_all=True, max_states=30_000))


ERRORS = """
spec errs
message Go(v: 0..3)
role W[2] {
  var n: 0..3 = 0
  var d: 0..2 = 1
  var sent: bool = false
  action bump when n < 3 { n += 1 }
  action zero when n == 2 { d = 0 }
  action go when not sent { send Go(n) to W[0]
    sent = true }
  on Go(v) { n = v }
}
faults { crash at most 1
  restart
  eventually restart }
property lasting: always eventually forall w in W: w.n == 3
property divide: eventually forall w in W: 6 / w.d >= 2
"""


def test_run_time_errors_in_predicates_same_finding():
    model = pipeline(ERRORS)
    fast, slow = _pair(model)
    _same(fast, slow)
    assert fast.verdict == "violated"


STEP_ERROR = """
spec steperr
role W[2] {
  var n: 0..2 = 0
  action bump when n < 3 { n += 1 }
}
property done: eventually W[0].n == 2
"""


def test_run_time_errors_in_steps_same_graph():
    model = pipeline(STEP_ERROR)
    _same(*_pair(model))
    _same(*_pair(model, collect_all=True))


@pytest.mark.parametrize("kw", [{"max_states": 500}, {"max_depth": 4}, {"max_depth": 40}, {"timeout": 0.000001}])
def test_bounds_same_stop(kw):
    model = _model(ROOT / "specs" / "stonith_mutual_broken.ha")
    fast, slow = _pair(model, **kw)
    if "timeout" in kw:  # where a clock stops a search depends on the machine
        assert fast.verdict == slow.verdict == "incomplete"
        return
    _same(fast, slow)


MEASURED = """
spec measured
message Reset
role C[2] {
  var n: 0..3 = 0
  var asked: bool = false
  action up when n < 3 { n += 1 }
  action ask when n == 3 and not asked { send Reset to C[1]
    asked = true }
  on Reset { n = 0 }
}
measure total: C[0].n + C[1].n
property settles: always eventually C[0].n == 0
"""


def test_measures_with_properties_same_ranges_and_witnesses():
    model = pipeline(MEASURED)
    fast, slow = _pair(model)
    _same(fast, slow)
    assert fast.measures and fast.measures[0].max.value == 6 and fast.measures[0].max.trace


@pytest.mark.parametrize("name", ["partial_quorum_fixed.ha", "partial_quorum_broken.ha"])
def test_labelled_plans_emptied_mid_search_same_liveness(monkeypatch, name):
    """The labelled successors follow plans too (packed.PackedModel._make_lplan, each
    entry with its fairness unit): with room for four, the table is emptied again
    and again, and the graph, verdicts, lassos and traces are the State search's."""
    built = []
    make = packed.PackedModel._make_lplan
    monkeypatch.setattr(packed.PackedModel, "_make_lplan", lambda self, key, *a: built.append(key) or make(self, key, *a))
    monkeypatch.setattr(packed, "PLAN_LIMIT", 4)
    monkeypatch.setattr(packed, "MIN_REUSE", 0)  # (they always pay: kept on)
    model = _model(ROOT / "specs" / name)
    _same(*_pair(model, max_states=5_000))
    assert len(built) > len(set(built)) > 4  # plans were built again after the table was emptied
