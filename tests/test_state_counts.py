"""Exact reachable-state counts and verdicts of tiny hand-counted models.

Every spec in tests/models/ carries, in its header comment, the hand count
of its distinct reachable states (an enumeration or a counting argument).
These tests run the checker through its command line exactly as a user
would and compare:

    python -m modelcheck verify SPEC --format json [--no-faults]

    exit code        0 holds, 1 violated
    JSON             ["stats"]["distinct_states"], ["verdict"]

For a violated spec the count is not asserted (exploration stops at the
first violation, so the count depends on when it stops); only the verdict.

tests/models/faults/ holds one spec per fault kind. crash, restart, loss and
duplicate specs are violated only because of that fault: violated normally,
holding with --no-faults and with the fault's line removed. A cut link only
delays messages (DESIGN 1.5), so partition, one_way and heal cannot change an
invariant's verdict; their specs instead pin exact counts with the fault,
with --no-faults and without the fault's line (each smaller).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "models"
EXIT = {"holds": 0, "violated": 1, "incomplete": 3}


def run_verify(spec: Path, *extra: str) -> tuple[int, dict]:
    proc = subprocess.run(
        # hand counts are of the unreduced state space
        [sys.executable, "-m", "modelcheck", "verify", str(spec), "--format", "json", "--no-symmetry",
         "--keep-partitions", "--keep-dead-messages", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"no JSON on stdout for {spec.name} {' '.join(extra)} (exit {proc.returncode})\n"
            f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
    return proc.returncode, data


def check(spec: Path, states: int | None, verdict: str, *extra: str) -> None:
    code, data = run_verify(spec, *extra)
    where = f"{spec.relative_to(ROOT)} {' '.join(extra)}".strip()
    assert data["verdict"] == verdict, f"{where}: verdict {data['verdict']!r}, expected {verdict!r}"
    assert code == EXIT[verdict], f"{where}: exit code {code}, expected {EXIT[verdict]}"
    if states is not None:
        got = data["stats"]["distinct_states"]
        assert got == states, f"{where}: {got} distinct states, hand count {states}"


# (spec, hand-counted distinct states or None if violated, verdict)
CASES = [
    ("counter.ha", 4, "holds"),
    ("two_nodes.ha", 18, "holds"),
    ("unordered.ha", 15, "holds"),
    ("fifo.ha", 16, "holds"),               # same model as unordered.ha, fifo: +1
    ("fifo_order.ha", 6, "holds"),
    ("unordered_order.ha", None, "violated"),  # fifo_order.ha with unordered delivery
    ("set_delivery.ha", 9, "holds"),
    ("let_any.ha", 5, "holds"),
    ("action_params.ha", 96, "holds"),
    ("crash_restart.ha", 15, "holds"),
    ("restart_persistent.ha", 9, "holds"),
    ("restart_volatile.ha", None, "violated"),
    ("partition_heal.ha", 10, "holds"),
    ("network_faults.ha", 30, "holds"),
    ("loss_duplicate.ha", 9, "holds"),
    ("duplicate_fifo.ha", 21, "holds"),
]

# The same specs with --no-faults (only those with a faults block).
NO_FAULTS_CASES = [
    ("crash_restart.ha", 6, "holds"),
    ("restart_persistent.ha", 3, "holds"),
    ("restart_volatile.ha", 3, "holds"),
    ("partition_heal.ha", 1, "holds"),
    ("network_faults.ha", 3, "holds"),
    ("loss_duplicate.ha", 3, "holds"),
    ("duplicate_fifo.ha", 6, "holds"),
]


@pytest.mark.parametrize("spec,states,verdict", CASES, ids=[c[0] for c in CASES])
def test_state_count(spec, states, verdict):
    check(MODELS / spec, states, verdict)


@pytest.mark.parametrize("spec,states,verdict", NO_FAULTS_CASES,
                         ids=[c[0] for c in NO_FAULTS_CASES])
def test_state_count_no_faults(spec, states, verdict):
    check(MODELS / spec, states, verdict, "--no-faults")


# faults/<kind>.ha: (states, verdict) normally, with --no-faults, and with the
# line marked `# FAULT-UNDER-TEST` removed (prerequisite lines stay).
FAULT_CASES = [
    # kind         normal              --no-faults     without the fault line
    ("crash",     (None, "violated"), (2, "holds"), (2, "holds")),
    ("restart",   (None, "violated"), (3, "holds"), (6, "holds")),
    ("loss",      (None, "violated"), (6, "holds"), (6, "holds")),
    ("duplicate", (None, "violated"), (3, "holds"), (3, "holds")),
    ("partition", (6, "holds"),       (3, "holds"), (3, "holds")),
    ("one_way",   (9, "holds"),       (3, "holds"), (3, "holds")),
    ("heal",      (9, "holds"),       (3, "holds"), (6, "holds")),
]
FAULT_IDS = [c[0] for c in FAULT_CASES]


@pytest.mark.parametrize("kind,normal,nofaults,without", FAULT_CASES, ids=FAULT_IDS)
def test_fault_enabled(kind, normal, nofaults, without):
    check(MODELS / "faults" / f"{kind}.ha", *normal)


@pytest.mark.parametrize("kind,normal,nofaults,without", FAULT_CASES, ids=FAULT_IDS)
def test_fault_no_faults_flag(kind, normal, nofaults, without):
    check(MODELS / "faults" / f"{kind}.ha", *nofaults, "--no-faults")


@pytest.mark.parametrize("kind,normal,nofaults,without", FAULT_CASES, ids=FAULT_IDS)
def test_fault_line_removed(kind, normal, nofaults, without, tmp_path):
    src = (MODELS / "faults" / f"{kind}.ha").read_text()
    lines = src.splitlines(keepends=True)
    kept = [ln for ln in lines if "FAULT-UNDER-TEST" not in ln]
    assert len(kept) == len(lines) - 1, "exactly one line must be marked FAULT-UNDER-TEST"
    spec = tmp_path / f"{kind}.ha"
    spec.write_text("".join(kept))
    code, data = run_verify(spec)
    states, verdict = without
    assert data["verdict"] == verdict and code == EXIT[verdict], (kind, code, data["verdict"])
    assert data["stats"]["distinct_states"] == states, (kind, data["stats"]["distinct_states"])


def test_fault_states_grow():
    """A fault that cannot change a verdict still adds states (sanity on the table)."""
    for kind, normal, nofaults, without in FAULT_CASES:
        if normal[0] is not None:
            assert normal[0] > nofaults[0], kind
