"""Symmetry reduction (modelcheck/symmetry.py): detection, exact orbit counts,
unchanged verdicts and shortest-trace lengths, concrete replayable traces."""
from __future__ import annotations

import itertools

import pytest

from conftest import ROOT, pipeline, run_cli, verify_json

from modelcheck.explorer import Options, explore
from modelcheck.symmetry import Symmetry, symmetric_roles


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


@pytest.mark.parametrize("extra, symmetric", [
    ("", ["Server"]),
    ("invariant first: Server[0].leader == Server[0].leader", []),  # a specific node
    # node ids cannot be ordered or used in arithmetic (type errors), so a literal
    # node is the way a spec tells nodes apart
])
def test_detection(extra, symmetric):
    assert roles_of(BASE + extra) == symmetric


def test_a_literal_node_in_role_code_breaks_symmetry():
    assert roles_of(BASE.replace("when not leader {", "when not leader and self == Server[1] {")) == []


def test_for_loop_over_nodes_breaks_symmetry():
    text = BASE.replace("action elect when not leader { leader = true }",
                        "action elect when not leader { for s in Server { peer = s } }")
    assert roles_of(text) == []


def reachable(model):
    seen = {model.initial}
    queue = [model.initial]
    for st in queue:
        for tr in model.successors(st):
            if tr.state is not None and tr.state not in seen:
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


@pytest.mark.parametrize("spec", ["specs/majority_election.ha", "specs/three_phase_commit_broken.ha",
                                  "tests/regression/two_phase.ha", "tests/models/two_nodes.ha",
                                  "specs/naive_failover.ha"])
def test_verdicts_and_shortest_trace_lengths_do_not_change(spec):
    extra = ("--const", "LOSS=0") if "majority" in spec else ()
    code_a, a = verify_json(ROOT / spec, *extra)
    code_b, b = verify_json(ROOT / spec, "--symmetry", *extra)
    assert code_a == code_b and a["verdict"] == b["verdict"]
    if a["violation"]:
        assert a["violation"]["name"] == b["violation"]["name"]
        assert len(a["trace"]["steps"]) == len(b["trace"]["steps"])
    assert b["stats"]["distinct_states"] <= a["stats"]["distinct_states"]


def test_symmetric_trace_is_concrete_and_replays(tmp_path):
    out = tmp_path / "t.json"
    proc = run_cli("verify", "specs/three_phase_commit_broken.ha", "--symmetry", "--trace-out", str(out), "-q")
    assert proc.returncode == 1 and "symmetry" not in proc.stdout.split("Counterexample")[0]
    assert run_cli("replay", "specs/three_phase_commit_broken.ha", str(out)).returncode == 0


def test_reported_in_text_and_json():
    code, doc = verify_json(ROOT / "tests/regression/two_phase.ha", "--symmetry")
    assert doc["symmetric_roles"] == ["Participant"] and doc["options"]["symmetry"] is True
    proc = run_cli("verify", "tests/regression/two_phase.ha", "--symmetry")
    assert "symmetry: nodes of Participant are interchangeable" in proc.stdout


def test_not_used_with_temporal_properties():
    code, doc = verify_json(ROOT / "tests/matrix/vote.ha", "--symmetry", "--no-faults")
    assert doc["symmetric_roles"] == []  # liveness needs the unreduced graph
