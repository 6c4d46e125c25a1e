"""`modelcheck simulate`: finds bugs with a fixed seed, is deterministic, reports
coverage, and its counterexamples replay."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli

from modelcheck.engine.simulate import _cut_loops


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



# ---- corner cases: nothing to do, deadlocks, tiny depths, swarm, faults only ----

def _sim(text: str, **kw):
    from conftest import pipeline

    from modelcheck.engine.simulate import SimOptions, simulate

    return simulate(pipeline(text), SimOptions(**kw))


def test_a_spec_with_no_steps_is_simulated_not_crashed(spec_file):
    # `spec s` alone used to crash swarm selection (IndexError: choice from an empty list)
    for text in ("spec s\n", "spec s\ninvariant i: true\n"):
        proc = run_cli("simulate", str(spec_file(text)))
        assert proc.returncode == 0, proc.stderr
        assert "No violation found" in proc.stdout and "internal error" not in proc.stderr
        code, doc = sim_json(str(spec_file(text)), "--runs", "3")
        assert code == 0 and doc["verdict"] == "holds" and doc["simulation"]["steps"] == 0
        rep = _sim(text, runs=3)
        assert rep.initial_deadlock and rep.deadlocks == 3 and rep.steps == 0
        assert len(rep.notes) == 1 and rep.notes[0].startswith("No step is enabled in the initial state")
        assert "its invariants hold" in rep.notes[0]


def test_a_spec_with_no_steps_still_checks_the_initial_state(spec_file):
    text = "spec s\nconst K = 1\ninvariant bad: K == 2\n"
    code, doc = sim_json(str(spec_file(text)))
    assert code == 1 and doc["violation"]["name"] == "bad" and doc["trace"]["steps"] == []
    rep = _sim(text)
    assert rep.initial_deadlock and "it violates an invariant" in rep.notes[0]


def test_every_run_ending_in_a_deadlock_is_said(spec_file):
    text = """spec s
role S[2] {
  var x: 0..2 = 0
  action a when x < 2 { x = x + 1 }
}
invariant i: true
"""
    assert run_cli("simulate", str(spec_file(text)), "--runs", "20").returncode == 0
    for swarm in (True, False):
        rep = _sim(text, runs=20, swarm=swarm)
        assert rep.deadlocks == 20 and rep.steps == 20 * 4 and not rep.initial_deadlock
        assert rep.notes == ["Every run ended in a state where no step is enabled (a deadlock, or the protocol "
                             "finished), after at most 4 steps."]
    rep = _sim(text, runs=20, depth=3)  # cut off by the depth first: no deadlock
    assert rep.deadlocks == 0 and rep.notes == []


def test_depth_1(spec_file):
    code, doc = sim_json("specs/naive_failover.ha", "--depth", "1", "--runs", "50")
    assert code == 0 and doc["stats"]["depth"] == 1  # the split brain needs 3 steps
    bad = spec_file("""spec s
role S[2] { var x: 0..1 = 0
  action a { x = 1 } }
invariant zero: forall s in S: s.x == 0
""")
    code, doc = sim_json(str(bad), "--depth", "1", "--runs", "5")
    assert code == 1 and len(doc["trace"]["steps"]) == 1


def test_swarm_never_switches_everything_off(spec_file):
    # one feature only: a run with it switched off would take the steps anyway
    text = """spec s
role S[2] { var x: 0..3 = 0
  action a when x < 3 { x = x + 1 } }
invariant small: forall s in S: s.x <= 2
"""
    rep = _sim(text, runs=30, seed=5)
    assert rep.result.verdict == "violated" and rep.never_taken == []


def test_a_spec_whose_only_steps_are_faults(spec_file):
    text = """spec s
role S[2] { var x: bool = false }
faults { crash S at most 1 }
invariant i: true
"""
    proc = run_cli("simulate", str(spec_file(text)), "--runs", "10")
    assert proc.returncode == 0, proc.stderr
    rep = _sim(text, runs=10)
    assert rep.steps == 10 and rep.never_taken == [] and rep.deadlocks == 10  # one crash, then nothing
    both = """spec s
role S[2] { var up_seen: bool = false }
faults { crash S at most 1 }
invariant nobody_down: not crashed(S[0])
"""
    code, doc = sim_json(str(spec_file(both)), "--runs", "20")
    assert code == 1 and len(doc["trace"]["steps"]) == 1


# ---- shrinking (engine/shrink.py) ------------------------------------------------

WANDER = """spec wander
role S[1] {
  var x: 0..3 = 0
  var a: 0..3 = 0
  var b: bool = false
  action inc when x < 3 { x = x + 1 }
  action drift when a < 3 { a = a + 1 }
  action flip { b = not b }
}
invariant small: S[0].x < 3
"""


def test_shrinking_drops_the_detours_a_walk_took(spec_file):
    # a walk wanders (drift, flip) before the third inc; cutting loops keeps the
    # detours through new states, shrinking drops them: 3 steps, verify's shortest
    raw = _sim(WANDER, runs=1, depth=60, seed=2, swarm=False, shrink=False)
    rep = _sim(WANDER, runs=1, depth=60, seed=2, swarm=False)
    assert len(raw.result.trace) > 3
    assert len(rep.result.trace) == 3 and rep.shrunk_from == len(raw.result.trace)
    assert [s.name for s, _ in rep.result.trace] == ["inc"] * 3
    assert rep.result.violation.name == "small" and rep.shrink_complete
    code, doc = sim_json(str(spec_file(WANDER)), "--runs", "1", "--depth", "60", "--seed", "2", "--no-swarm")
    assert code == 1 and doc["simulation"]["shrunk_from"] == len(raw.result.trace)
    assert len(doc["trace"]["steps"]) == 3
    text = run_cli("simulate", str(spec_file(WANDER)), "--runs", "1", "--depth", "60", "--seed", "2", "--no-swarm")
    assert f"Shrunk from {len(raw.result.trace)} steps to 3" in text.stdout and "Not proved shortest" in text.stdout
    assert f"(shrunk from {len(raw.result.trace)}; first found in run" in text.stdout
    off = run_cli("simulate", str(spec_file(WANDER)), "--runs", "1", "--depth", "60", "--seed", "2", "--no-swarm",
                  "--no-shrink")
    assert "Shrunk" not in off.stdout and f"shortest violation: {len(raw.result.trace)} steps" in off.stdout


@pytest.mark.parametrize("name, seed", [("async_failover_broken.ha", 2), ("partial_quorum_broken.ha", 1),
                                        ("raft_prevote_broken.ha", 1), ("stonith_unconfirmed_broken.ha", 1)])
def test_a_shrunk_trace_replays_to_the_same_violation_and_is_no_shorter_than_verify(name, seed, tmp_path):
    from conftest import ROOT

    from modelcheck import api
    from modelcheck.engine.shrink import replay, same_violation, step_key
    from modelcheck.engine.simulate import SimOptions, simulate

    model = api.build_model(api.load(ROOT / "specs" / name))
    raw = simulate(model, SimOptions(runs=300, depth=200, seed=seed, shrink=False))
    rep = simulate(model, SimOptions(runs=300, depth=200, seed=seed))
    assert rep.shrunk_from == len(raw.result.trace) > len(rep.result.trace)  # these four do shrink
    assert same_violation(rep.result.violation, raw.result.violation)
    again = replay(model, [step_key(s) for s, _ in rep.result.trace])
    assert again is not None and len(again[0]) == len(rep.result.trace)
    assert len(rep.result.trace) >= len(api.verify(ROOT / "specs" / name, invariants=[
        raw.result.violation.name]).trace)
    same = simulate(model, SimOptions(runs=300, depth=200, seed=seed, workers=2))  # any number of workers
    assert [s for s, _ in same.result.trace] == [s for s, _ in rep.result.trace]
    trace = tmp_path / "t.json"
    run = run_cli("simulate", str(ROOT / "specs" / name), "--runs", "300", "--depth", "200", "--seed", str(seed),
                  "--trace-out", str(trace))
    assert run.returncode == 1
    assert run_cli("replay", str(ROOT / "specs" / name), str(trace)).returncode == 0


@pytest.mark.parametrize("name", ["ring_failover_broken.ha", "majority_election.ha", "stonith_unconfirmed_broken.ha"])
def test_workers_give_the_same_report(name):
    from conftest import ROOT

    docs = []
    for workers in ("1", "2", "3"):
        code, doc = sim_json(str(ROOT / "specs" / name), "--runs", "600", "--seed", "4", "--workers", workers)
        sim = doc["simulation"]
        for key in ("seconds", "steps_per_second", "runs_per_second"):
            sim.pop(key)
        doc["stats"].pop("seconds"), doc["stats"].pop("states_per_second")
        docs.append((code, doc))
    assert docs[0] == docs[1] == docs[2]


def test_workers_really_share_the_runs(monkeypatch):
    # the report is the same with any N, so check that N processes did take the runs
    from conftest import ROOT

    from modelcheck import api
    from modelcheck.engine import simulate as sim
    from modelcheck.engine.parallel.local import LocalPool

    shares = []

    class Counting(LocalPool):
        def call_all(self, method, args):
            shares.append([len(a[0]) for a in args])
            return super().call_all(method, args)

    monkeypatch.setattr(sim, "LocalPool", Counting)
    model = api.build_model(api.load(ROOT / "specs" / "majority_election.ha"))
    two = sim.simulate(model, sim.SimOptions(runs=600, seed=4, workers=2))
    one = sim.simulate(model, sim.SimOptions(runs=600, seed=4))
    assert shares and all(len(s) == 2 and min(s) > 0 for s in shares) and sum(map(sum, shares)) == 600
    assert (two.runs, two.steps, two.result.stats.distinct_states) == (one.runs, one.steps, one.result.stats.distinct_states)
