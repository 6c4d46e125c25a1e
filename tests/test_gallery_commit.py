"""Gallery of real HA failures: fencing, commit and reconfiguration cases.

Each documented failure has a broken spec, whose shortest counterexample is
pinned (violated invariant, number of steps, and the steps themselves), and a
fixed spec, which must hold over its whole reachable state space with an exact
state count. The cases are in the gallery's case file: 9(a) failover on an
unconfirmed STONITH, 11 three-phase commit under partition, 3 Raft's
single-server membership change across terms.

Every spec runs through the real command line, as a user would run it.
"""
from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def verify(spec: str, *extra: str) -> tuple[int, dict]:
    """Run `modelcheck verify SPEC --format json` (once per argument list: the
    results are deterministic, and some of these runs take tens of seconds)."""
    proc = subprocess.run(
        [sys.executable, "-m", "modelcheck", "verify", spec, "--format", "json", *extra],
        cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, json.loads(proc.stdout)


def step_names(doc: dict) -> list[str]:
    """Each step as 'node name', with the values chosen by `let x = any`."""
    out = []
    for s in doc["trace"]["steps"]:
        chosen = "".join(f" {k}={v if isinstance(v, str) else json.dumps(v)}"
                         for k, v in sorted((s.get("chosen") or {}).items()))
        out.append(f"{s['node']} {s['name']}{chosen}")
    return out


BROKEN = [
    ("specs/stonith_unconfirmed_broken.ha", "single_active", [
        "Node[1] detector_tick",
        "Node[1] detector_tick",
        "Node[1] fence_peer peer=Node[0]",
        "Node[1] fence_timeout",
    ]),
    ("specs/three_phase_commit_broken.ha", "atomicity", [
        "Coordinator start",
        "Participant[0] Prepare yes=true",
        "Coordinator Vote",
        "Participant[1] Prepare yes=true",
        "Coordinator Vote",
        "Participant[0] PreCommit",
        "Participant[1] prepared_timeout",
        "Participant[1] termination_timeout",
        "Participant[0] precommitted_timeout",
    ]),
    ("specs/raft_membership_broken.ha", "no_committed_entry_overwritten", [
        "Raft timeout",
        "Raft request_vote v=S2",
        "Raft request_vote v=S3",
        "Raft add_server",
        "Raft timeout",
        "Raft request_vote v=S1",
        "Raft request_vote v=S3",
        "Raft request_vote v=S4",
        "Raft remove_server",
        "Raft append_entries f=S3",
        "Raft timeout",
        "Raft request_vote v=S4",
        "Raft request_vote v=S5",
        "Raft append_entries f=S2",
    ]),
]

FIXED = [
    ("specs/stonith_unconfirmed_fixed.ha", 897),  # 7,960 with --keep-partitions --keep-dead-messages
    ("specs/three_phase_commit_fixed.ha", 15_421),  # 78,880 with both kept
    ("specs/raft_membership_fixed.ha", 53_370),
]


@pytest.mark.parametrize("spec, invariant, steps", BROKEN, ids=[Path(b[0]).stem for b in BROKEN])
def test_broken_spec_shows_the_documented_failure(spec, invariant, steps):
    code, doc = verify(spec)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant"
    assert doc["violation"]["name"] == invariant
    assert len(doc["trace"]["steps"]) == len(steps)
    assert step_names(doc) == steps


@pytest.mark.parametrize("spec, states", FIXED, ids=[Path(f[0]).stem for f in FIXED])
def test_fixed_spec_holds_everywhere(spec, states):
    code, doc = verify(spec)
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == states


def test_raft_trace_params_follow_ongaro():
    """Who does what in the Raft trace: S1 leads term 1, S2 term 2, S1 term 3."""
    _, doc = verify("specs/raft_membership_broken.ha")
    actors = [next(iter(s["params"].values())) for s in doc["trace"]["steps"]]
    assert actors == ["S1"] * 4 + ["S2"] * 6 + ["S1"] * 4
    last = doc["trace"]["steps"][-1]["state"]
    assert last["ghosts"]["overwritten"] == [[0, 2, ["S2", "S3", "S4"]]]


# The fixed specs are not vacuous: with an extra invariant that forbids the
# outcome the fix must still allow, each one is violated.
REACHABLE = [
    ("specs/stonith_unconfirmed_fixed.ha", "not Node[1].active"),
    ("specs/three_phase_commit_fixed.ha",
     "not exists p in Participant: p.phase == committed and p.ballot == 0 and p.acc_ballot > 0"),
    ("specs/raft_membership_fixed.ha", "not exists e in committed: e[2] != {}"),
]


@pytest.mark.parametrize("spec, forbidden", REACHABLE, ids=[Path(r[0]).stem for r in REACHABLE])
def test_fixed_spec_still_makes_progress(spec, forbidden, tmp_path):
    probe = tmp_path / Path(spec).name
    probe.write_text((ROOT / spec).read_text() + f"\ninvariant probe: {forbidden}\n")
    code, doc = verify(str(probe), "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"
