"""Gallery of real HA failures: reads (case 4, the etcd 0.4 variant).

A node that believes it is leader answers reads from its own state machine; cut
off from the majority, it serves a value older than a write the new leader has
already acknowledged (etcd #741). The broken spec's shortest counterexample is
pinned step by step; the fixed spec (ReadIndex, Raft thesis §6.4) must hold over
its whole reachable state space under the same faults, with an exact state
count. Each part of the fix is shown to be needed by editing it out.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, pipeline, verify_json as verify

BROKEN = "specs/stale_read_broken.ha"
FIXED = "specs/stale_read_fixed.ha"
FIXED_STATES = 3_540  # symmetry (Server[1], Server[2]) and no partition steps; 59,764 with --keep-partitions


def steps(doc: dict) -> list[tuple[str, str | None, str | None]]:
    return [(s["kind"], s["node"], s["name"]) for s in doc["trace"]["steps"]]


# The case's counterexample (S1..S3 = Server[0..2], client A = Writer, client B
# = Reader), without its partition step: see test_the_case_trace_with_its_partition.
CASE_STEPS = [
    ("action", "Server[1]", "timeout"),        # S2 stands for term 2
    ("deliver", "Server[2]", "RequestVote"),   # S3 votes for S2
    ("deliver", "Server[1]", "Vote"),          # S2 leads term 2; S1 has not heard
    ("action", "Writer", "write"),             # A writes x=2
    ("deliver", "Server[1]", "Write"),         # S2 appends it in term 2
    ("deliver", "Server[2]", "AppendEntries"), # S3 holds it
    ("deliver", "Server[1]", "AppendAck"),     # committed on {S2, S3}; acked
    ("deliver", "Writer", "WriteAck"),         # the write is complete
    ("action", "Reader", "read"),              # B reads at S1
    ("deliver", "Server[0]", "Read"),          # S1 still believes it leads
    ("deliver", "Reader", "ReadResp"),         # B gets x=1
]


def test_broken_spec_serves_a_stale_read():
    code, doc = verify(BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant"
    assert doc["violation"]["name"] == "linearizable_read"
    assert len(doc["trace"]["steps"]) == len(CASE_STEPS)
    assert steps(doc) == CASE_STEPS
    trace = doc["trace"]["steps"]
    assert trace[8]["params"] == {"s": "Server[0]"}
    assert trace[9]["sent"][0]["fields"] == {"x": 1}
    last = trace[-1]["state"]
    assert last["ghosts"] == {"acked": 2, "read_floor": 2}
    assert last["nodes"]["Reader"]["vars"]["result"] == 1
    # S1 still believes it leads term 1; S2 leads term 2 and has committed x=2.
    assert last["nodes"]["Server[0]"]["vars"]["leader"] is True
    assert last["nodes"]["Server[0]"]["vars"]["term"] == 1
    assert last["nodes"]["Server[1]"]["vars"]["leader"] is True
    assert last["nodes"]["Server[1]"]["vars"]["commit"] == 2


def test_broken_spec_needs_no_fault():
    """In the asynchronous model the partition is only delay: same trace without faults."""
    code, doc = verify(BROKEN, "--no-faults")
    assert code == 1 and doc["violation"]["name"] == "linearizable_read"
    assert steps(doc) == CASE_STEPS


def test_the_case_trace_with_its_partition():
    """The case's trace step for step, partition {S1, B} | {S2, S3, A} first, is a
    behaviour of the broken spec: while the cut holds, S1 cannot hear term 2, and
    the read at S1 returns x=1. (One step longer, so not the trace BFS prints.)"""
    model = pipeline((ROOT / BROKEN).read_text(), path=BROKEN)
    names = model.checked.node_names
    inv = model.invariants[0]
    state = model.initial
    path = [("partition", None, None, ((1, 2, 3), (0, 4)))] + [
        (kind, names.index(node), name, ((("s", 0),) if name == "read" else ()))
        for kind, node, name in CASE_STEPS]
    for i, (kind, node, name, extra) in enumerate(path):
        assert inv.holds(state)
        matches = [tr for tr in model.successors(state)
                   if tr.step.kind == kind and tr.step.node == node and tr.step.name == name
                   and (tr.step.detail == extra if kind == "partition"
                        else tuple((p[0], p[1]) for p in tr.step.params) == extra)]
        assert len(matches) == 1, f"step {i + 1} {kind} {node} {name} is not enabled"
        state = matches[0].state
        # S1 never hears anything while the partition holds
        assert not any(tr.step.kind == "deliver" and tr.step.node == 0 and tr.step.name != "Read"
                       for tr in model.successors(state))
    assert not inv.holds(state)
    assert state.cut  # the partition is still in place when B reads at S1


def test_fixed_spec_holds_over_its_whole_state_space():
    code, doc = verify(FIXED)
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stop_reason"] is None
    assert doc["stats"]["distinct_states"] == FIXED_STATES


def test_broken_and_fixed_share_faults_and_bounds():
    _, broken = verify(BROKEN, "--max-depth", "0")
    _, fixed = verify(FIXED, "--max-depth", "0")
    assert broken["faults"] == fixed["faults"] == "partition at most 1, heal"
    assert broken["invariants"] == fixed["invariants"] == ["linearizable_read"]
    assert broken["options"]["consts"] == fixed["options"]["consts"]


# Each part of ReadIndex is needed: edit it out of the fixed spec and a stale
# read comes back. Checked without faults (a partition adds no bad state in the
# asynchronous model, and the runs are much shorter).
PRECONDITION = " and log[commit - 1][0] == term {"
ROUND = """    read_index = commit
    confirmed = {self}
    broadcast ReadHeartbeat(term)
  }"""
ABLATIONS = {
    # (1) a new leader that has not committed an entry of its term does not
    # know x=2 is committed
    "no_commit_in_term": ((PRECONDITION, " {"), [
        ("action", "Writer", "write"),
        ("deliver", "Server[0]", "Write"),
        ("deliver", "Server[1]", "AppendEntries"),
        ("deliver", "Server[0]", "AppendAck"),
        ("action", "Server[1]", "timeout"),
        ("deliver", "Server[0]", "RequestVote"),
        ("deliver", "Server[1]", "Vote"),
        ("deliver", "Writer", "WriteAck"),
        ("action", "Reader", "read"),
        ("deliver", "Server[1]", "Read"),
        ("deliver", "Server[0]", "ReadHeartbeat"),
        ("deliver", "Server[1]", "ReadHeartbeatAck"),
        ("deliver", "Reader", "ReadResp"),
    ]),
    # (3) no heartbeat round: etcd 0.4 again
    "no_heartbeat_round": ((ROUND, "    reply ReadResp(max({e[1] for e in log[:commit]}))\n  }"),
                           CASE_STEPS),
    # (3) a round not tied to the read: an acknowledgement from before the read counts
    "heartbeats_not_tied_to_the_read": ((ROUND, """    read_index = commit
    confirmed = {self}
  }

  action heartbeat when leader {
    broadcast ReadHeartbeat(term)
  }"""), [
        ("action", "Server[0]", "heartbeat"),
        ("deliver", "Server[1]", "ReadHeartbeat"),
        *CASE_STEPS[:10],
        ("deliver", "Server[0]", "ReadHeartbeatAck"),
        ("deliver", "Reader", "ReadResp"),
    ]),
}


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_each_part_of_read_index_is_needed(name, tmp_path):
    (old, new), expected = ABLATIONS[name]
    text = (ROOT / FIXED).read_text()
    assert text.count(old) == 1
    spec = tmp_path / f"{name}.ha"
    spec.write_text(text.replace(old, new))
    # --no-symmetry: the traces are pinned in the case's node names (with symmetry,
    # Server[1] and Server[2] are interchangeable and a renamed trace may be printed)
    code, doc = verify(str(spec), "--no-faults", "--no-symmetry")
    assert code == 1 and doc["violation"]["name"] == "linearizable_read"
    assert steps(doc) == expected


# The fixed spec is not vacuous: reads are still answered, fresh ones included.
REACHABLE = [
    # S1 answers in term 1 (x=1, before any write was acked)
    "not (Reader.result == 1 and Server[0].served)",
    # the term-2 leader answers x=2 to a read that began after x=2 was acked
    "not (Reader.result == 2 and read_floor == 2 and (Server[1].served or Server[2].served))",
]


@pytest.mark.parametrize("forbidden", REACHABLE)
def test_fixed_spec_still_answers_reads(forbidden, tmp_path):
    probe = tmp_path / "probe.ha"
    probe.write_text((ROOT / FIXED).read_text() + f"\ninvariant probe: {forbidden}\n")
    code, doc = verify(str(probe), "--invariant", "probe", "--no-faults")
    assert code == 1 and doc["violation"]["name"] == "probe"
