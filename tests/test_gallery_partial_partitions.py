"""Gallery of real HA failures: partial partitions (bridge, majorities ring, one cut link).

Three failover designs, each safe under every clean partition, one-way cut and
crash, and each broken by exactly the partial partition it did not foresee:

- link_failover_broken (primary, standby, witness): the standby promotes when it
  stops hearing the primary and still reaches the witness. A cut link between
  primary and standby leaves both seeing a majority: two primaries. Its fix asks
  the witness whether it lost the primary too.
- bridge_failover_broken (primary, standby, three witnesses): that "second
  opinion" applied to five nodes, where one witness agreeing is not a majority.
  A bridge (two sides and one witness that sees both) breaks it; the majorities
  ring does too. Its fix needs two witnesses that lost the primary.
- ring_failover_broken (primary, standby, two witnesses): a witness vetoes the
  failover only if it sees the primary *and* the other witness ("the core is
  intact, the standby is the one cut off"). Cut links, bridges and clean
  partitions leave it safe; the majorities ring of four (the primary-standby
  and witness-witness links cut) does not. Its fix: any witness that sees the
  primary vetoes (and the witnesses no longer need to hear each other).

Pinned: each spec's verdict under each scenario with the exact state count (and
for a violation, the trace length and the shape of the trace), that the faults
block is the spec's own shape, and that the fixed specs still fail over after a
clean partition or a crash (they are not safe by never acting).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, verify_json

LINK_BROKEN = "specs/link_failover_broken.ha"
LINK_FIXED = "specs/link_failover_fixed.ha"
BRIDGE_BROKEN = "specs/bridge_failover_broken.ha"
BRIDGE_FIXED = "specs/bridge_failover_fixed.ha"
RING_BROKEN = "specs/ring_failover_broken.ha"
RING_FIXED = "specs/ring_failover_fixed.ha"


@functools.lru_cache(maxsize=None)
def verify(spec: str, *extra: str) -> tuple[int, dict]:
    return verify_json(spec, *extra)


def scenario_args(scenario: str | None) -> tuple[str, ...]:
    if scenario is None:
        return ()                      # the faults block
    if scenario == "no-faults":
        return ("--no-faults",)
    return ("--scenario", scenario)


# The faults line each scenario declares (the same in every spec); a spec's faults
# block (scenario None) is its own shape.
LINE = {"linked": "link at most 1", "bridged": "bridge at most 1", "ringed": "ring at most 1",
        "split": "partition at most 1", "oneway": "one_way at most 1", "crashed": "crash at most 1",
        "no-faults": "none"}
OWN = {LINK_BROKEN: "link at most 1", LINK_FIXED: "link at most 1", BRIDGE_BROKEN: "bridge at most 1",
       BRIDGE_FIXED: "bridge at most 1", RING_BROKEN: "ring at most 1", RING_FIXED: "ring at most 1"}

# spec -> scenario -> (verdict, steps of the shortest counterexample, distinct states).
# Violated runs count the states explored before the counterexample was found.
PINNED = {
    LINK_BROKEN: {
        None: ("violated", 22, 9_243),
        "linked": ("violated", 22, 9_243),
        "bridged": ("violated", 22, 9_243),  # 3 nodes: a bridge is a cut link
        "split": ("holds", None, 18_466),
        "oneway": ("holds", None, 20_726),
        "crashed": ("holds", None, 8_768),
        "no-faults": ("holds", None, 1_832),
    },
    LINK_FIXED: {
        None: ("holds", None, 15_599),
        "linked": ("holds", None, 15_599),
        "bridged": ("holds", None, 15_599),
        "split": ("holds", None, 18_620),
        "oneway": ("holds", None, 20_795),
        "crashed": ("holds", None, 8_814),
    },
    BRIDGE_BROKEN: {
        None: ("violated", 20, 41_646),
        "bridged": ("violated", 20, 41_646),
        "ringed": ("violated", 20, 15_313),
        "split": ("holds", None, 30_719),
        "oneway": ("holds", None, 18_725),
        "linked": ("holds", None, 10_623),
        "crashed": ("holds", None, 5_967),
        "no-faults": ("holds", None, 1_055),
    },
    BRIDGE_FIXED: {
        None: ("holds", None, 43_320),
        "bridged": ("holds", None, 43_320),
        "ringed": ("holds", None, 16_001),
        "split": ("holds", None, 30_151),
        "oneway": ("holds", None, 18_595),
        "linked": ("holds", None, 10_493),
        "crashed": ("holds", None, 5_945),
    },
    RING_BROKEN: {
        None: ("violated", 23, 3_052),
        "ringed": ("violated", 23, 3_052),
        "linked": ("holds", None, 4_475),
        "oneway": ("holds", None, 7_865),
        "split": ("holds", None, 7_275),
        "bridged": ("holds", None, 8_967),
        "crashed": ("holds", None, 3_198),
        "no-faults": ("holds", None, 623),
    },
    RING_FIXED: {
        None: ("holds", None, 850),
        "ringed": ("holds", None, 850),
        "linked": ("holds", None, 1_306),
        "oneway": ("holds", None, 2_179),
        "split": ("holds", None, 2_361),
        "bridged": ("holds", None, 2_797),
        "crashed": ("holds", None, 941),
    },
}
# (spec, scenario, faults line, verdict, steps, distinct states)
CASES = [(spec, sc, OWN[spec] if sc is None else LINE[sc], *pinned)
         for spec, by_scenario in PINNED.items() for sc, pinned in by_scenario.items()]


INVARIANT = {LINK_BROKEN: "single_primary", LINK_FIXED: "single_primary",
             BRIDGE_BROKEN: "no_write_after_failover", BRIDGE_FIXED: "no_write_after_failover",
             RING_BROKEN: "no_write_after_failover", RING_FIXED: "no_write_after_failover"}


@pytest.mark.parametrize("spec,scenario,faults,verdict,steps,states", CASES,
                         ids=[f"{Path(c[0]).stem}-{c[1] or 'faults'}" for c in CASES])
def test_verdict_per_scenario(spec, scenario, faults, verdict, steps, states):
    code, doc = verify(spec, *scenario_args(scenario))
    assert doc["verdict"] == verdict and code == (1 if verdict == "violated" else 0)
    assert doc["faults"] == faults
    assert doc["invariants"] == [INVARIANT[spec]]
    assert doc["stats"]["distinct_states"] == states
    if verdict == "violated":
        assert doc["violation"]["kind"] == "invariant" and doc["violation"]["name"] == INVARIANT[spec]
        assert len(doc["trace"]["steps"]) == steps
    else:
        assert doc["stop_reason"] is None and doc.get("trace") is None


def test_every_scenario_of_every_spec_is_pinned():
    for spec in INVARIANT:
        text = (ROOT / spec).read_text()
        declared = {line.split()[1] for line in text.splitlines() if line.startswith("scenario ")}
        pinned = {c[1] for c in CASES if c[0] == spec} - {None, "no-faults"}
        assert declared == pinned, spec


# ---- the traces ------------------------------------------------------------------------------

def steps(doc: dict) -> list[tuple[str, str | None, str | None]]:
    return [(s["kind"], s["node"], s["name"]) for s in doc["trace"]["steps"]]


def faults_of(doc: dict) -> list[dict]:
    return [s for s in doc["trace"]["steps"] if s["kind"] not in ("action", "deliver", "tick")]


def last_state(doc: dict) -> dict:
    return doc["trace"]["steps"][-1]["state"]


def test_link_trace_two_primaries():
    code, doc = verify(LINK_BROKEN)
    assert code == 1
    [cut] = faults_of(doc)
    assert cut["kind"] == "link" and cut["detail"] == {"pair": ["Primary", "Standby"]}
    names = steps(doc)
    # The standby suspects, asks the witness and tells the primary to step down;
    # the witness answers that it still sees the primary; the standby promotes anyway.
    assert ("action", "Standby", "suspect") in names
    assert ("deliver", "Standby", "Answer") in names
    assert names[-1] == ("action", "Standby", "promote")
    answer = next(s for s in doc["trace"]["steps"] if (s["kind"], s["name"]) == ("deliver", "Answer"))
    assert answer["message"]["fields"] == {"lost": False}
    # The step-down message never arrives (held by the cut), and the primary kept
    # renewing its lease through the witness after the cut.
    assert ("deliver", "Primary", "Demote") not in names
    after_cut = names[names.index(("link", None, None)):]
    assert after_cut.count(("deliver", "Primary", "Ack")) == 2
    last = last_state(doc)
    assert last["nodes"]["Standby"]["vars"]["promoted"] is True
    assert last["nodes"]["Primary"]["vars"]["lease_until"] == 6 and last["time"]["now"] == 5


def test_bridge_trace_the_bridge_counts_for_both_sides():
    code, doc = verify(BRIDGE_BROKEN)
    assert code == 1
    [bridge] = faults_of(doc)
    assert bridge["kind"] == "bridge"
    b = bridge["detail"]["bridge"]
    standby_side, primary_side = sorted(bridge["detail"]["sides"], key=lambda side: "Standby" not in side)
    assert b.startswith("Witness[") and "Standby" in standby_side and "Primary" in primary_side
    [mate] = [n for n in standby_side if n != "Standby"]
    [other] = [n for n in primary_side if n != "Primary"]
    # The standby counts two answers: the bridge still sees the primary, its
    # side-mate lost it (the "second opinion").
    answers = [(s["message"]["from"], s["message"]["fields"]["lost"])
               for s in doc["trace"]["steps"] if (s["kind"], s["node"], s["name"]) == ("deliver", "Standby", "Answer")]
    assert sorted(answers) == sorted([(b, False), (mate, True)])
    # After the failover the primary commits with the bridge and its own side-mate.
    names = steps(doc)
    promote = names.index(("action", "Standby", "promote"))
    ackers = [s["message"]["from"] for s in doc["trace"]["steps"][promote:]
              if (s["kind"], s["node"], s["name"]) == ("deliver", "Primary", "Ack")]
    assert sorted(ackers) == sorted([b, other])
    last = last_state(doc)
    assert last["nodes"]["Primary"]["vars"]["committed"] is True
    assert last["ghosts"] == {"failed_over": True, "late_commit": True}


def ring_neighbours(order: list[str], node: str) -> set[str]:
    i = order.index(node)
    return {order[i - 1], order[(i + 1) % len(order)]}


def test_ring_trace_every_node_sees_a_majority():
    code, doc = verify(RING_BROKEN)
    assert code == 1
    [ring] = faults_of(doc)
    assert ring["kind"] == "ring"
    order = ring["detail"]["ring"]
    assert sorted(order) == ["Primary", "Standby", "Witness[0]", "Witness[1]"]
    # A ring of four cuts its two diagonals: primary <-> standby and witness <-> witness.
    assert ring_neighbours(order, "Primary") == ring_neighbours(order, "Standby") == {"Witness[0]", "Witness[1]"}
    cut = {tuple(link) for link in ring["state"]["cut_links"]}
    assert cut == {("Primary", "Standby"), ("Standby", "Primary"),
                   ("Witness[0]", "Witness[1]"), ("Witness[1]", "Witness[0]")}
    # Both witnesses see the primary, neither sees the other: neither says keep ...
    answers = [(s["message"]["from"], s["message"]["fields"]["keep"])
               for s in doc["trace"]["steps"] if (s["kind"], s["node"], s["name"]) == ("deliver", "Standby", "Answer")]
    assert sorted(answers) == [("Witness[0]", False), ("Witness[1]", False)]
    last = last_state(doc)
    for w in ("Witness[0]", "Witness[1]"):
        assert last["nodes"][w]["vars"]["sees_primary"] is True
        assert last["nodes"][w]["vars"]["heard_peer"] is False
    # ... and the primary commits with both of them after the failover.
    names = steps(doc)
    promote = names.index(("action", "Standby", "promote"))
    ackers = {s["message"]["from"] for s in doc["trace"]["steps"][promote:]
              if (s["kind"], s["node"], s["name"]) == ("deliver", "Primary", "Ack")}
    assert ackers == {"Witness[0]", "Witness[1]"}
    assert last["ghosts"] == {"failed_over": True, "late_commit": True}


def test_ring_of_four_is_two_cut_links(tmp_path):
    # With four nodes the ring is two cut links at once: a budget of two link
    # cuts finds the bug too (a budget of one does not, see CASES).
    p = tmp_path / "ring_failover_broken.ha"
    text = (ROOT / RING_BROKEN).read_text()
    assert text.count("faults {\n  ring at most 1\n}") == 1
    p.write_text(text.replace("faults {\n  ring at most 1\n}", "faults {\n  link at most 2\n}"))
    code, doc = verify_json(p)
    assert code == 1 and doc["violation"]["name"] == "no_write_after_failover"
    assert [f["kind"] for f in faults_of(doc)] == ["link", "link"]


def test_text_report_names_the_shapes():
    for spec, words in [(LINK_BROKEN, "fault: link Primary <-> Standby cut"),
                        (BRIDGE_BROKEN, "bridged by Witness[0] (Witness[0] still reaches both sides)"),
                        (RING_BROKEN, "fault: majorities ring Primary - Witness[0] - Standby - Witness[1]")]:
        proc = run_cli("verify", spec, "--quiet")
        assert proc.returncode == 1
        assert words in proc.stdout, spec


# ---- the fixes still fail over, and the guards are not vacuous -------------------------------

def with_probe(tmp_path, spec: str, probe: str) -> Path:
    p = tmp_path / Path(spec).name
    p.write_text((ROOT / spec).read_text() + f"\ninvariant probe: {probe}\n")
    return p


@pytest.mark.parametrize("spec,probe", [
    (LINK_FIXED, "not Standby.promoted"),
    (BRIDGE_FIXED, "not failed_over"),
    (RING_FIXED, "not failed_over"),
    (BRIDGE_BROKEN, "not failed_over"),      # the broken guards are not "never fail over"
    (RING_BROKEN, "not failed_over"),
])
@pytest.mark.parametrize("scenario", ["split", "crashed"])
def test_failover_still_happens(tmp_path, spec, probe, scenario):
    code, doc = verify_json(with_probe(tmp_path, spec, probe), "--scenario", scenario, "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"


def test_matrix_shows_the_difference():
    proc = run_cli("matrix", LINK_BROKEN, "--format", "json", "--jobs", "1")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    cells = {row["scenario"]: row["cells"]["single_primary"]["verdict"] for row in doc["rows"]}
    assert cells == {"no-faults": "holds", "faults": "violated", "linked": "violated", "split": "holds",
                     "oneway": "holds", "crashed": "holds", "bridged": "violated"}
