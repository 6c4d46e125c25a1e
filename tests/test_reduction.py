"""Sleep-set pruning (modelcheck/engine/reduction.py): hand-counted savings, the
independence of footprints, and unchanged states, verdicts and trace lengths on
every example spec."""
from __future__ import annotations

import pytest

from conftest import KEEP, ROOT, pipeline, run_cli, verify_json

from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import Step
from modelcheck.engine.reduction import Footprints, independent

GRID = """
spec grid
role A { var x: 0..2 = 0
  action inc when x < 2 { x += 1 } }
role B { var y: 0..2 = 0
  action inc when y < 2 { y += 1 } }
invariant ok: A.x + B.y <= 4
"""


def test_two_independent_counters_hand_counted():
    # A 3x3 grid: 9 states, 12 edges. BFS with sleep sets (taking A before B):
    #   (0,0): takes a->(1,0) and b->(0,1) [sleep {a}]
    #   (1,0): a->(2,0), b->(1,1) [sleep {a}]      (0,1){a}: skips a, b->(0,2) [{a}]
    #   (2,0): b->(2,1)   (1,1){a}: skips a, b->(1,2) [{a}]   (0,2){a}: skips a
    #   (2,1): b->(2,2)   (1,2){a}: skips a
    # 8 transitions taken, 4 pruned, every state visited.
    model = pipeline(GRID)
    on = explore(model, Options(prune=True))
    off = explore(model, Options())
    assert (off.stats.distinct_states, off.stats.transitions, off.stats.pruned_transitions) == (9, 12, None)
    assert (on.stats.distinct_states, on.stats.transitions, on.stats.pruned_transitions) == (9, 8, 4)
    assert on.stats.revisits == 0


def _fp(model, state, step):
    return Footprints(model).of(state, step)[1]


PAIR = """
spec pair
message Ping
role N[3] {
  var got: 0..3 = 0
  on Ping from p when got < 3 { got += 1 }
  action ping(p: N) { send Ping to p }
}
faults { crash N  loss  partition  heal }
invariant ok: true
"""


def test_footprints():
    model = pipeline(PAIR)
    s = model.initial
    deliver_01 = Step("deliver", node=1, name="Ping", message=(0, 1, 0, ()))
    deliver_02 = Step("deliver", node=2, name="Ping", message=(0, 2, 0, ()))
    send_21 = Step("action", node=2, name="ping", sent=((2, 1, 0, ()),))
    send_01 = Step("action", node=0, name="ping", sent=((0, 1, 0, ()),))
    crash_0 = Step("crash", node=0)
    crash_1 = Step("crash", node=1)
    loss_01 = Step("loss", message=(0, 1, 0, ()))
    cut = Step("partition", detail=((0,), (1, 2)))
    fp = {name: _fp(model, s, st) for name, st in locals().items() if isinstance(st, Step)}
    # different nodes, different links: independent
    assert independent(fp["deliver_01"], fp["deliver_02"])
    assert independent(fp["deliver_01"], fp["send_21"])  # node 2 sends to 1 on another link
    assert independent(fp["crash_0"], fp["deliver_01"])  # a message in flight outlives its sender
    # the same node, the same link, a cut of the link: dependent
    assert not independent(fp["crash_1"], fp["deliver_01"])
    assert not independent(fp["deliver_01"], fp["send_01"])  # 0 puts a copy on the link being read
    assert not independent(fp["loss_01"], fp["deliver_01"])
    assert not independent(fp["cut"], fp["deliver_01"])
    assert independent(fp["cut"], fp["send_21"])  # sending over a link, cut or not, is always possible
    assert not independent(fp["cut"], _fp(model, s, Step("heal", detail=((0, 1),))))


SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))
# Over ~2 s for the pair of runs: compared by `bench/run.py --suite prune` instead, and
# pruning itself by the random specs of tests/test_reduction_random.py
# (numbers in docs/language.md, "Pruning").
HEAVY = {"raft_membership_fixed.ha", "raft_membership_broken.ha", "stale_read_fixed.ha", "lease_read_broken.ha",
         "majority_election_proof.ha", "three_phase_commit_fixed.ha", "async_failover_fixed.ha",
         "zk_ack_before_fsync_fixed.ha", "stonith_mutual_fixed.ha", "two_phase_commit_fixed.ha",
         "majority_election.ha", "stale_read_broken.ha", "kafka_hw_truncation_fixed.ha", "zk_ack_before_fsync_broken.ha"}


def _model(name: str):
    from modelcheck.lang.checker import check
    from modelcheck.lang.diagnostics import Source
    from modelcheck.engine.model import build
    from modelcheck.lang.parser import parse

    path = ROOT / "specs" / name
    source = Source(str(path), path.read_text())
    consts = {"LOSS": 0} if name == "majority_election.ha" else {}
    return build(check(parse(source), consts), source)


@pytest.mark.parametrize("name", [n for n in SPECS if n not in HEAVY])
def test_pruning_changes_no_verdict_state_count_or_trace_length(name):
    model = _model(name)
    off = explore(model, Options())
    on = explore(model, Options(prune=True))
    assert on.verdict == off.verdict
    assert (on.violation.name if on.violation else None) == (off.violation.name if off.violation else None)
    assert len(on.trace) == len(off.trace)
    assert on.stats.depth == off.stats.depth
    if off.verdict == "holds":
        assert on.stats.distinct_states == off.stats.distinct_states
        if on.stats.revisits == 0:  # every state expanded once: each transition taken or pruned
            assert on.stats.transitions + (on.stats.pruned_transitions or 0) == off.stats.transitions


def test_summary_line_json_and_switch():
    proc = run_cli("verify", "specs/majority_election.ha", "--no-faults", "--no-symmetry", "--prune")
    assert "912 distinct states · 5,202 transitions (+2,849 pruned)" in proc.stdout
    code, doc = verify_json("specs/majority_election.ha", "--no-faults", "--no-symmetry", *KEEP)  # off by default
    assert code == 0
    assert doc["stats"]["transitions"] == 7_614 and doc["stats"]["pruned_transitions"] is None
    assert doc["options"]["prune"] is False
    code, doc = verify_json("specs/majority_election.ha", "--no-faults", "--no-symmetry", "--prune")
    assert doc["options"]["prune"] is True
    assert (doc["stats"]["transitions"], doc["stats"]["pruned_transitions"]) == (5_202, 2_849)


def test_off_with_symmetry_liveness_and_time_and_the_report_says_why():
    code, doc = verify_json("specs/majority_election.ha", "--no-faults", "--prune")
    assert doc["stats"]["pruned_transitions"] is None and doc["symmetric_roles"] == ["Server"]
    assert doc["notes"] == ["--prune is off: symmetry renames steps along with states; --no-symmetry --prune prunes"]
    code, doc = verify_json("specs/lease_lock_fixed.ha", "--prune", "--no-symmetry")  # a time block
    assert doc["stats"]["pruned_transitions"] is None and "time block" in doc["notes"][0]
    code, doc = verify_json("specs/two_phase_commit_fixed.ha", "--prune")  # temporal properties
    assert doc["stats"]["pruned_transitions"] is None and "liveness" in doc["notes"][0]
    proc = run_cli("verify", "specs/majority_election.ha", "--no-faults", "--prune")
    assert "note: --prune is off: symmetry" in proc.stdout
    code, doc = verify_json("specs/majority_election.ha", "--no-faults", "--no-symmetry", "--prune")
    assert doc["notes"] == [] and doc["stats"]["pruned_transitions"] == 2_849
