"""The example specs: verdicts, exit codes, trace lengths and state counts pinned.

majority_election's counts were cross-checked by an independent hand-written BFS of
the same model (see the closing note of the issue that added it).
"""
from __future__ import annotations

import pytest

from conftest import ROOT, verify_json


def test_naive_failover_finds_split_brain_in_three_steps():
    code, doc = verify_json(ROOT / "specs/naive_failover.ha")
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["name"] == "single_primary"
    assert [s["name"] for s in doc["trace"]["steps"]] == ["detector_tick", "detector_tick", "promote"]
    assert doc["stats"]["distinct_states"] == 17


@pytest.mark.parametrize("loss, states, transitions", [(0, 30_420, 201_864), (1, 265_125, 1_895_154)])
def test_majority_election_holds(loss, states, transitions):
    code, doc = verify_json(ROOT / "specs/majority_election.ha", "--const", f"LOSS={loss}")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == states
    assert doc["stats"]["transitions"] == transitions


def test_majority_election_with_volatile_vote_is_violated(tmp_path):
    text = (ROOT / "specs/majority_election.ha").read_text()
    assert "persistent var voted_for" in text
    spec = tmp_path / "volatile_vote.ha"
    spec.write_text(text.replace("persistent var voted_for", "var voted_for"))
    code, doc = verify_json(spec, "--const", "LOSS=0")
    assert code == 1 and doc["violation"]["name"] == "election_safety"
    kinds = [s["kind"] for s in doc["trace"]["steps"]]
    assert "crash" in kinds and "restart" in kinds
