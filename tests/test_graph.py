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
