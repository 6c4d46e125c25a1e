"""`measure NAME: EXPR` (docs/language.md, "Measures"): parse and type errors, the
same ranges and witness lengths on both engines, with and without symmetry and
fingerprints, witness traces that replay to a state with the extreme value, the
text and JSON reports (schema-valid), and incomplete runs."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, pipeline, run_cli
from schema_check import errors as schema_errors

from modelcheck.engine.explorer import Options, explore
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.lang.parser import parse

EXAMPLE = ROOT / "specs/replication_lag_measures.ha"

SPEC = """spec m
const N = 3
message Rep(v: 0..2)
role P { var v: 0..2 = 0
  action w when v < 2 { v += 1; broadcast Rep(v) to S } }
role S[N] { var v: 0..2 = 0
  on Rep(x) when x > v { v = x } }
faults { crash S at most 1
  restart }
invariant ok: forall s in S: s.v <= P.v
%s
"""
MEASURES = """measure lag: max({P.v - s.v for s in S})
measure caught_up: count(s in S where s.v == P.v and not crashed(s))"""


def _errors(text: str):
    with pytest.raises(SpecError) as info:
        check(parse(Source("t.ha", text)), {})
    return [(d.code, d.span.line, d.message, d.hint) for d in info.value.diagnostics]


def test_a_bool_measure_is_a_type_error_with_a_hint():
    (code, line, message, hint), = _errors(SPEC % "measure up: forall s in S: s.v == 2")
    assert (code, line) == ("E201", 11)
    assert message == "measure 'up' must be an int, but this is bool"
    assert "count(" in hint


def test_measure_errors_duplicates_self_and_syntax():
    assert _errors(SPEC % "measure ok: 1")[0][0] == "E102"  # shares the namespace of invariants
    assert _errors(SPEC % "measure s: self")[0][0] == "E208"
    assert _errors(SPEC % "measure m: P.w")[0][0] == "E101"
    with pytest.raises(SpecError) as info:
        parse(Source("t.ha", SPEC % "measure m P.v"))
    assert info.value.diagnostics[0].code == "E001"


def _ranges(result):
    return [(m.name, m.min.value, len(m.min.trace), m.max.value, len(m.max.trace), m.complete)
            for m in result.measures]


def _replays(model, result):
    """Each witness is a real behaviour whose last state has the reported value."""
    for m, cm in zip(result.measures, model.measures):
        for end in (m.min, m.max):
            cur = model.initial
            for step, state in end.trace:
                assert any(tr.step == step and tr.state == state for tr in model.successors(cur))
                cur = state
            assert cm.value(cur) == end.value


@pytest.mark.parametrize("path", [None, EXAMPLE])
def test_engines_symmetry_and_fingerprints_agree(path):
    text = EXAMPLE.read_text() if path else SPEC % MEASURES
    seen = set()
    for packed in (True, False):
        for symmetry in (True, False):
            for fingerprints in (False, True):
                model = pipeline(text)
                result = explore(model, Options(packed=packed, symmetry=symmetry, fingerprints=fingerprints))
                assert result.verdict == "holds"
                _replays(model, result)
                seen.add(tuple(_ranges(result)))
    assert len(seen) == 1, seen
    if path:
        assert seen == {(("lag", 0, 0, 3, 3, True), ("current", 0, 1, 2, 0, True))}


def test_no_measures_no_tracker_and_no_json_key():
    model = pipeline(SPEC % "")
    assert model.measures == [] and explore(model).measures == []
    doc = json.loads(run_cli("verify", str(ROOT / "specs/naive_failover.ha"), "--format", "json").stdout)
    assert "measures" not in doc


def test_incomplete_run_reports_extremes_so_far(spec_file):
    path = spec_file(SPEC % MEASURES)
    proc = run_cli("verify", str(path), "--max-states", "3")
    assert proc.returncode == 3
    assert "Measures (over the 3 states explored so far, not every reachable state):" in proc.stdout
    doc = json.loads(run_cli("verify", str(path), "--max-states", "3", "--format", "json").stdout)
    assert [m["complete"] for m in doc["measures"]] == [False, False]
    assert not schema_errors(doc)


def test_runtime_error_in_a_measure_is_a_violation():
    model = pipeline(SPEC % "measure bad: 6 / (2 - P.v)")
    for packed in (True, False):
        result = explore(model, Options(packed=packed))
        assert result.verdict == "violated" and result.violation.kind == "runtime_error"
        assert "while evaluating measure 'bad'" in result.violation.message and len(result.trace) == 2


def test_text_report_and_measure_trace():
    proc = run_cli("verify", str(EXAMPLE))
    assert proc.returncode == 0
    assert ("Measures (over every reachable state):\n"
            "  measure lag: min 0 (in the initial state), max 3 (reached after 3 steps: Primary does write)\n"
            "  measure current: min 0 (reached after 1 step: Primary does write), max 2 (in the initial state)\n"
            ) in proc.stdout
    assert "Witness" not in proc.stdout
    traced = run_cli("verify", str(EXAMPLE), "--measure-trace", "lag").stdout
    assert "Witness: measure lag = 3 (max) after 3 steps." in traced
    assert "Witness: measure current" not in traced
    bad = run_cli("verify", str(EXAMPLE), "--measure-trace", "lagg")
    assert bad.returncode == 2 and "E104" in bad.stderr and "did you mean 'lag'" in bad.stderr


def test_json_measures_validate_and_match_the_text():
    doc = json.loads(run_cli("verify", str(EXAMPLE), "--format", "json").stdout)
    assert not schema_errors(doc)
    lag = doc["measures"][0]
    assert (lag["name"], lag["complete"], lag["min"]["value"], lag["max"]["value"]) == ("lag", True, 0, 3)
    assert lag["max"]["steps"] == len(lag["max"]["trace"]["steps"]) == 3
    last = lag["max"]["trace"]["steps"][-1]["state"]
    assert last["nodes"]["Primary"]["vars"]["acked"] == 3


def test_matrix_shows_each_measure_range_per_row():
    """`matrix` puts a measure's range beside the verdicts of each fault scenario, in
    the text table and in JSON (schema-valid), partial ranges marked."""
    spec = str(ROOT / "specs" / "replication_lag_measures.ha")
    p = run_cli("matrix", spec)
    assert p.returncode == 0, p.stderr
    header = next(line for line in p.stdout.splitlines() if line.startswith("scenario"))
    assert header.split()[2:5] == ["replica_prefix", "lag", "current"]
    rows = [line.split() for line in p.stdout.splitlines() if line.startswith(("no-faults", "faults "))]
    assert [r[-4:-2] for r in rows] == [["0..3", "0..2"], ["0..3", "0..2"]]
    p = run_cli("matrix", spec, "--format", "json")
    doc = json.loads(p.stdout)
    assert schema_errors(doc) == []
    assert [r["measures"]["lag"] for r in doc["rows"]] == [{"min": 0, "max": 3, "complete": True}] * 2
    p = run_cli("matrix", spec, "--max-states", "20")
    assert "0..3 so far" in p.stdout or "so far" in p.stdout
    # a spec without measures: no measures key, no extra column
    doc = json.loads(run_cli("matrix", str(ROOT / "specs" / "naive_failover.ha"), "--format", "json").stdout)
    assert all("measures" not in r for r in doc["rows"])
