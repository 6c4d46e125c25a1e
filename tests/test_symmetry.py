"""Symmetry reduction (modelcheck/engine/symmetry.py): detection, exact orbit counts,
unchanged verdicts and shortest-trace lengths, concrete replayable traces."""
from __future__ import annotations

import itertools

import pytest

from conftest import KEEP, ROOT, pipeline, run_cli, verify_json

from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.symmetry import Symmetry, symmetric_groups, symmetric_roles


def roles_of(text: str) -> list[str]:
    return symmetric_roles(pipeline(text).checked)


BASE = """
spec s
role Server[3] {
  var leader: bool = false
  var peer: node? = none
  action elect when not leader { leader = true }
  action pick(p: Server) { peer = p }
}
role Client { var n: 0..1 = 0 }
"""


def groups_of(text: str) -> list[tuple[str, list[int]]]:
    return symmetric_groups(pipeline(text).checked)


@pytest.mark.parametrize("extra, groups", [
    ("", [("Server", [0, 1, 2])]),
    # a node named in the spec stays in place; the others are still interchangeable
    ("invariant first: Server[0].leader == Server[0].leader", [("Server", [1, 2])]),
])
def test_detection(extra, groups):
    assert groups_of(BASE + extra) == groups


def test_named_nodes_by_constant_expressions():
    text = BASE.replace("spec s", "spec s\nconst K = 1") + "invariant first: Server[K + 1].leader or not Server[K - 1].leader"
    assert groups_of(text) == []  # Server[2] and Server[0] named: one node left, nothing to swap
    text = BASE.replace("spec s", "spec s\nconst K = 1") + "invariant first: Server[2 * K].leader or true"
    assert groups_of(text) == [("Server", [0, 1])]


def test_a_computed_index_breaks_symmetry():
    assert roles_of(BASE + "invariant first: Server[len({1, 2})].leader or true") == []


def test_a_literal_node_in_role_code_keeps_that_node_apart():
    text = BASE.replace("when not leader {", "when not leader and self == Server[1] {")
    assert groups_of(text) == [("Server", [0, 2])]


def test_partial_symmetry_counts_orbits_exactly():
    """Only Server[1] may elect itself: Server[0] and Server[2] are interchangeable."""
    text = BASE.replace("when not leader {", "when not leader and self == Server[1] {")
    model = pipeline(text)
    plain = explore(model, Options())
    for use_packed in (True, False):
        reduced = explore(model, Options(symmetry=True, packed=use_packed))
        assert reduced.stats.distinct_states < plain.stats.distinct_states
        assert reduced.stats.states_without_symmetry == plain.stats.distinct_states


def test_for_loop_over_nodes_breaks_symmetry():
    text = BASE.replace("action elect when not leader { leader = true }",
                        "action elect when not leader { for s in Server { peer = s } }")
    assert roles_of(text) == []


def reachable(model, cap: int | None = None) -> set:
    """Every reachable state (the first `cap` found, with a cap), by a plain BFS."""
    seen = {model.initial}
    queue = [model.initial]
    for st in queue:
        for tr in model.successors(st):
            if tr.state is not None and tr.state not in seen and (cap is None or len(seen) < cap):
                seen.add(tr.state)
                queue.append(tr.state)
    return seen


@pytest.mark.parametrize("spec, consts", [("specs/majority_election.ha", {"LOSS": 0}),
                                          ("tests/regression/two_phase.ha", {})])
def test_states_explored_equal_the_exact_number_of_orbits(spec, consts):
    from conftest import pipeline as build_model

    model = build_model((ROOT / spec).read_text(), consts, faults=False)
    roles = symmetric_roles(model.checked)
    assert roles
    sym = Symmetry(model, roles)
    groups = sym.groups
    states = reachable(model)
    n = len(model.checked.node_names)

    def renamings():
        for perms in itertools.product(*[itertools.permutations(g) for g in groups]):
            pi = list(range(n))
            for g, p in zip(groups, perms):
                for old, new in zip(g, p):
                    pi[old] = new
            yield pi
    orbits = {frozenset(sym.apply(st, pi) for pi in renamings()) for st in states}
    r = explore(model, Options(symmetry=True))
    assert r.verdict == "holds" and r.symmetric_roles == roles
    assert r.stats.distinct_states == len(orbits) < len(states)


EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").glob("*.ha"))


@pytest.mark.parametrize("spec", EXAMPLES + ["tests/regression/two_phase.ha", "tests/models/two_nodes.ha"])
def test_verdicts_and_shortest_trace_lengths_do_not_change(spec):
    """Every example, with and without symmetry (on by default). Where no role is
    symmetric, or temporal properties are checked, the two runs are one search."""
    model = pipeline((ROOT / spec).read_text(), path=spec)
    # no symmetric role: symmetry changes nothing, shown on the first 3,000 states
    cap = None if symmetric_roles(model.checked) else 3_000
    a = explore(model, Options(symmetry=False, collect_all=True, max_states=cap))
    b = explore(model, Options(symmetry=True, collect_all=True, max_states=cap))
    assert a.verdict == b.verdict and a.stop_reason == b.stop_reason
    # every violated invariant is found, and at the same depth (the shortest trace)
    assert {n: f.length for n, f in a.findings.items()} == {n: f.length for n, f in b.findings.items()}
    if b.symmetric_roles:
        assert b.stats.distinct_states < a.stats.distinct_states
    else:
        assert (a.stats.distinct_states, a.stats.transitions) == (b.stats.distinct_states, b.stats.transitions)


def test_on_by_default_and_off_with_the_switch():
    code, on = verify_json(ROOT / "tests/regression/two_phase.ha", *KEEP)
    code2, off = verify_json(ROOT / "tests/regression/two_phase.ha", "--no-symmetry", *KEEP)
    assert (code, code2) == (0, 0)
    assert on["symmetric_roles"] == ["Participant"] and on["options"]["symmetry"] is True
    assert off["symmetric_roles"] == [] and off["options"]["symmetry"] is False
    assert on["stats"]["distinct_states"] < off["stats"]["distinct_states"] == 456


def test_symmetric_trace_is_concrete_and_replays(tmp_path):
    out = tmp_path / "t.json"
    proc = run_cli("verify", "specs/three_phase_commit_broken.ha", "--trace-out", str(out), "-q")
    assert proc.returncode == 1 and "symmetry" not in proc.stdout.split("Counterexample")[0]
    assert run_cli("replay", "specs/three_phase_commit_broken.ha", str(out)).returncode == 0


def test_reported_in_text_and_json():
    code, doc = verify_json(ROOT / "tests/regression/two_phase.ha")
    assert doc["symmetric_roles"] == ["Participant"] and doc["options"]["symmetry"] is True
    proc = run_cli("verify", "tests/regression/two_phase.ha")
    assert "symmetry: nodes of Participant are interchangeable" in proc.stdout


def test_not_used_with_temporal_properties():
    code, doc = verify_json(ROOT / "tests/matrix/vote.ha", "--no-faults")
    assert doc["symmetric_roles"] == []  # liveness needs the unreduced graph


# ---- canonical form on packed states (symmetry.PackedSymmetry) ---------------------


@pytest.mark.parametrize("spec, consts, faults", [
    ("specs/majority_election.ha", {"N": 4}, False),  # 4 servers: 24 renamings, ties of up to 4
    ("specs/majority_election.ha", {}, True),  # crashes, cut links, lost messages
    ("tests/regression/two_phase.ha", {}, True),
])
def test_packed_canonical_form_is_the_same_for_every_renaming(spec, consts, faults):
    from modelcheck.engine.packed import PackedModel
    from modelcheck.engine.symmetry import PackedSymmetry

    model = pipeline((ROOT / spec).read_text(), consts, faults=faults)
    sym = Symmetry(model, symmetric_roles(model.checked))
    pm = PackedModel(model)
    canon = PackedSymmetry(pm, sym).canon
    states = sorted(reachable(model, 3_000), key=repr)[::10]
    n = len(model.checked.node_names)
    for st in states:
        want = canon(pm.pack(st))
        assert pm.unpack(want) in {sym.apply(st, list(pi)) for pi in itertools.permutations(range(n))
                                   if all(sorted(pi[i] for i in g) == g for g in sym.groups)}
        for pi in itertools.permutations(sym.groups[0]):
            full = list(range(n))
            for old, new in zip(sym.groups[0], pi):
                full[old] = new
            assert canon(pm.pack(sym.apply(st, full))) == want


@pytest.mark.parametrize("spec, consts", [("specs/majority_election.ha", {"LOSS": 0}),
                                          ("specs/three_phase_commit_broken.ha", {}),
                                          ("tests/regression/two_phase.ha", {})])
def test_packed_and_state_symmetry_agree(spec, consts):
    """Both searches store one state per orbit (ties need at most 3! orders here)."""
    model = pipeline((ROOT / spec).read_text(), consts)
    a = explore(model, Options(symmetry=True, packed=False))
    b = explore(model, Options(symmetry=True))
    assert (a.verdict, a.stats.distinct_states, a.stats.depth) == (b.verdict, b.stats.distinct_states, b.stats.depth)
    assert len(a.trace) == len(b.trace)


@pytest.mark.parametrize("spec, consts, packed", [
    ("specs/majority_election.ha", {"LOSS": 0}, True),
    ("specs/majority_election.ha", {"N": 4, "LOSS": 0, "MAX_TERM": 1}, True),
    ("tests/regression/two_phase.ha", {}, True),
    ("tests/regression/two_phase.ha", {}, False),
    ("specs/lease_lock_fixed.ha", {}, False),  # a time block: the State search
])
def test_the_states_without_symmetry_are_counted_exactly(spec, consts, packed):
    """The sum of the stored states' orbit sizes is the unreduced search's count."""
    model = pipeline((ROOT / spec).read_text(), consts)
    plain = explore(model, Options())
    reduced = explore(model, Options(symmetry=True, packed=packed))
    assert reduced.symmetric_roles and reduced.stats.distinct_states < plain.stats.distinct_states
    assert reduced.stats.states_without_symmetry == plain.stats.distinct_states
    assert plain.stats.states_without_symmetry is None


def test_states_without_symmetry_in_the_summary_and_json():
    proc = run_cli("verify", "specs/majority_election.ha", "--const", "LOSS=0", "-q", *KEEP)
    assert "5,185 distinct states (30,420 without symmetry) · " in proc.stdout
    code, doc = verify_json(ROOT / "specs/majority_election.ha", "--const", "LOSS=0", "--no-symmetry")
    assert doc["stats"]["states_without_symmetry"] is None
    assert "without symmetry" not in run_cli("verify", "specs/naive_failover.ha", "-q").stdout


def test_states_without_symmetry_only_for_a_search_that_ran_to_the_end():
    model = pipeline((ROOT / "specs/three_phase_commit_broken.ha").read_text())
    stopped = explore(model, Options(symmetry=True))
    assert stopped.verdict == "violated" and stopped.stats.states_without_symmetry is None
    everything = explore(model, Options(symmetry=True, collect_all=True))
    assert everything.stats.states_without_symmetry == explore(model, Options(collect_all=True)).stats.distinct_states


# ---- random specs (the generator of tests/test_reduction_random.py) ----------------

from test_reduction_random import SEEDS, make_spec  # noqa: E402


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_same_verdicts_and_exact_unreduced_count(seed):
    """Symmetry on (packed and State searches) against the plain search: the same
    violated invariants at the same depths, and the orbit sizes add up to its count."""
    text = make_spec(seed)
    model = pipeline(text)
    base = explore(model, Options(collect_all=True, max_states=50_000))
    if base.verdict == "incomplete":
        pytest.skip("too many states for a quick comparison")
    for packed in (True, False):
        other = explore(model, Options(symmetry=True, collect_all=True, packed=packed))
        assert other.verdict == base.verdict, text
        assert {n: f.length for n, f in other.findings.items()} == {n: f.length for n, f in base.findings.items()}, text
        if other.symmetric_roles:
            assert other.stats.states_without_symmetry == base.stats.distinct_states, text
        else:
            assert other.stats.distinct_states == base.stats.distinct_states, text


def test_random_specs_include_symmetric_ones():
    assert sum(bool(symmetric_roles(pipeline(make_spec(s)).checked)) for s in SEEDS) >= len(SEEDS) // 5


@pytest.mark.parametrize("spec, consts", [("bench/models/paxos.ha", {"V": 2, "P": 2}),
                                          ("tests/regression/two_phase.ha", {}),
                                          ("specs/majority_election.ha", {"LOSS": 0})])
def test_interchangeable_tied_nodes_shortcut(spec, consts):
    """Where the nodes the cheap keys leave tied are interchangeable in the state,
    canon takes the order by keys without refine.canonical: the result is still the
    same for every renaming, and the stabilizer is the exact number of renamings that
    fix the state (brute force), in both engines."""
    from modelcheck.engine import symmetry as S
    from modelcheck.engine.packed import PackedModel

    model = pipeline((ROOT / spec).read_text(), consts)
    sym = Symmetry(model, symmetric_roles(model.checked))
    pm = PackedModel(model)
    psym = S.PackedSymmetry(pm, sym)
    n = len(model.checked.node_names)
    renamings = [list(pi) for pi in itertools.permutations(range(n))
                 if all(sorted(pi[i] for i in g) == g for g in sym.groups)]
    taken = 0
    calls = []
    real = S._interchangeable

    def spy(ties, fixes):
        out = real(ties, fixes)
        calls.append(out)
        return out
    S._interchangeable = spy
    try:
        for st in sorted(reachable(model, 4_000), key=repr)[::7]:
            calls.clear()
            want = psym.canon(pm.pack(st))
            if not (calls and calls[-1]):
                continue
            taken += 1
            fixed = sum(1 for pi in renamings if sym.apply(st, pi) == st)
            assert psym.stabilizer == fixed
            assert all(psym.canon(pm.pack(sym.apply(st, pi))) == want for pi in renamings)
            a = sym.canon(st)
            assert sym.stabilizer == fixed
            assert all(sym.canon(sym.apply(st, pi)) == a for pi in renamings)
    finally:
        S._interchangeable = real
    assert taken > 0


@pytest.mark.parametrize("spec, consts", [("bench/promela/vote_count.ha", {"N": 4}),
                                          ("bench/models/paxos.ha", {"V": 2, "P": 2}),
                                          ("specs/majority_election.ha", {})])
def test_per_node_network_keys_match_the_general_path(spec, consts):
    """PackedSymmetry's per-node message keys from bytes.translate (and str.translate
    on the str form) are the keys of the general path, on every network of a few
    thousand states (ids interned as met)."""
    from modelcheck.engine.packed import PackedModel
    from modelcheck.engine.symmetry import PackedSymmetry

    model = pipeline((ROOT / spec).read_text(), consts)
    pm = PackedModel(model)
    psym = PackedSymmetry(pm, Symmetry(model, symmetric_roles(model.checked)))
    k = pm.k
    seen, level = {pm.initial}, [pm.initial]
    while level and len(seen) < 3_000:
        level = [t for s in level for t in pm.successors(s) if t is not None and t not in seen and not seen.add(t)]
        for t in level:
            net = t[k + 1]
            assert psym._make_net_key(net) == psym._make_net_key_slow(net)
            # the str form (one character per id, what ids past 255 make) keys the same
            assert psym._make_wide_net_key(net.decode("latin-1")) == psym._make_net_key_slow(net)
    assert len(seen) >= 3_000
    assert len(psym._sub_key) > 1  # the per-node path ran (not only the general one)


@pytest.mark.parametrize("spec, consts", [("specs/ring_failover_broken.ha", {}),
                                          ("specs/majority_election.ha", {}),
                                          ("bench/models/paxos.ha", {"V": 2, "P": 2, "MAXB": 1})])
def test_packed_canonical_form_does_not_depend_on_what_came_first(spec, consts):
    """Each worker of a parallel search canonicalises the states it receives in its
    own order, with its own intern ids and its own tables (refinement's labels are
    numbered as they are met): in every order, each state must get the canonical
    form Symmetry.canon gives it on States (an independent implementation: it ranks
    each state's own labels), or the workers store one orbit more than once. Four
    fresh canonicalisers take the states in four orders."""
    import random

    from modelcheck.engine.packed import PackedModel
    from modelcheck.engine.symmetry import PackedSymmetry

    model = pipeline((ROOT / spec).read_text(), consts)
    roles = symmetric_roles(model.checked)
    sym = Symmetry(model, roles)
    states = sorted(reachable(model, 4_000), key=repr)
    want = {st: (sym.canon(st), sym.stabilizer) for st in states}
    renumbered = 0
    for seed in range(4):
        random.Random(seed).shuffle(states)
        pm = PackedModel(model)  # as a fresh process: its own intern ids and tables
        psym = PackedSymmetry(pm, Symmetry(model, roles))
        got = {st: (pm.unpack(psym.canon(pm.pack(st))), psym.stabilizer) for st in states}
        assert got == want, seed
        renumbered = max(renumbered, psym._label_epoch)
    assert renumbered > 1  # refinement ran, and labels were numbered as they came
