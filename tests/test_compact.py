"""Compact visited-set keys (modelcheck/engine/compact.py) change nothing but memory.

The packed search goes over to bytes keys once its transitions cost enough; these
tests force it over from the second level on and compare everything a run reports
with the same run kept on tuples: counts, depth, verdicts, first violations, traces,
stop reasons, growth hints, symmetry's unreduced count, with and without symmetry,
plain and collect-all."""
from __future__ import annotations

import marshal

import pytest

from conftest import pipeline
from test_packed import ERROR, SPECS, _model, _same
from test_reduction_random import SEEDS, make_spec

from modelcheck.engine import compact
from modelcheck.engine.explorer import Options, explore

CAP = 4000  # states per comparison (the switch happens at the end of the second level)


@pytest.fixture
def conversions(monkeypatch):
    """A function running `explore` twice, keys forced compact, then never compact;
    it returns (compact run, tuple run, the visited-set sizes converted)."""
    calls = []
    convert = compact.convert

    def spy(parents, level):
        calls.append(len(parents))
        return convert(parents, level)

    monkeypatch.setattr(compact, "convert", spy)

    def run(model, **kw):
        calls.clear()
        monkeypatch.setattr(compact, "WARM", 1)
        monkeypatch.setattr(compact, "WINDOW", 1)
        monkeypatch.setattr(compact, "MICROSECONDS", 0.0)
        forced = explore(model, Options(**kw))
        converted = list(calls)
        monkeypatch.setattr(compact, "MICROSECONDS", float("inf"))
        calls.clear()
        plain = explore(model, Options(**kw))
        assert not calls
        return forced, plain, converted

    return run


def _same_all(a, b) -> None:
    _same(a, b)
    assert a.growth == b.growth
    assert a.stats.states_without_symmetry == b.stats.states_without_symmetry


def _converts(model, res) -> bool:
    """Whether a search should have converted: it expanded its second level (the
    forced switch happens at its end: a state found at depth 3, or a complete search
    at depth 2), on the packed search that keeps a visited set (a model with temporal
    properties records its state graph instead; one with measures keeps tuples, whose
    keys the measures hold)."""
    expanded = res.stats.depth >= 3 or (res.verdict == "holds" and res.stats.depth >= 2)
    return expanded and not model.properties and not getattr(model, "measures", None)


@pytest.mark.parametrize("name", SPECS)
def test_example_specs_same_search_on_compact_keys(name, conversions):
    model = _model(name)
    for kw in ({}, {"symmetry": True}, {"collect_all": True, "symmetry": True}):
        forced, plain, converted = conversions(model, max_states=CAP, **kw)
        _same_all(forced, plain)
        if _converts(model, plain):
            assert len(converted) == 1, (name, kw)


@pytest.mark.parametrize("seed", SEEDS[::5])
def test_random_specs_same_search_on_compact_keys(seed, conversions):
    model = pipeline(make_spec(seed))
    for kw in ({"collect_all": True}, {"symmetry": True}):
        forced, plain, converted = conversions(model, max_states=CAP, **kw)
        _same_all(forced, plain)
        if _converts(model, plain):
            assert len(converted) == 1, (seed, kw)


def test_whole_searches_depth_bounds_errors_and_fingerprints(conversions):
    model = _model("majority_election.ha")
    for kw in ({"max_depth": 3}, {"max_depth": 6, "symmetry": True}, {"symmetry": True}):
        forced, plain, converted = conversions(model, **kw)
        _same_all(forced, plain)
        assert converted
    forced, plain, converted = conversions(model, fingerprints=True, symmetry=True, max_states=CAP)
    _same_all(forced, plain)
    assert not converted  # fingerprints are smaller still: nothing to convert
    forced, plain, converted = conversions(pipeline(ERROR), collect_all=True, max_states=CAP)
    _same_all(forced, plain)
    assert converted and forced.findings


def test_a_key_depends_on_values_only():
    """Equal states give equal keys whatever objects hold their parts, and a key
    gives its state back (version 3 of marshal refers back to objects by identity)."""
    big = 70_000
    a = (big, big, 5, b"\x01\x02", "\u0101\u0102", 0, (1, 2))
    b = (int(str(big)), big, 5, bytes([1, 2]), "".join(["\u0101", "\u0102"]), 0, (1, 2))
    assert a == b and a[0] is not b[0]
    assert compact.encode(a) == compact.encode(b)
    assert compact.decode(compact.encode(a)) == a
    assert compact.encode((1, b"")) != compact.encode((1, ""))  # a network's two forms stay apart
    assert compact.VERSION == 2 and marshal.dumps(a, 3) != marshal.dumps(b, 3)


def test_the_switch_decides_once(monkeypatch):
    monkeypatch.setattr(compact, "WARM", 10)
    monkeypatch.setattr(compact, "WINDOW", 100)
    monkeypatch.setattr(compact, "MICROSECONDS", 0.0)
    s = compact.Switch()
    assert not s.due(5, 50)  # not warm yet
    assert not s.due(20, 60)  # timing starts
    assert not s.due(30, 120)  # 60 transitions timed: too few
    assert s.due(40, 200) and s.cost is not None
    assert not s.due(80, 10_000)  # never again
    monkeypatch.setattr(compact, "MICROSECONDS", float("inf"))
    s = compact.Switch()
    s.due(20, 0)
    assert not s.due(30, 1000) and s.decided


def test_convert_shares_each_key_with_its_parent_link():
    parents = {(0,): None, (1,): (0,), (2,): (1,)}
    out, keys = compact.convert(parents, [(2,), (1,)])
    by_state = {compact.decode(k): k for k in out}
    assert out[by_state[(2,)]] is by_state[(1,)] and out[by_state[(0,)]] is None
    assert keys[0] is by_state[(2,)] and keys[1] is by_state[(1,)]
