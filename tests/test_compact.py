"""Compact visited-set keys (modelcheck/engine/compact.py) change nothing but memory.

The packed search goes over to bytes keys once its transitions cost enough; these
tests force it over from the second level on and compare everything a run reports
with the same run kept on tuples: counts, depth, verdicts, first violations, traces,
stop reasons, growth hints, symmetry's unreduced count, with and without symmetry,
plain and collect-all."""
from __future__ import annotations

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

    def spy(codec, parents, level, decode=None):
        if decode is None:  # (not a codec widened: see test_searches_that_outgrow_the_narrow_keys_widen_them)
            calls.append(len(parents))
        return convert(codec, parents, level, decode)

    monkeypatch.setattr(compact, "convert", spy)

    def run(model, at_once=False, **kw):
        """at_once: the forced run goes over by the symmetric searches' rule (at the
        end of the first level, compact.AT_ONCE), not by a timing forced to pass."""
        calls.clear()
        monkeypatch.setattr(compact, "AT_ONCE", at_once)
        monkeypatch.setattr(compact, "WARM", 1)
        monkeypatch.setattr(compact, "WINDOW", 1)
        monkeypatch.setattr(compact, "RATIO", float("inf") if at_once else 0.0)
        forced = explore(model, Options(**kw))
        converted = list(calls)
        monkeypatch.setattr(compact, "AT_ONCE", False)
        monkeypatch.setattr(compact, "RATIO", float("inf"))
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
    # the default under symmetry: over at the end of the first level, untimed
    forced, plain, converted = conversions(model, at_once=True, max_states=CAP, symmetry=True)
    _same_all(forced, plain)
    if not plain.symmetric_roles:  # (no interchangeable nodes: the timed rule)
        assert not converted
    elif _converts(model, plain):
        first = explore(model, Options(max_depth=1, symmetry=True)).stats.distinct_states
        assert converted == [first], name  # the initial state and its successors


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
    """Equal states give equal keys whatever objects hold their parts, a key gives
    its state back, and no two states share a key: every network form (bytes, str,
    ids in the surrogates' range, a tuple past the last character) with short and
    wide ids."""
    codec = compact.Codec(2, 7)  # two nodes: (n0, n1, up, net, cut, ghosts, budgets)
    big = 70_000
    a = (big, big, 5, "\u0101\u0102", 0, 3, 9)
    b = (int(str(big)), big, 5, "".join(["\u0101", "\u0102"]), 0, 3, 9)
    assert a == b and a[0] is not b[0]
    assert codec.encode(a) == codec.encode(b)
    states = [(1, 2, 0, net, 0, 0, 0) for net in (b"", "", (), b"\x01\x02", "\x01\x02", (1, 2), "\ud800\u0101",
                                                (0x110000, 3), "\U0010ffff")]
    states += [(big,) + s[1:] for s in states] + [(32_767, 0, 0, b"\xff", 0, 0, 0), (32_768, 0, 0, b"\xff", 0, 0, 0),
                                                   (1, 65_535, 0, b"\xff", 0, 0, 0), (1, 2, 0, b"\xff", 0, 0, 65_536),
                                                   (1, 2, 0, b"\xff\xff\x81", 0, 0, 0)]
    keys = [codec.encode(s) for s in states]
    assert len(set(keys)) == len(states)
    for s, key in zip(states, keys):
        assert codec.decode(key) == s and type(codec.decode(key)[3]) is type(s[3])
        if s[0] < 32_768 and max(s[:3] + s[4:]) < 65_536:  # the search's written-out common forms
            assert key == (codec.short(*codec.ints(s)) + s[3] if type(s[3]) is bytes else
                           codec.str_prefix + codec.short(*codec.ints(s)) + s[3].encode("utf-8", "surrogatepass")
                           if type(s[3]) is str else key)
    assert len(codec.encode((1, 2, 0, b"\x01" * 11, 0, 0, 0))) == 6 * 2 + 11


def test_a_wider_codec_keeps_every_state_apart_too():
    """With four-byte ints (Codec.widened, once a search meets ids past two bytes)
    every state still has one key of its own, and the narrow codec counted the
    states it had to keep in its long form."""
    narrow = compact.Codec(2, 7)
    big = 70_000
    states = [(a, 2, 0, net, 0, 0, c) for a in (1, 32_768, big, 2 ** 31 - 1) for c in (0, 65_536)
              for net in (b"", "", (), b"\xff\x01", "\ud800\u0101", (0x110000, 3))]
    narrow_keys = [narrow.encode(s) for s in states]
    assert narrow.longs[0] == sum(1 for s in states if s[0] >= 32_768 or s[6] >= 65_536)
    wide = narrow.widened()
    assert wide.wide and wide.longs[0] == 0
    keys = [wide.encode(s) for s in states]
    assert len(set(keys)) == len(states) and wide.longs[0] == 0
    for s, key, old in zip(states, keys, narrow_keys):
        assert wide.decode(key) == s and narrow.decode(old) == s
        if type(s[3]) is bytes:  # the search's written-out common form
            assert key == wide.short(*wide.ints(s)) + s[3]
    out, level = compact.convert(wide, {narrow_keys[0]: None, narrow_keys[1]: narrow_keys[0]}, [narrow_keys[1]],
                                 narrow.decode)
    assert set(out) == {keys[0], keys[1]} and out[keys[1]] == keys[0] and level == [keys[1]]


@pytest.mark.parametrize("name", ["raft_membership_broken.ha", "raft_membership_fixed.ha", "majority_election.ha"])
def test_searches_that_outgrow_the_narrow_keys_widen_them(name, conversions, monkeypatch):
    """With one-byte ints in the common form, ids soon outgrow it: the search goes
    over to wider keys at the end of that level, and reports what it reports on
    tuples (the Raft models hold thousands of node values within CAP states; the
    election fewer than 128, and never widens)."""
    monkeypatch.setattr(compact, "NARROW", ("b", "B"))
    widened = []
    orig = compact.Codec.widened
    monkeypatch.setattr(compact.Codec, "widened", lambda self: widened.append(1) or orig(self))
    model = _model(name)
    for kw in ({}, {"symmetry": True}):
        forced, plain, converted = conversions(model, max_states=CAP, **kw)
        _same_all(forced, plain)
    assert bool(widened) == name.startswith("raft_membership")


def test_the_switch_decides_once(monkeypatch):
    monkeypatch.setattr(compact, "WARM", 10)
    monkeypatch.setattr(compact, "WINDOW", 100)
    monkeypatch.setattr(compact, "RATIO", 0.0)
    level = [(0, 0, b"", 0, 0, 0)]  # one state of a one-node model, and its keys
    codec = compact.Codec(1, 6)
    s = compact.Switch()
    assert not s.due(5, 50, level, codec)  # not warm yet
    assert not s.due(20, 60, level, codec)  # timing starts
    assert not s.due(30, 120, level, codec)  # 60 transitions timed: too few
    assert s.due(40, 200, level, codec) and s.cost is not None
    assert not s.due(80, 10_000, level, codec)  # never again
    monkeypatch.setattr(compact, "RATIO", float("inf"))
    s = compact.Switch()
    s.due(20, 0, level, codec)
    assert not s.due(30, 1000, level, codec) and s.decided


def test_convert_shares_each_key_with_its_parent_link():
    codec = compact.Codec(1, 6)  # (n0, up, net, cut, ghosts, budgets)
    a, b, c = (0, 0, b"", 0, 0, 0), (1, 0, b"\x01", 0, 0, 0), (2, 0, "\u0101", 0, 0, 0)
    parents = {a: None, b: a, c: b}
    out, keys = compact.convert(codec, parents, [c, b])
    by_state = {codec.decode(k): k for k in out}
    assert out[by_state[c]] is by_state[b] and out[by_state[a]] is None
    assert keys[0] is by_state[c] and keys[1] is by_state[b]


def test_the_switch_weighs_transitions_against_keys_timed_on_the_same_machine(monkeypatch):
    """The rule compares two costs measured at the same moment: what a transition
    cost, and what encoding a sample of the level and decoding it back costs a
    transition. No sample at the end of a search: nothing is converted."""
    from conftest import ROOT
    from modelcheck.engine.packed import PackedModel

    pm = PackedModel(pipeline((ROOT / "specs" / "naive_failover.ha").read_text()))
    codec = compact.Codec(pm.k, len(pm.initial))
    sample = [pm.initial] + [t for t in pm.successors(pm.initial) if t is not None]
    monkeypatch.setattr(compact, "WARM", 1)
    monkeypatch.setattr(compact, "WINDOW", 1)

    def decide(ratio, level):
        monkeypatch.setattr(compact, "RATIO", ratio)
        s = compact.Switch()
        s.due(1, 0, level, codec)
        return s.due(2, 10, level, codec), s

    due, s = decide(1.0, sample)
    assert s.key_cost > 0 and due == (s.cost >= s.key_cost)
    assert decide(0.0, sample)[0] and not decide(float("inf"), sample)[0]
    assert not decide(0.0, [])[0]  # the last level: no key is worth making


def test_the_switch_goes_over_by_the_keys_cost_it_measured(monkeypatch):
    """The same transitions go over when keys are cheap beside them, and stay on
    tuples when keys would cost more than a tenth of them."""
    monkeypatch.setattr(compact, "WARM", 1)
    monkeypatch.setattr(compact, "WINDOW", 1)
    level, codec = [(0, 0, b"", 0, 0, 0)], compact.Codec(1, 6)

    def decide(key_cost):
        monkeypatch.setattr(compact, "_key_cost", lambda sample, codec, share: key_cost)
        s = compact.Switch()
        s.due(1, 0, level, codec)
        return s.due(2, 10, level, codec), s

    due, s = decide(0.0)
    assert due and s.key_cost == 0.0
    due, s = decide(1e9)  # keys a thousand seconds each: never worth it
    assert not due and s.key_cost == 1e9
