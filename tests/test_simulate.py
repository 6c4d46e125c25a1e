"""`modelcheck simulate`: finds bugs with a fixed seed, is deterministic, reports
coverage, and its counterexamples replay."""
from __future__ import annotations

import json

from conftest import run_cli

from modelcheck.simulate import _cut_loops


def sim_json(*args):
    proc = run_cli("simulate", *args, "--format", "json")
    return proc.returncode, json.loads(proc.stdout)


def test_finds_the_naive_failover_split_brain_in_few_runs():
    code, doc = sim_json("specs/naive_failover.ha", "--runs", "10", "--seed", "1")
    assert code == 1 and doc["violation"]["name"] == "single_primary"
    assert len(doc["trace"]["steps"]) == 3 and doc["simulation"]["first_found_in_run"] <= 10


def test_same_seed_same_result():
    a = sim_json("specs/async_failover_broken.ha", "--runs", "200", "--seed", "7")[1]
    b = sim_json("specs/async_failover_broken.ha", "--runs", "200", "--seed", "7")[1]
    for doc in (a, b):
        for key in ("seconds", "steps_per_second", "runs_per_second"):
            doc["simulation"].pop(key)
        doc["stats"].pop("seconds")
        doc["stats"].pop("states_per_second")
    assert a == b


def test_nothing_found_is_exit_0_and_says_it_is_not_a_proof():
    proc = run_cli("simulate", "specs/majority_election.ha", "--runs", "5", "--depth", "20")
    assert proc.returncode == 0 and "not a proof" in proc.stdout


def test_coverage_names_what_no_run_took(spec_file):
    p = spec_file("""
spec cov
role A { var x: 0..3 = 0
  action up when x < 3 { x = x + 1 }
  action never when x > 5 { x = 0 } }
invariant ok: true
""")
    code, doc = sim_json(str(p), "--runs", "5", "--depth", "5")
    assert code == 0 and doc["simulation"]["never_taken"] == ["A: action never"]


def test_simulated_counterexample_replays(tmp_path):
    out = tmp_path / "t.json"
    proc = run_cli("simulate", "specs/stonith_unconfirmed_broken.ha", "--runs", "300", "--seed", "2",
                   "--trace-out", str(out), "-q")
    assert proc.returncode == 1
    assert run_cli("replay", "specs/stonith_unconfirmed_broken.ha", str(out)).returncode == 0


def test_loops_are_cut_from_walks():
    walk = [("a", 1), ("b", 2), ("c", 1), ("d", 3), ("e", 0), ("f", 4)]
    assert _cut_loops(walk, 0) == [("f", 4)]
    assert _cut_loops([("a", 1), ("b", 2), ("c", 1), ("d", 3)], 0) == [("a", 1), ("d", 3)]

