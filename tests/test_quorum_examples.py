"""Examples that teach the quorum math: pinned verdicts under every scenario.

Each spec is checked through the real command line (`verify --format json`)
with no faults, with its faults block and with each of its scenarios. For
each run this pins the verdict, which invariant or property is violated (the
first one: invariants are checked during the search, then properties in
declaration order) and the counterexample's length, stem plus cycle. Where a
scenario's point is that one property holds while another is violated, both
are checked on their own (`--property`). The headers of the specs show the
same results as a matrix.

  specs/quorum_register.ha          majority quorums: safe; available iff a majority is reachable
  specs/quorum_register.ha --const QUORUM=1   the naive variant: available, never safe
  specs/two_phase_commit_broken.ha  2PC: safe, blocks when the coordinator crashes (gallery case 10)
  specs/two_phase_commit_fixed.ha   Paxos Commit with F = 1: live when the coordinator crashes for good
  specs/read_only_degraded.ha       reads stay available without a leader, writes do not
"""
from __future__ import annotations

import functools

import pytest

from conftest import verify_json

HOLDS = ("holds", None, None)


def violated(name: str, length: int) -> tuple[str, str, int]:
    return ("violated", name, length)


@functools.lru_cache(maxsize=None)
def run(spec: str, *args: str) -> tuple[int, dict]:
    return verify_json(spec, *args)


def outcome(doc: dict) -> tuple[str, str | None, int | None]:
    if doc["verdict"] != "violated":
        return (doc["verdict"], None, None)
    trace = doc["trace"]
    return ("violated", doc["violation"]["name"], len(trace["steps"]) + len(trace.get("cycle") or []))


QR = "specs/quorum_register.ha"
TPC = "specs/two_phase_commit_broken.ha"
PAXOS = "specs/two_phase_commit_fixed.ha"
ROD = "specs/read_only_degraded.ha"
NAIVE = ("--const", "QUORUM=1")

NO_FAULTS = ("--no-faults",)
FAULTS = ()


def scenario(name: str) -> tuple[str, ...]:
    return ("--scenario", name)


CASES = [
    # --- quorum_register: QUORUM = 2 of 3 -------------------------------------------
    (QR, NO_FAULTS, HOLDS),
    (QR, FAULTS, HOLDS),                                   # one crash, a partition that heals
    (QR, scenario("one_crash"), HOLDS),
    # write, two crashes: Server[0] waits for a second copy for ever
    (QR, scenario("two_crashes"), violated("majority_side_serves", 3)),
    (QR, scenario("two_crashes") + ("--property", "every_live_client_served"),
     violated("every_live_client_served", 3)),
    # the majority side serves; the client cut off on the minority side waits
    (QR, scenario("minority_partitioned"), violated("every_live_client_served", 5)),
    (QR, scenario("minority_partitioned") + ("--property", "majority_side_serves"), HOLDS),
    (QR, scenario("partition_heals"), HOLDS),
    # --- quorum_register, naive: QUORUM = 1 -----------------------------------------
    # unsafe everywhere (the write is acknowledged with one copy, in 1 step) ...
    (QR, NAIVE + NO_FAULTS, violated("acked_write_on_majority", 1)),
    (QR, NAIVE + FAULTS, violated("acked_write_on_majority", 1)),
    (QR, NAIVE + scenario("one_crash"), violated("acked_write_on_majority", 1)),
    (QR, NAIVE + scenario("two_crashes"), violated("acked_write_on_majority", 1)),
    (QR, NAIVE + scenario("minority_partitioned"), violated("acked_write_on_majority", 1)),
    (QR, NAIVE + scenario("partition_heals"), violated("acked_write_on_majority", 1)),
    # ... a read after the acknowledgement returns the old value (write, read) ...
    (QR, NAIVE + NO_FAULTS + ("--invariant", "read_sees_acked_write"), violated("read_sees_acked_write", 2)),
    # ... and available everywhere, two crashes and a partition included
    *[(QR, NAIVE + sc + ("--property", "majority_side_serves", "--property", "every_live_client_served"), HOLDS)
      for sc in (NO_FAULTS, FAULTS, scenario("one_crash"), scenario("two_crashes"),
                 scenario("minority_partitioned"), scenario("partition_heals"))],
    # --- two-phase commit (gallery case 10) -----------------------------------------
    (TPC, NO_FAULTS, HOLDS),
    # C and one participant crash: Participant[0] prepared, blocked
    (TPC, FAULTS, violated("every_participant_decides", 5)),
    # both vote YES, C crashes before deciding: both blocked, holding locks
    (TPC, scenario("coordinator_crash"), violated("every_participant_decides", 6)),
    (TPC, scenario("coordinator_restarts"), HOLDS),
    (TPC, scenario("participant_crash"), HOLDS),
    # --- Paxos Commit, F = 1 --------------------------------------------------------
    (PAXOS, NO_FAULTS, HOLDS),
    (PAXOS, FAULTS, HOLDS),
    (PAXOS, scenario("coordinator_crash"), HOLDS),
    (PAXOS, scenario("coordinator_restarts"), HOLDS),
    (PAXOS, scenario("participant_crash"), HOLDS),
    # the only recovery leader crashes after phase 1: 11 steps, then a 1-step cycle
    (PAXOS, scenario("backup_crash"), violated("every_participant_decides", 12)),
    # --- read-only degradation ------------------------------------------------------
    (ROD, NO_FAULTS, HOLDS),
    # Server[1], the candidate, crashes before the election: no leader, no writes
    # (reads_available, declared first, holds)
    (ROD, FAULTS, violated("writes_available", 4)),
    (ROD, FAULTS + ("--property", "leader_elected"), violated("leader_elected", 4)),
    # Server[0] cut off before it heard of the leader: it refuses the write for ever
    (ROD, scenario("minority_partitioned"), violated("writes_available", 5)),
    (ROD, scenario("minority_partitioned") + ("--property", "leader_elected"), violated("leader_elected", 7)),
    (ROD, scenario("partition_heals"), HOLDS),
    # the price: a read from the local copy misses an acknowledged write
    (ROD, NO_FAULTS + ("--const", "CHECK_FRESH=1"), violated("fresh_read", 8)),
]


@pytest.mark.parametrize("spec, args, expected", CASES, ids=[f"{s.split('/')[1][:-3]} {' '.join(a) or '(faults)'}"
                                                           for s, a, _ in CASES])
def test_verdict(spec, args, expected):
    code, doc = run(spec, *args)
    assert outcome(doc) == expected
    assert code == (0 if expected[0] == "holds" else 1)


def test_reads_outlive_writes():
    """The point of read_only_degraded: under each fault scenario where writes
    stop, the read is still served."""
    for args in (FAULTS, scenario("minority_partitioned")):
        code, doc = run(ROD, *args, "--property", "reads_available")
        assert (code, doc["verdict"]) == (0, "holds")


def test_naive_and_quorum_differ_only_in_the_const():
    """QUORUM=1 is the same model with the quorum arithmetic switched off."""
    _, quorum = run(QR, *NO_FAULTS)
    _, naive = run(QR, *NAIVE, *NO_FAULTS)
    assert quorum["options"]["consts"]["QUORUM"] == 2
    assert naive["options"]["consts"]["QUORUM"] == 1
    assert quorum["invariants"] == naive["invariants"] and quorum["properties"] == naive["properties"]
