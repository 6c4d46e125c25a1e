"""`modelcheck graph`: golden DOT/Mermaid for a small model, highlighting, refusal."""
from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("fmt, suffix", [("dot", "dot"), ("mermaid", "graph.mmd")])
def test_golden(fmt, suffix):
    proc = run_cli("graph", "specs/naive_failover.ha", "--no-faults", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    golden = GOLDEN / f"naive_failover.{suffix}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(proc.stdout)
    assert proc.stdout == golden.read_text()


def test_graph_matches_verify_and_highlights_the_counterexample():
    dot = run_cli("graph", "specs/naive_failover.ha", "--no-faults").stdout
    states = re.findall(r"^  s\d+ \[", dot, re.M)
    assert len(states) == 12  # every reachable state (verify stops at the first violation)
    red_edges = [line for line in dot.splitlines() if re.match(r"  s\d+ -> s\d+ ", line) and "color=\"red\"" in line]
    assert len(red_edges) == 3  # the 3-step split brain
    assert "peripheries=2" in dot.splitlines()[3]  # the initial state


def test_refuses_large_graphs():
    proc = run_cli("graph", "specs/majority_election.ha", "--max-states", "100")
    assert proc.returncode == 3 and "more than 100 states" in proc.stderr and proc.stdout == ""


FAILING_ASSERT = """spec s
message M()
role S[2] {
  var x: bool = false
  action a when not x { x = true; broadcast M() }
  on M() { assert false }
}
invariant i: true
"""


def test_a_failing_step_is_a_red_edge_to_an_error_node(spec_file):
    path = spec_file(FAILING_ASSERT)
    assert run_cli("verify", str(path)).returncode == 1  # VIOLATED: an assert failed
    proc = run_cli("graph", str(path))
    assert proc.returncode == 0, proc.stderr
    dot = proc.stdout.splitlines()
    # no self-loop stands for the failing delivery any more
    assert not [line for line in dot if re.match(r"  s(\d+) -> s\1 ", line)], proc.stdout
    errors = [line for line in dot if re.match(r"  e\d+ \[", line)]
    assert len(errors) == 3 and all('color="red"' in line and "assert failed" in line
                                    and "assertion failed: false" in line and "at line 6" in line
                                    for line in errors), proc.stdout
    to_errors = [line for line in dot if re.match(r"  s\d+ -> e\d+ ", line)]
    assert len(to_errors) == 3 and all('color="red"' in line for line in to_errors)
    # the counterexample: S[0] does a, then S[1] receives M() and fails, both bold red
    bold = [line for line in dot if "penwidth=2" in line]
    assert bold == ['  s0 -> s1 [label="S[0] does a", color="red", penwidth=2];',
                    '  s1 -> e0 [label="S[1] receives M() from S[0]", color="red", penwidth=2];'], proc.stdout


def test_a_failing_step_in_mermaid(spec_file):
    proc = run_cli("graph", str(spec_file(FAILING_ASSERT)), "--format", "mermaid")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if re.match(r"    s(\d+) -->.* s\1$", line)], proc.stdout
    assert '    e0{{"e0<br/>ERROR: assert failed<br/>assertion failed: false<br/>at line 6"}}' in lines
    links = [line for line in lines if re.match(r"    s\d+ -(->|\.->)", line)]
    bold = next(line for line in lines if line.startswith("    linkStyle") and "stroke-width:3px" in line)
    numbers = [int(x) for x in bold.split()[1].split(",")]
    assert [links[n] for n in numbers] == ['    s0 -->|"S[0] does a"| s1',
                                           '    s1 -->|"S[1] receives M() from S[0]"| e0'], proc.stdout
    assert "    class e0,e1,e2 error" in lines


def test_an_invariant_found_first_keeps_the_highlight_and_errors_stay_red(spec_file):
    # n reaches 2 (violating `small`) two steps before any step can leave its range
    proc = run_cli("graph", str(spec_file("""spec s
role S[2] {
  var n: 0..2 = 0
  action inc { n = n + 1 }
}
invariant small: forall s in S: s.n <= 1
""")))
    assert proc.returncode == 0, proc.stderr
    dot = proc.stdout.splitlines()
    bold = [line for line in dot if "penwidth=2" in line]
    assert len(bold) == 2 and all(re.match(r"  s\d+ -> s\d+ ", line) for line in bold), proc.stdout
    to_errors = [line for line in dot if re.match(r"  s\d+ -> e\d+ ", line)]
    assert to_errors and all('color="red", style="dashed"' in line for line in to_errors)
    assert all("outside its type 0..2" in line for line in dot if re.match(r"  e\d+ \[", line))


def test_failing_steps_stay_out_of_liveness_cycles(spec_file):
    # the recorded graph keeps a failing step as a fault self-loop (never fair, never
    # part of a cycle) and lists it in graph.errors for drawing
    from conftest import pipeline
    from modelcheck.engine.explorer import Options, explore
    from modelcheck.engine.liveness import FAULT

    model = pipeline(FAILING_ASSERT)
    result = explore(model, Options(collect_all=True, record_graph=True))
    g = result.graph
    assert len(g.errors) == 4  # s3 has two (each node receives M), drawn as one edge
    for s, k in g.errors:
        assert g.succ[s][k] == s and g.unit[s][k] == FAULT
        assert model.successors(g.states[s])[k].error is not None


def test_budgets_are_named_by_their_fault_line(spec_file):
    """Each state box says what every bounded fault line has left, by name; two lines of
    one kind are told apart by their role."""
    p = spec_file("""
spec budgets
message Ping
role A {
  var sent: bool = false
  action go when not sent { sent = true  send Ping to B }
}
role B {
  var got: bool = false
  on Ping { got = true }
}
faults {
  loss at most 1
  crash A at most 1
  crash B at most 1
}
""")
    dot = run_cli("graph", str(p)).stdout
    assert "budgets: loss: 1 left, crash A: 1 left, crash B: 1 left" in dot
    assert "budgets: loss: 0 left, crash A: 1 left, crash B: 1 left" in dot
    assert "fault budgets left" not in dot
