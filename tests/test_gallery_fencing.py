"""Gallery of real HA failures: fencing liveness (case 9, part b).

Two nodes that fence each other at once both end up off: after the freeze heals,
no node is ever active again. The broken spec keeps part (a)'s fix (take over
only on a confirmed fence) and is violated on the liveness property
`someone_active` by a lasso (a stem and a cycle that repeats forever); the fixed
spec adds a quorum device, so only the node holding the third vote fences, and
holds over its whole reachable state space under the same faults (a partition,
its heal, one lost message, `eventually heal`).

Pinned: the verdicts, the violated property and its operator, the lasso (stem
and cycle steps), the fixed spec's exact state count, and a few variants that
show the fix is live for the right reason.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, verify_json

BROKEN = "specs/stonith_mutual_broken.ha"
FIXED = "specs/stonith_mutual_fixed.ha"


@functools.lru_cache(maxsize=None)
def verify(spec: str, *extra: str) -> tuple[int, dict]:
    return verify_json(spec, *extra)


def steps(doc: dict, part: str = "steps") -> list[tuple[str, str | None, str | None]]:
    return [(s["kind"], s["node"], s["name"]) for s in doc["trace"][part]]


# Case 9(b): A and P time out together, both fences succeed, both are off.
STEM = [
    ("action", "Node[0]", "detector_tick"),
    ("action", "Node[0]", "detector_tick"),
    ("action", "Node[0]", "fence_peer"),      # A sends STONITH(P)
    ("action", "Node[1]", "detector_tick"),
    ("action", "Node[1]", "detector_tick"),
    ("action", "Node[1]", "fence_peer"),      # P sends STONITH(A)
    ("deliver", "Fence", "Stonith"),          # A's fence ...
    ("deliver", "Node[1]", "PowerOff"),       # ... P is off
    ("deliver", "Fence", "Stonith"),          # P's fence ...
    ("deliver", "Node[0]", "PowerOff"),       # ... A is off
    ("deliver", "Fence", "Stopped"),
    ("deliver", "Fence", "Stopped"),
]
# With `delivery set` nothing is consumed: the device re-handles what is in the
# network, each step changing nothing, and no node is ever active again.
CYCLE = [
    ("deliver", "Fence", "Stonith"),
    ("deliver", "Fence", "Stonith"),
    ("deliver", "Node[1]", "PowerOff"),
    ("deliver", "Node[0]", "PowerOff"),
    ("deliver", "Fence", "Stopped"),
    ("deliver", "Fence", "Stopped"),
]


def test_broken_spec_shows_mutual_fencing():
    code, doc = verify(BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    v = doc["violation"]
    assert v["kind"] == "property" and v["name"] == "someone_active"
    assert v["operator"] == "always_eventually" and v["instance"] == {}
    assert doc["trace"]["trigger"] is None
    assert steps(doc) == STEM
    assert steps(doc, "cycle") == CYCLE
    # No fault is needed: heartbeats that have not arrived yet are the freeze.
    assert all(s["kind"] in ("action", "deliver") for s in doc["trace"]["steps"] + doc["trace"]["cycle"])
    # Both nodes are off where the cycle starts, and every link is intact.
    last = doc["trace"]["steps"][-1]["state"]
    assert [last["nodes"][n]["vars"]["off"] for n in ("Node[0]", "Node[1]")] == [True, True]
    assert [last["nodes"][n]["vars"]["active"] for n in ("Node[0]", "Node[1]")] == [False, False]
    assert last["cut_links"] == []
    assert doc["stats"]["distinct_states"] == 7_960


def test_broken_spec_keeps_part_a_safety():
    code, doc = verify(BROKEN, "--invariant", "single_active")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["unchecked_properties"] == ["someone_active"]
    assert doc["stats"]["distinct_states"] == 980  # partitions skipped, dead messages dropped (7,960 without)


def test_broken_lasso_in_text():
    proc = run_cli("verify", BROKEN, "--quiet")
    assert proc.returncode == 1
    assert "runs 12 steps and then repeats 6 steps forever" in proc.stdout
    assert "-- steps 13-18 repeat forever --" in proc.stdout
    assert "property 'someone_active' does not hold" in proc.stdout


def test_fixed_spec_holds_everywhere():
    code, doc = verify(FIXED)
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["invariants"] == ["single_active"]
    assert doc["properties"] == ["someone_active"]
    assert "eventually heal" in doc["faults"] and "loss at most 1" in doc["faults"]
    assert doc["stats"]["distinct_states"] == 34_506


# The fixed spec is not vacuous: either node can win the vote and fence the other.
@pytest.mark.parametrize("forbidden", [
    "not Node[1].active",                       # P takes over: A was fenced
    "not (Node[1].off and Node[0].active)",     # A keeps the service: P was fenced
])
def test_fixed_spec_still_fails_over(forbidden, tmp_path):
    probe = tmp_path / "probe.ha"
    probe.write_text((ROOT / FIXED).read_text() + f"\ninvariant probe: {forbidden}\n")
    code, doc = verify_json(probe, "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"


def variant(tmp_path, spec: str, *edits: tuple[str, str]):
    text = (ROOT / spec).read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    p = tmp_path / Path(spec).name
    p.write_text(text)
    return p


def test_fix_does_not_rest_on_heartbeats(tmp_path):
    # With no heartbeats at all both detectors always fire; the vote alone
    # decides who fences, and some node is active again in every fair run.
    p = variant(tmp_path, FIXED, ("action heartbeat when not off {", "action heartbeat when false {"))
    code, doc = verify_json(p)
    assert code == 0 and doc["verdict"] == "holds"


def test_a_device_that_grants_every_vote_brings_the_lasso_back(tmp_path):
    p = variant(tmp_path, FIXED, ("    if granted == none {", "    if true {"))
    code, doc = verify_json(p, "--no-faults", "--property", "someone_active")
    assert code == 1 and doc["violation"]["name"] == "someone_active"
    last = doc["trace"]["steps"][-1]["state"]
    assert [last["nodes"][n]["vars"]["off"] for n in ("Node[0]", "Node[1]")] == [True, True]


def test_a_fencing_delay_is_not_enough_asynchronously(tmp_path):
    # pcmk_delay_max-style: P needs DELAY more missed heartbeats than A before
    # it fences. In the asynchronous model A may still be slower, so both fence.
    p = variant(
        tmp_path, BROKEN,
        ("const MISSED = 2 ", "const DELAY = 2\nconst MISSED = 2 "),
        ("var missed: 0..MISSED = 0", "var missed: 0..MISSED + DELAY = 0"),
        ("not fencing and missed < MISSED {",
         "not fencing and missed < (if self == Node[0] then MISSED else MISSED + DELAY) {"),
        ("not fencing and missed == MISSED {",
         "not fencing and missed == (if self == Node[0] then MISSED else MISSED + DELAY) {"),
    )
    code, doc = verify_json(p, "--no-faults")
    assert code == 1 and doc["violation"]["name"] == "someone_active"
    assert len(doc["trace"]["steps"]) == 14
    last = doc["trace"]["steps"][-1]["state"]
    assert [last["nodes"][n]["vars"]["off"] for n in ("Node[0]", "Node[1]")] == [True, True]
