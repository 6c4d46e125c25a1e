"""Gallery of real HA failures: eventual consistency and convergence (cases 12-15).

Each broken spec's shortest counterexample is pinned (the violated property or
invariant, the lasso's stem and cycle lengths, and the key steps); each fixed
spec must hold over its whole reachable state space with an exact state count.
Convergence is the `always eventually` idiom of docs/language.md
("Convergence"). `modelcheck matrix` rows are pinned where faults matter.
"""
from __future__ import annotations

import functools
import json

import pytest

from conftest import ROOT, run_cli, verify_json


@functools.lru_cache(maxsize=None)
def verify(spec: str, *extra: str) -> tuple[int, dict]:
    return verify_json(spec, *extra)


def step_names(steps: list[dict]) -> list[str]:
    return [f"{s['node']} {s['name']}" if s["node"] else s["kind"] for s in steps]


def matrix(spec: str) -> dict[str, dict]:
    proc = run_cli("matrix", spec, "--format", "json", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return doc


def cell_summary(doc: dict) -> dict[tuple[str, str], str]:
    out = {}
    for row in doc["rows"]:
        for name, cell in row["cells"].items():
            out[(row["scenario"], name)] = cell["verdict"]
    return out


def states(doc: dict) -> dict[str, int]:
    return {row["scenario"]: row["stats"]["distinct_states"] for row in doc["rows"]}


# ---------------------------------------------------------------- case 12: LWW

def test_lww_on_skewed_clocks_drops_the_later_acknowledged_write():
    code, doc = verify("specs/lww_skew_broken.ha")
    assert code == 1 and doc["verdict"] == "violated"
    v = doc["violation"]
    assert v["kind"] == "property" and v["name"] == "converges_to_last_ack"
    steps = doc["trace"]["steps"]
    assert len(steps) == 9 and doc["trace"]["cycle"] == []          # 9 steps, then stuck
    assert step_names(steps[1:8]) == [
        "Client write", "Replica[0] Put", "Client PutAck",           # write 1, acked
        "Client write", "Replica[1] Sync", "Replica[1] Put",         # write 2 loses on the slow clock
        "Client PutAck",                                             # ...and is acknowledged
    ]
    assert steps[4]["params"] == {"r": "Replica[1]"}
    last = steps[-1]["state"]
    assert last["ghosts"] == {"last_acked": 2}
    assert [last["nodes"][f"Replica[{i}]"]["vars"]["val"] for i in (0, 1)] == [1, 1]
    assert doc["stats"]["distinct_states"] == 4_039


def test_lww_converges_but_on_the_wrong_value():
    code, doc = verify("specs/lww_skew_broken.ha", "--property", "converges")
    assert code == 0 and doc["stats"]["distinct_states"] == 4_039


def test_lww_with_exact_clocks_holds():
    code, doc = verify("specs/lww_skew_broken.ha", "--const", "SKEW=0")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == 126


def test_lww_single_writer_fix_holds():
    code, doc = verify("specs/lww_skew_fixed.ha")
    assert code == 0 and doc["verdict"] == "holds" and doc["stop_reason"] is None
    assert doc["stats"]["distinct_states"] == 865
    assert doc["properties"] == ["converges", "converges_to_last_ack"]


# --------------------------------------------------- case 13: partial quorums

def test_partial_quorum_serves_a_stale_read():
    code, doc = verify("specs/partial_quorum_broken.ha")
    assert code == 1 and doc["violation"]["kind"] == "invariant"
    assert doc["violation"]["name"] == "read_sees_acked_write"
    steps = doc["trace"]["steps"]
    assert step_names(steps) == [
        "Writer write", "Replica[0] Put", "Writer PutAck",
        "Reader read", "Replica[1] Get", "Reader GetResp",
    ]
    last = steps[-1]["state"]
    assert last["ghosts"] == {"write_acked": True, "read_after_ack": True}
    assert last["nodes"]["Reader"]["vars"]["result"] == 0
    assert doc["stats"]["distinct_states"] == 761


def test_partial_quorum_with_r_plus_w_above_n_is_the_fix():
    _, broken = verify("specs/partial_quorum_broken.ha", "--const", "W=2", "--const", "R=2")
    _, fixed = verify("specs/partial_quorum_fixed.ha")
    assert broken["verdict"] == fixed["verdict"] == "holds"
    assert broken["stats"]["distinct_states"] == fixed["stats"]["distinct_states"] == 22_292


def test_partial_quorum_matrix_shows_the_availability_trade():
    broken, fixed = matrix("specs/partial_quorum_broken.ha"), matrix("specs/partial_quorum_fixed.ha")
    b, f = cell_summary(broken), cell_summary(fixed)
    for row in ("no-faults", "faults", "two_down"):
        assert b[(row, "read_sees_acked_write")] == "violated"
        assert f[(row, "read_sees_acked_write")] == "holds"
        assert b[(row, "converges")] == f[(row, "converges")] == "holds"
        assert b[(row, "read_completes")] == b[(row, "write_completes")] == "holds"
    for row in ("no-faults", "faults"):
        assert f[(row, "read_completes")] == f[(row, "write_completes")] == "holds"
    assert f[("two_down", "read_completes")] == f[("two_down", "write_completes")] == "violated"
    assert states(fixed) == {"no-faults": 5_573, "faults": 22_292, "two_down": 39_011}
    assert states(broken) == {"no-faults": 3_065, "faults": 12_260, "two_down": 21_455}


# ------------------------------------------------------ case 14: read repair

def test_read_repair_without_version_check_undoes_a_write():
    code, doc = verify("specs/read_repair_broken.ha")
    assert code == 1 and doc["violation"]["name"] == "converges_to_last_ack"
    steps, cycle = doc["trace"]["steps"], doc["trace"]["cycle"]
    assert len(steps) == 13 and len(cycle) == 5
    assert step_names(steps) == [
        "Writer write", "Reader read", "Replica[0] Put", "Writer PutAck",    # blue acked
        "Writer write",                                                        # green sent to Replica[1]
        "Replica[0] Get", "Reader GetResp", "Replica[1] Get", "Reader GetResp",  # read: blue vs red
        "Replica[1] Put", "Writer PutAck",                                     # green lands, acked
        "Replica[1] Repair", "Reader RepairAck",                               # the late repair undoes it
    ]
    assert steps[8]["sent"][0]["fields"] == {"ver": 1, "v": "blue"}
    assert steps[11]["state"]["nodes"]["Replica[1]"]["vars"] == {"val": "blue", "ver": 1}
    assert steps[-1]["state"]["ghosts"] == {"last_acked": "green"}
    assert step_names(cycle)[0] == "Reader read"
    assert doc["stats"]["distinct_states"] == 470


def test_read_repair_broken_still_converges():
    code, _ = verify("specs/read_repair_broken.ha", "--property", "converges")
    assert code == 0


def test_read_repair_fixed_holds():
    code, doc = verify("specs/read_repair_fixed.ha")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == 439


def test_read_repair_is_what_converges_the_fixed_spec(spec_file):
    text = (ROOT / "specs/read_repair_fixed.ha").read_text()
    old = "action read when phase == 0 {"
    assert text.count(old) == 1
    path = spec_file(text.replace(old, "action read when false and phase == 0 {"))
    code, doc = verify_json(path)
    assert code == 1 and doc["violation"]["name"] == "converges"


# ---------------------------------------------------- case 15: CRDT counter

def test_naive_counter_double_counts_a_duplicate():
    code, doc = verify("specs/crdt_counter_broken.ha")
    assert code == 1 and doc["violation"]["name"] == "converges"
    steps = doc["trace"]["steps"]
    assert len(steps) == 11 and doc["trace"]["cycle"] == []
    assert steps[8]["kind"] == "duplicate"
    assert step_names(steps[9:]) == ["Replica[1] Inc", "Replica[1] Inc"]
    last = steps[-1]["state"]
    assert [last["nodes"][f"Replica[{i}]"]["vars"]["value"] for i in range(3)] == [3, 4, 3]
    assert last["ghosts"] == {"total": 3}
    assert doc["stats"]["distinct_states"] == 785


def test_g_counter_holds_under_duplication():
    code, doc = verify("specs/crdt_counter_fixed.ha")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == 3_503


def test_counter_matrix_duplication_and_loss():
    broken, fixed = matrix("specs/crdt_counter_broken.ha"), matrix("specs/crdt_counter_fixed.ha")
    b, f = cell_summary(broken), cell_summary(fixed)
    for prop in ("converges", "counts_every_increment"):
        assert b[("no-faults", prop)] == f[("no-faults", prop)] == "holds"
        assert b[("faults", prop)] == "violated" and f[("faults", prop)] == "holds"
        # a lost update is never re-sent: neither counter converges
        assert b[("lossy", prop)] == f[("lossy", prop)] == "violated"
    assert states(broken) == {"no-faults": 125, "faults": 785, "lossy": 365}
    assert states(fixed) == {"no-faults": 467, "faults": 3_503, "lossy": 1_383}


@pytest.mark.parametrize("name", ["lww_skew", "partial_quorum", "read_repair", "crdt_counter"])
def test_broken_and_fixed_share_faults(name):
    _, broken = verify(f"specs/{name}_broken.ha", "--max-depth", "0")
    _, fixed = verify(f"specs/{name}_fixed.ha", "--max-depth", "0")
    assert broken["faults"] == fixed["faults"]
