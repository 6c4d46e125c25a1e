"""Symmetry reduction stores exactly one state per orbit, at 6 to 8 interchangeable nodes.

An orbit is a set of reachable states that differ only by a renaming of the nodes
the spec cannot tell apart (`Symmetry(model, roles).groups`: each group's nodes may
be permuted among themselves). The search with `Options(symmetry=True)` (the packed
search that `verify` runs) must store exactly one state per orbit: every renamed copy
merged, no two orbits merged. The search without symmetry is the ground truth for
everything else: the sum of the orbit sizes of the stored states
(`stats.states_without_symmetry`) must be its state count, and the verdict and the
depth of every violated invariant (the shortest trace) must not change.

The number of orbits comes from an oracle that shares nothing with the
canonicalisers under test but `Symmetry.apply` (the renaming of a `State`):
  - a plain breadth-first search over `model.successors` lists every reachable state;
  - each state's orbit is its closure under two generators per group (a transposition
    of two of its nodes and a cycle through all of them), which generate every
    renaming of the group, so the closure is the whole orbit;
  - the canonical form of a state is the least `sort_key` (a total order on values,
    independent of hashing) of the members of its orbit, i.e. the minimum over all
    renamings; the number of distinct canonical forms is the number of orbits.
The oracle checks itself: every member of an orbit is reachable (reachable states are
closed under renaming), orbit sizes divide the number of renamings and add up to the
number of reachable states, and at 6 nodes the closure equals the set of all 720
renamings of a sample of states.

Why 6 to 8 nodes: a canonicaliser that sorts nodes by a renaming-invariant key (their
own variables with node ids blurred, their messages in flight) and then tries every
order of the nodes still tied is exact only while it can afford every order. When
tied nodes are told apart only by who points at whom (a variable or message holding a
node id, a ghost set of nodes, the sender and receiver of a message in flight), a
single arbitrary order leaves renamed copies of one state apart. The specs below
are small (a few thousand states without symmetry) but put 6 to 8 nodes in such
ties, in four shapes: a two-phase commit whose manager holds a set of prepared
resources (a), a token passed along a path recorded in node-id variables and carried
in messages (b), the same path visible only in messages in flight, with unordered
delivery (c), and ghost sets of nodes that no node variable mirrors (d). Random specs
with one symmetric role of 6 or 7 nodes, node-id variables, sets of node ids,
messages carrying node ids and crash faults add more shapes.

The State search (`Options(symmetry=True, packed=False)`) keeps a cap on the tie
orders it tries, so it is only required to be sound here: the same verdict and
shortest traces, and no fewer states than there are orbits.
"""
from __future__ import annotations

import functools
import itertools
import math
import os
import random
from dataclasses import dataclass

import pytest

from conftest import pipeline
from test_symmetry import reachable

from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.symmetry import Symmetry, symmetric_roles
from modelcheck.lang.values import sort_key

# ---- the oracle --------------------------------------------------------------------


def generators(sym: Symmetry, n: int) -> list[list[int]]:
    """Per group, a transposition of its first two nodes and a cycle through all of
    them: together they generate every renaming of the group (pi[i]: new name of i)."""
    gens = []
    for group in sym.groups:
        swap = list(range(n))
        swap[group[0]], swap[group[1]] = group[1], group[0]
        cycle = list(range(n))
        for old, new in zip(group, group[1:] + group[:1]):
            cycle[old] = new
        gens += [swap, cycle]
    return gens


def all_renamings(sym: Symmetry, n: int):
    """Every renaming: the product of the permutations of each group."""
    for perms in itertools.product(*[itertools.permutations(g) for g in sym.groups]):
        pi = list(range(n))
        for group, perm in zip(sym.groups, perms):
            for old, new in zip(group, perm):
                pi[old] = new
        yield pi


def orbit_of(sym: Symmetry, gens: list[list[int]], st) -> set:
    """The orbit of a state: its closure under the generators."""
    orbit = {st}
    todo = [st]
    for s in todo:
        for pi in gens:
            t = sym.apply(s, pi)
            if t not in orbit:
                orbit.add(t)
                todo.append(t)
    return orbit


def canonical_key(orbit) -> tuple:
    """The least member of an orbit in a total order of values (not hashes)."""
    return min(sort_key(tuple(s)) for s in orbit)


@dataclass
class Orbits:
    count: int  # distinct canonical forms
    sizes: list[int]  # the size of each orbit
    group_order: int  # the number of renamings


def count_orbits(model, roles: list[str], states: set) -> Orbits:
    sym = Symmetry(model, roles)
    n = len(model.checked.node_names)
    gens = generators(sym, n)
    group_order = math.prod(math.factorial(len(g)) for g in sym.groups)
    seen: set = set()
    forms: set = set()
    sizes = []
    for st in states:
        if st in seen:
            continue
        orbit = orbit_of(sym, gens, st)
        assert orbit <= states, "a renaming of a reachable state is not reachable"
        assert group_order % len(orbit) == 0, "an orbit's size must divide the number of renamings"
        seen |= orbit
        sizes.append(len(orbit))
        forms.add(canonical_key(orbit))
    assert sum(sizes) == len(states) and len(forms) == len(sizes)
    return Orbits(len(forms), sizes, group_order)


@dataclass
class Case:
    text: str
    model: object
    roles: list[str]
    plain: object  # explore(model, Options(collect_all=True)), or a stopped search
    states: set | None
    orbits: Orbits | None


@functools.lru_cache(maxsize=None)
def _case(text: str, consts: tuple, cap: int | None) -> Case:
    model = pipeline(text, dict(consts))
    roles = symmetric_roles(model.checked)
    plain = explore(model, Options(collect_all=True, max_states=cap))
    if plain.verdict == "incomplete":
        return Case(text, model, roles, plain, None, None)
    states = reachable(model)
    return Case(text, model, roles, plain, states, count_orbits(model, roles, states) if roles else None)


def case(text: str, consts: dict | None = None, cap: int | None = None) -> Case:
    return _case(text, tuple(sorted((consts or {}).items())), cap)


def depths(result) -> dict:
    return {name: f.length for name, f in result.findings.items()}


def check_exact(c: Case) -> None:
    """The packed search stores one state per orbit and counts the unreduced states."""
    r = explore(c.model, Options(symmetry=True, collect_all=True))
    assert r.symmetric_roles == c.roles
    assert (r.verdict, depths(r)) == (c.plain.verdict, depths(c.plain)), c.text
    assert len(c.states) == c.plain.stats.distinct_states  # the oracle's search is the plain one
    assert r.stats.distinct_states == c.orbits.count, \
        f"stored {r.stats.distinct_states} states for {c.orbits.count} orbits"
    assert r.stats.states_without_symmetry == len(c.states), \
        f"orbit sizes add up to {r.stats.states_without_symmetry}, not {len(c.states)}"


def check_sound(c: Case) -> None:
    """The State search: sound, not necessarily exact past its cap on tie orders."""
    r = explore(c.model, Options(symmetry=True, packed=False, collect_all=True))
    assert r.symmetric_roles == c.roles
    assert (r.verdict, depths(r)) == (c.plain.verdict, depths(c.plain)), c.text
    assert c.orbits.count <= r.stats.distinct_states <= c.plain.stats.distinct_states
    if r.stats.states_without_symmetry is not None:
        assert r.stats.states_without_symmetry == c.plain.stats.distinct_states


# ---- hand-written specs ------------------------------------------------------------

# (a) TwoPhase (Gray and Lamport's, without aborts): the manager's set of prepared
# resources tells apart resources that are alike themselves (prepared, their
# Prepared message sent: with `delivery set` it stays in flight).
TWO_PHASE = """
spec two_phase_rm
const N = 3
enum RState { working, prepared, committed }
message Prepared()
message Commit()
network { delivery set }
role Manager {
  var ready: set<Resource> = {}
  var decided: bool = false
  on Prepared() from r when not decided { ready |= {r} }
  action commit when not decided and ready == Resource { decided = true; broadcast Commit() to Resource }
}
role Resource[N] {
  var state: RState = working
  action prepare when state == working { state = prepared; send Prepared() to Manager }
  on Commit() { state = committed }
}
invariant committed_only_if_all_prepared:
  (exists a in Resource: a.state == committed) => forall b in Resource: b.state != working
"""

# (b) A token passed along a path of at most HOPS hops from a node the Starter picks
# (an action with a node parameter): each node records who passed it the token and to
# whom it passed it (node-id variables), the token carries the origin (a node id in a
# message), and the origin may pick a peer. Nodes on the path are alike but for
# those pointers; revisits overwrite them.
TOKEN_PATH = """
spec token_path
const N = 6
const HOPS = 2
message Token(origin: Node?, hops: 0..HOPS)
network { delivery fifo }
role Starter {
  var started: bool = false
  action start(p: Node) when not started { started = true; send Token(none, 0) to p }
}
role Node[N] {
  var prev: node? = none
  var next: Node? = none
  var origin: Node? = none
  var peer: Node? = none
  on Token(o, h) from q {
    prev = q
    origin = if o == none then self else o
    if h < HOPS {
      let p = any Node
      require p != self
      next = p
      send Token(origin, h + 1) to p
    }
  }
  action pick(p: Node) when peer == none and origin == self and p != self { peer = p }
}
invariant no_revisit: forall a in Node: a.origin != a or a.prev == Starter
invariant peer_is_not_next: forall a in Node: a.peer == none or a.peer != a.next
"""

# (c) The same path, but nodes keep only a visit count: who visited whom is visible
# only in the Mark messages left in flight (no handler takes them), with
# `delivery unordered`.
MARKS = """
spec marks
const N = 6
const HOPS = 3
message Token(hops: 0..HOPS)
message Mark()
network { delivery unordered }
role Starter {
  var started: bool = false
  action start(p: Node) when not started { started = true; send Token(0) to p }
}
role Node[N] {
  var visits: 0..2 = 0
  on Token(h) from q when visits < 2 {
    visits += 1
    send Mark() to q
    if h < HOPS {
      let p = any Node
      require p != self
      send Token(h + 1) to p
    }
  }
}
invariant visited_once: forall a in Node: a.visits <= 1
"""

# (d) Ghost sets of nodes: which nodes the boss poked is recorded only in a ghost,
# which no node variable mirrors; which nodes flipped is in both.
GHOST_SET = """
spec ghost_set
const N = 6
const POKES = 2
ghost var poked: set<Node> = {}
ghost var flipped: set<Node> = {}
role Boss {
  var left: 0..POKES = POKES
  action poke(p: Node) when left > 0 { left -= 1; poked |= {p} }
}
role Node[N] {
  var on: bool = false
  var turns: 0..1 = 0
  action flip when turns < 1 { on = not on; turns += 1; flipped |= {self} }
}
invariant not_both_all: len(poked) < POKES or len(flipped) < N
invariant disjoint: len(poked & flipped) < POKES
"""

SPECS = {"two_phase": TWO_PHASE, "token_path": TOKEN_PATH, "marks": MARKS, "ghost_set": GHOST_SET}
# ghost_set with two pokes at 8 nodes has 11,520 states: one poke keeps it quick
EXTRA = {("ghost_set", 8): {"POKES": 1}}
CASES = [pytest.param(name, n, id=f"{name}-N{n}") for name in SPECS for n in (6, 7, 8)]


def hand_written(name: str, n: int) -> Case:
    c = case(SPECS[name], {"N": n, **EXTRA.get((name, n), {})})
    assert c.roles, "no symmetric role: the spec does not test symmetry"
    assert [len(g) for g in Symmetry(c.model, c.roles).groups] == [n]
    return c


@pytest.mark.parametrize("name, n", CASES)
def test_hand_written_specs_store_one_state_per_orbit(name, n):
    check_exact(hand_written(name, n))


@pytest.mark.parametrize("name, n", CASES)
def test_hand_written_specs_state_search_is_sound(name, n):
    check_sound(hand_written(name, n))


@pytest.mark.parametrize("name", SPECS)
def test_the_oracle_orbits_are_all_renamings(name):
    """The generators' closure is the orbit: at 6 nodes, against all 720 renamings."""
    c = hand_written(name, 6)
    sym = Symmetry(c.model, c.roles)
    n = len(c.model.checked.node_names)
    gens = generators(sym, n)
    pis = list(all_renamings(sym, n))
    assert len(pis) == c.orbits.group_order == 720
    sample = sorted(c.states, key=lambda s: sort_key(tuple(s)))[:: max(1, len(c.states) // 4)]
    for st in sample:
        orbit = orbit_of(sym, gens, st)
        assert orbit == {sym.apply(st, pi) for pi in pis}
        assert canonical_key(orbit) == min(sort_key(tuple(sym.apply(st, pi))) for pi in pis)
    # the shapes above really are asymmetric states of many orbits, not a handful
    assert c.orbits.count >= 10 and max(c.orbits.sizes) > 1


# ---- random specs ------------------------------------------------------------------


def make_spec(seed: int) -> str:
    """A random spec: one Driver that kicks nodes a bounded number of times, and one
    role of 6 or 7 interchangeable nodes with a node-id variable, a set of node ids
    and a flag, whose handlers pick nodes (`any Node`), send messages carrying node
    ids, and write a ghost set of nodes; optionally a crash and a restart, and a node
    named by index (the others stay interchangeable)."""
    rnd = random.Random(seed)
    n = rnd.choice([6, 7])
    kicks = rnd.choice([1, 2, 2])
    mode = rnd.choice(["unordered", "set", "fifo"])
    refs = rnd.random() < 0.7
    kick_opts = ["let q = any Node\n    require q != self\n    ptr = q", "flag = not flag", "hist |= {self}",
                 "seen |= {self}", "if ptr == none { ptr = d0 }"]
    if refs:
        kick_opts += ["let q = any Node\n    send Ref(self) to q", "broadcast Ref(self)", "send Ref(self) to self"]
    kick_body = "\n    ".join(rnd.sample(kick_opts, rnd.randint(1, 2)))
    ref_opts = ["seen |= {w}", "ptr = w", "if ptr == none { ptr = q }", "flag = true", "hist |= {w}",
                "if not flag {\n      flag = true\n      reply Ref(self)\n    }"]
    ref_body = "\n    ".join(rnd.sample(ref_opts, rnd.randint(1, 2)))
    act = ""
    if rnd.random() < 0.5:
        act = rnd.choice([
            "  action share when ptr != none and not flag {\n    flag = true\n    "
            + ("send Ref(self) to ptr" if refs else "hist |= {self}") + "\n  }\n",
            "  action follow(p: Node) when p in seen and ptr != p { ptr = p }\n",
            "  action forget when ptr != none { ptr = none; seen = {} }\n",
        ])
    faults = []
    if rnd.random() < 0.4:
        faults.append("crash Node at most 1")
        if rnd.random() < 0.5:
            faults.append("restart Node")
    persistent = "persistent " if rnd.random() < 0.3 else ""
    invs = rnd.sample([
        "forall a in Node: a.ptr != a",
        "count(a in Node where a.flag) <= 2",
        "forall a in Node: a not in a.seen",
        "forall a in Node: len(a.seen) <= 1",
        "not (exists a in Node: exists b in Node: a != b and a.ptr == b and b.ptr == a)",
        "len(hist) <= 1",
        "forall a in Node: forall b in Node: a.ptr == b => not b.flag",
        "forall a in Node: a.ptr == none or a.ptr in hist",
    ], 2)
    if rnd.random() < 0.15:
        invs.append("not Node[0].flag or len(Node[0].seen) <= N")
    inv_text = "\n".join(f"invariant i{k}: {t}" for k, t in enumerate(invs))
    ref_decl = "message Ref(who: Node)\n" if refs else ""
    ref_handler = f"  on Ref(w) from q {{\n    {ref_body}\n  }}\n" if refs else ""
    fault_text = ("faults {\n  " + "\n  ".join(faults) + "\n}\n") if faults else ""
    return f"""
spec rnd{seed}
const N = {n}
network {{ delivery {mode} }}
message Kick(by: Driver)
{ref_decl}ghost var hist: set<Node> = {{}}
role Driver {{
  var left: 0..{kicks} = {kicks}
  action kick(p: Node) when left > 0 {{ left -= 1; send Kick(self) to p }}
}}
role Node[N] {{
  {persistent}var ptr: Node? = none
  var seen: set<Node> = {{}}
  var flag: bool = false
  on Kick(d) {{
    let d0 = any Node
    {kick_body}
  }}
{ref_handler}{act}}}
{fault_text}{inv_text}
"""


# 20 seeds in CI; MC_SYMMETRY_SEEDS=200 for a longer local run.
SEEDS = range(int(os.environ.get("MC_SYMMETRY_SEEDS", 20)))
MAX_STATES = 20_000


def random_case(seed: int) -> Case:
    c = case(make_spec(seed), cap=MAX_STATES)
    if c.plain.verdict == "incomplete":
        pytest.skip(f"over {MAX_STATES:,} states without symmetry")
    if not c.roles:
        pytest.skip("no symmetric role")
    return c


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_store_one_state_per_orbit(seed):
    check_exact(random_case(seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_state_search_is_sound(seed):
    check_sound(random_case(seed))


def test_the_generator_makes_symmetric_specs_of_6_and_7_nodes():
    roles = [symmetric_roles(pipeline(make_spec(s)).checked) for s in SEEDS]
    assert sum(r == ["Node"] for r in roles) >= len(SEEDS) // 2
    texts = [make_spec(s) for s in SEEDS]
    for needle in ("const N = 6", "const N = 7", "delivery set", "delivery fifo", "delivery unordered",
                   "crash Node", "message Ref(who: Node)", "any Node", "Node[0]"):
        assert any(needle in t for t in texts), needle


def _refine_signing_every_node(search, colours):
    """refine.py's refinement as first written: every node signed every round."""
    from modelcheck.engine.refine import _ranks
    k, cells = search.k, len(set(colours))
    while cells < k:
        sigs = []
        for i in range(k):
            o = sorted(lk + colours[j] for lk, j in search.out[i])
            n = sorted(lk + colours[j] for lk, j in search.into[i])
            sigs.append((colours[i], *o, -1, *n))
        colours = _ranks(sigs)
        n = len(set(colours))
        if n == cells:
            return colours
        cells = n
    return colours


@pytest.mark.parametrize("seed", range(40))
def test_refinement_signs_only_shared_cells_with_the_same_colours(seed):
    """refine signs only the nodes that share their colour: the same colours, so the
    same leaves and representatives, as signing every node (random graphs)."""
    from modelcheck.engine.refine import _Search, _ranks
    rng = random.Random(seed)
    k = rng.randint(2, 12)
    out = [[] for _ in range(k)]
    into = [[] for _ in range(k)]
    for _ in range(rng.randint(0, 3 * k)):
        a, b, label = rng.randrange(k), rng.randrange(k), rng.randrange(3)
        out[a].append((label * k, b))
        into[b].append((label * k, a))
    search = _Search(k, [list(range(k))], out, into, None, None)
    for _ in range(5):
        colours = _ranks([rng.randrange(3) for _ in range(k)])
        assert search.refine(colours) == _refine_signing_every_node(search, colours)
