"""The fault-kind registry (modelcheck/faults) and the three partial-partition
shapes: `link`, `bridge` and `ring`.

The registry must be complete (every kind has every hook, a grammar line and a
parser method), and each new shape is checked three ways: its shapes against an
independent definition written here, hand-counted state spaces, and the packed
and `State` engines, symmetry, pruning and z3 against each other.
"""
from __future__ import annotations

import inspect
import itertools
import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

from modelcheck.faults import ENVIRONMENT_STEPS, KINDS, CutShape, FaultKind
from modelcheck.faults.base import _link_sets
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import build
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.lang.parser import KEYWORDS, parse


def _model(text: str, consts=None, **kw):
    source = Source("t.ha", text)
    return build(check(parse(source), consts or {}), source, **kw)


def _spec(n: int, faults: str, extra: str = "") -> str:
    return (f"spec t\nrole N[{n}] {{ var x: bool = false }}\nfaults {{ {faults} }}\n{extra}"
            "invariant ok: forall n in N: not n.x\n")


def _undirected(links) -> frozenset:
    return frozenset(frozenset(link) for link in links)


# ---- the registry ------------------------------------------------------------------------


def test_every_kind_implements_every_hook():
    abstract = {name for name, v in inspect.getmembers(FaultKind) if getattr(v, "__isabstractmethod__", False)}
    assert abstract >= {"successors", "packed", "encode", "footprint", "headline"}
    for kw, kind in KINDS.items():
        assert kind.keyword == kw
        assert not getattr(type(kind), "__abstractmethods__", None), kw


def test_a_kind_that_forgets_a_hook_cannot_be_registered():
    class Half(FaultKind):
        keyword = "half"

        def successors(self, model, state, f, budgets):
            return []

    with pytest.raises(TypeError, match="abstract"):
        Half()


def test_every_kind_has_a_grammar_line_and_is_a_keyword():
    grammar = (ROOT / "grammar" / "ha.lark").read_text()
    aliases = set(re.findall(r'^\s*[|:]?\s*(?:fault:)?\s*"(\w+)".*->\s*(\w+)\s*$', grammar, re.M))
    for kw in KINDS:
        assert (kw, kw) in aliases, f"grammar/ha.lark has no line '\"{kw}\" ... -> {kw}'"
        assert kw in KEYWORDS
    assert set(KINDS) <= ENVIRONMENT_STEPS


def test_fault_names_stay_usable_as_variable_names():
    m = _model("spec t\nrole N[2] { var link: 0..1 = 0\n var ring: bool = false\n var bridge: bool = false\n"
               "  action go() { require link == 0; link = 1 } }\ninvariant ok: true\n")
    assert explore(m, Options()).stats.distinct_states == 4  # each node sets its link once


# ---- the shapes, against independent definitions ------------------------------------------


@pytest.mark.parametrize("n", range(2, 8))
def test_link_shapes_are_the_pairs(n):
    shapes = KINDS["link"].shapes(n)
    assert len(shapes) == n * (n - 1) // 2
    assert {_undirected(links) for _, links in shapes} == {frozenset({frozenset(p)})
                                                          for p in itertools.combinations(range(n), 2)}
    for _, links in shapes:
        assert {(b, a) for a, b in links} == set(links)  # both directions


@pytest.mark.parametrize("n", range(2, 8))
def test_bridge_shapes(n):
    """Every (bridge node, split of the others into two non-empty sides), once:
    links between the sides cut both ways, no link of the bridge cut."""
    shapes = KINDS["bridge"].shapes(n)
    assert len(shapes) == (n * (2 ** (n - 2) - 1) if n >= 3 else 0)
    expected = set()
    for b in range(n):
        rest = [x for x in range(n) if x != b]
        for r in range(1, len(rest)):
            for side in itertools.combinations(rest, r):
                other = [x for x in rest if x not in side]
                expected.add(frozenset(frozenset({a, c}) for a in side for c in other))
    assert {_undirected(links) for _, links in shapes} == expected
    for (b, side_a, side_b), links in shapes:
        assert all(b not in link for link in links)
        assert set(links) == {(x, y) for x in side_a for y in side_b} | {(y, x) for x in side_a for y in side_b}


@pytest.mark.parametrize("n, count", [(3, 0), (4, 3), (5, 12), (6, 15), (7, 360)])
def test_ring_shapes(n, count):
    """Every node reaches a majority (itself included), no two nodes reach the
    same set, and each shape keeps exactly the links of nodes within radius r of
    each other on some ring."""
    shapes = KINDS["ring"].shapes(n)
    assert len(shapes) == count
    majority = n // 2 + 1
    seen = set()
    for order, links in shapes:
        cut = set(links)
        assert {(b, a) for a, b in cut} == cut
        reach = [frozenset(y for y in range(n) if (x, y) not in cut) for x in range(n)]
        assert all(len(r) >= majority and x in r for x, r in enumerate(reach))
        assert len(set(reach)) == n  # no two nodes see the same majority
        key = frozenset(cut)
        assert key not in seen
        seen.add(key)
        assert sorted(order) == list(range(n))
    if n == 5:
        # Independently: a 5-node ring keeps a Hamiltonian cycle; there are 12 of them.
        cycles = set()
        for perm in itertools.permutations(range(1, 5)):
            ring = (0,) + perm
            cycles.add(frozenset(frozenset({ring[i], ring[(i + 1) % 5]}) for i in range(5)))
        every = {frozenset({a, b}) for a, b in itertools.combinations(range(5), 2)}
        assert {_undirected(links) for _, links in shapes} == {frozenset(every - c) for c in cycles}


# ---- hand-counted state spaces -----------------------------------------------------------


@pytest.mark.parametrize("faults, n, states, transitions, symmetric", [
    # 3 pairs; after one cut link 2 more; budget 2: 1 + 3 + 3 states, 3 + 3*2 transitions.
    ("link at most 2", 3, 7, 9, 3),  # with symmetry: none, one link, two links
    # with heal (unbounded): (cut, budget) = (∅,2) (L,1)x3 (LL,0)x3 (∅,1) (L,0)x3 (∅,0);
    # transitions 3 + 3*(2+1) + 3*1 + 3 + 3*1 = 21 (test_against_an_independent_search re-derives such counts).
    ("link at most 2; heal", 3, 12, 21, 6),
    # 4 nodes: 4 bridges x 3 splits, all different cut sets; one step each.
    ("bridge at most 1", 4, 13, 12, 2),
    # 3 nodes: a bridge is one node's two others cut apart: the same cut sets as link.
    ("bridge at most 1", 3, 4, 3, 2),
    ("ring at most 1", 5, 13, 12, 2),
    ("ring at most 1", 4, 4, 3, 2),
    ("ring at most 1", 3, 1, 0, 1),  # nothing to cut
])
def test_hand_counted(faults, n, states, transitions, symmetric):
    m = _model(_spec(n, faults))
    plain = explore(m, Options())
    assert (plain.stats.distinct_states, plain.stats.transitions, plain.verdict) == (states, transitions, "holds")
    slow = explore(m, Options(packed=False))
    assert (slow.stats.distinct_states, slow.stats.transitions) == (states, transitions)
    assert explore(m, Options(symmetry=True)).stats.distinct_states == symmetric
    pruned = explore(m, Options(prune=True))
    assert pruned.stats.distinct_states == states


def _oracle(n: int, lines: list[tuple[str, int | None]]) -> tuple[int, int]:
    """(states, transitions) of a spec whose only steps are these network fault
    lines, by a search written independently of the engines: a state is (cut set,
    budgets)."""
    def shapes(kw):
        return [frozenset(links) for _, links in KINDS[kw].shapes(n)]
    shape_sets = {kw: shapes(kw) for kw, _ in lines if kw != "heal"}
    start = (frozenset(), tuple(b for _, b in lines if b is not None))
    seen, frontier, edges = {start}, [start], 0
    while frontier:
        nxt = []
        for cut, budgets in frontier:
            slot = 0
            for kw, b in lines:
                if b is not None:
                    if budgets[slot] == 0:
                        slot += 1
                        continue
                    after = budgets[:slot] + (budgets[slot] - 1,) + budgets[slot + 1:]
                    slot += 1
                else:
                    after = budgets
                if kw == "heal":
                    targets = [frozenset()] if cut else []
                else:
                    targets = [cut | s for s in shape_sets[kw] if not s <= cut]
                for t in targets:
                    edges += 1
                    if (t, after) not in seen:
                        seen.add((t, after))
                        nxt.append((t, after))
        frontier = nxt
    return len(seen), edges


@pytest.mark.parametrize("n, lines", [
    (5, [("ring", 2)]),
    (5, [("ring", 1), ("link", 1), ("heal", 1)]),
    (4, [("bridge", 2), ("heal", None)]),
    (5, [("bridge", 1), ("partition", 1)]),
    (4, [("link", 3), ("one_way", 1)]),
])
def test_against_an_independent_search(n, lines):
    text = "; ".join(kw + (f" at most {b}" if b is not None else "") for kw, b in lines)
    m = _model(_spec(n, text))
    states, transitions = _oracle(n, lines)
    for opts in (Options(), Options(packed=False)):
        r = explore(m, opts)
        assert (r.stats.distinct_states, r.stats.transitions) == (states, transitions)


# ---- engines, reductions, z3 and reports on a spec with behaviour ---------------------------

LEADER = """
spec reach
message Ping()
network { delivery set }
role N[5] {
  var heard: set<N> = {}
  var leader: bool = false
  action ping(to: N) when to != self { send Ping() to to }
  on Ping() from s { heard = heard | {s} }
  action lead when count(x in N where x in heard) >= 2 { leader = true }
}
invariant no_leader: forall x in N: not x.leader
faults { FAULTS }
invariant one_leader: count(x in N where x.leader) <= 1
"""


@pytest.mark.parametrize("shape", ["link", "bridge", "ring"])
def test_packed_and_state_engines_agree_step_for_step(shape):
    m = _model(LEADER.replace("FAULTS", f"{shape} at most 1; heal at most 1"))
    opts = dict(max_states=3000)
    fast, slow = explore(m, Options(**opts)), explore(m, Options(packed=False, **opts))
    assert (fast.stats.distinct_states, fast.stats.transitions, fast.stats.depth, fast.verdict) == \
        (slow.stats.distinct_states, slow.stats.transitions, slow.stats.depth, slow.verdict)
    assert fast.trace == slow.trace


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "modelcheck", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("shape", ["link", "bridge", "ring"])
def test_cli_lists_the_line_and_writes_the_html(tmp_path, shape):
    spec = tmp_path / "s.ha"
    spec.write_text(LEADER.replace("FAULTS", f"{shape} at most 1"))
    html = tmp_path / "r.html"
    out = _cli("verify", str(spec), "--format", "json", "--max-states", "200", "--html", str(html))
    assert out.returncode in (1, 3), out.stderr
    assert f"{shape} at most 1" in json.dumps(json.loads(out.stdout)["faults"])
    assert f"{shape} at most 1" in _cli("verify", str(spec), "--max-states", "200").stdout
    assert html.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("shape", ["link", "bridge", "ring"])
def test_trace_describes_the_shape(tmp_path, shape):
    """A spec whose invariant breaks exactly when the shape cuts node 0 off from
    node 1: the counterexample is that one step, described in text and JSON."""
    spec = tmp_path / "s.ha"
    spec.write_text(f"""spec s
message M()
network {{ delivery unordered }}
role N[5] {{
  var sent: bool = false
  var got: bool = false
  action go when self == N[0] and not sent {{ sent = true  send M() to N[1] }}
  on M() {{ got = true }}
}}
faults {{ {shape} at most 1 }}
invariant delivered_or_pending: true
property arrives: N[0].sent leads_to N[1].got
""")
    out = _cli("verify", str(spec), "--format", "json")
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "violated", out.stdout + out.stderr
    step = next(s for s in doc["trace"]["steps"] if s["kind"] == shape)
    key = {"link": "pair", "bridge": "bridge", "ring": "ring"}[shape]
    assert key in step["detail"], step
    assert step["text"].startswith("fault: ")
    words = {"link": "link N[", "bridge": "bridged by", "ring": "majorities ring"}[shape]
    assert words in _cli("verify", str(spec)).stdout
    html = tmp_path / "r.html"
    _cli("verify", str(spec), "-q", "--html", str(html))
    pill = {"link": "cut</text>", "bridge": ", bridged by N[", "ring": ". majorities ring N["}[shape]
    assert 'class="note fault"' in html.read_text() and pill in html.read_text()


@pytest.mark.parametrize("shape", ["link", "bridge", "ring"])
def test_prove_encodes_the_shape(shape):
    """z3 sees the same steps as the explicit engines: a node can become leader
    (refuted, as the search finds), and an invariant no step can break is proved."""
    from modelcheck.smt.prove import prove
    m = _model(LEADER.replace("FAULTS", f"{shape} at most 1"), invariant_names=["no_leader"])
    r = prove(m, k_max=6, infer=False)
    assert (r.verdict, r.k) == ("refuted", 5)  # ping, ping, two deliveries, lead
    found = explore(m, Options(symmetry=True, max_states=200_000))
    assert (found.verdict, len(found.trace)) == ("violated", 5)
    assert prove(_model(_spec(5, f"{shape} at most 2; heal")), k_max=2, infer=False).verdict == "proved"


@pytest.mark.parametrize("shape, other", [("link", "ring"), ("bridge", "link"), ("ring", "bridge")])
def test_z3_step_cuts_exactly_the_shapes(shape, other):
    """One z3 step from no cut reaches a cut set exactly when it is one of the
    shape's own sets (checked for each of them, and for another shape's sets,
    which it must not reach unless they coincide)."""
    import z3
    from modelcheck.smt.symbolic import Symbolic
    sym = Symbolic(_model(_spec(5, f"{shape} at most 1")))
    pre, post = sym.frame("a"), sym.frame("b")
    base = [*pre.domain, *post.domain, *sym.transition(pre, post), z3.Not(post.err)]
    base += [z3.Not(pre.cut[k]) for k in sym.links]
    own = {frozenset(links) for _, links in KINDS[shape].shapes(5)}
    for links in own | {frozenset(links) for _, links in KINDS[other].shapes(5)}:
        solver = z3.Solver()
        solver.add(*base, *[post.cut[k] if k in links else z3.Not(post.cut[k]) for k in sym.links])
        assert (solver.check() == z3.sat) == (links in own), sorted(links)


@pytest.mark.parametrize("text, message", [
    (_spec(9, "ring"), "'ring' over 9 nodes"),
    (_spec(17, "bridge"), "'bridge' over 17 nodes"),
])
def test_too_many_nodes(text, message):
    with pytest.raises(SpecError) as e:
        _model(text)
    assert message in str(e.value.diagnostics[0].message)


def test_cut_shapes_share_one_engine():
    """A network shape only lists its link sets: the engines come from CutShape."""
    for kw in ("partition", "one_way", "link", "bridge", "ring"):
        kind = KINDS[kw]
        assert isinstance(kind, CutShape)
        for hook in ("successors", "packed", "encode", "footprint"):
            assert getattr(type(kind), hook) is getattr(CutShape, hook), (kw, hook)
        assert _link_sets(kind, 4) == [(d, frozenset(links)) for d, links in kind.shapes(4)]


@pytest.mark.parametrize("kw", [k for k, v in KINDS.items() if isinstance(v, CutShape)])
@pytest.mark.parametrize("n", [3, 4, 5])
def test_cut_shapes_are_closed_under_renaming(kw, n):
    """Symmetry merges states that differ by a renaming of interchangeable nodes;
    that is sound only if renaming a shape gives another shape of the same kind
    (the `renaming_closed` fact every cut shape declares)."""
    kind = KINDS[kw]
    assert kind.renaming_closed
    shapes = {frozenset(links) for _, links in kind.shapes(n)}
    for perm in itertools.permutations(range(n)):
        assert {frozenset((perm[a], perm[b]) for a, b in s) for s in shapes} == shapes


def test_a_delivery_mode_must_state_its_facts():
    from modelcheck.network import MODES, DeliveryMode

    with pytest.raises(TypeError, match="ordered"):
        class Queue(DeliveryMode):  # noqa: F841 - defining it is the test
            name, consumes, z3_encoded = "queue", True, False
    assert MODES["fifo"].ordered and not MODES["unordered"].ordered and not MODES["set"].consumes


def test_matrix_rows_for_each_shape(tmp_path):
    """A scenario per shape: the matrix runs each and names its line."""
    spec = tmp_path / "m.ha"
    spec.write_text(LEADER.replace("faults { FAULTS }", "faults { link at most 1 }\n"
                                   "scenario linked { link at most 1 }\nscenario bridged { bridge at most 1 }\n"
                                   "scenario ringed { ring at most 1 }")
                    .replace("invariant no_leader: forall x in N: not x.leader", "invariant ok: true"))
    out = _cli("matrix", str(spec), "--format", "json", "--max-states", "300")
    doc = json.loads(out.stdout)
    text = json.dumps(doc)
    for line in ("link at most 1", "bridge at most 1", "ring at most 1"):
        assert line in text, text[:2000]
