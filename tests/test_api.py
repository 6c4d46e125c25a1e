"""The Python API (modelcheck.load / modelcheck.verify, docs/api.md): the same
pipeline as `modelcheck verify`, results as dataclasses, errors as SpecError."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import modelcheck
from conftest import ROOT, run_cli

NAIVE = str(ROOT / "specs" / "naive_failover.ha")
SPLIT = """spec split
role Server[2] {
  var primary: bool = self == Server[0]
  action promote when not primary { primary = true }
}
invariant single: count(s in Server where s.primary) <= 1
"""


def _untimed(text: str) -> str:
    return re.sub(r"[0-9.,]+ s(tates/s)?\b", "T", text)


def test_verify_a_path_gives_verdict_stats_and_trace():
    v = modelcheck.verify(NAIVE)
    assert v.verdict == "violated" and not v.ok and v.stop_reason is None
    assert (v.stats.distinct_states, v.stats.transitions, v.stats.depth) == (10, 16, 3)
    assert v.violation.kind == "invariant" and v.violation.name == "single_primary"
    assert [s.label for s in v.trace] == ["Server[1] does detector_tick"] * 2 + ["Server[1] does promote"]
    last = v.trace[-1]
    assert (last.index, last.kind, last.node, last.name, last.line) == (3, "action", "Server[1]", "promote", 50)
    assert last.changes == (modelcheck.Change("Server[1].primary", "false", "true"),)
    assert v.cycle is None and v.invariants == ["single_primary"]


def test_text_and_json_are_what_the_cli_prints():
    v = modelcheck.verify(NAIVE)
    p = run_cli("verify", NAIVE)
    assert _untimed(v.text()) + "\n" == _untimed(p.stdout)
    p = run_cli("verify", NAIVE, "--format", "json", "--no-symmetry", "--max-depth", "5")
    doc = modelcheck.verify(NAIVE, symmetry=False, max_depth=5).json()
    cli = json.loads(p.stdout)
    for d in (doc, cli):
        d["stats"].pop("seconds"), d["stats"].pop("states_per_second")
    assert doc == cli


def test_load_text_consts_and_reuse():
    spec = modelcheck.load(SPLIT)
    assert (spec.path, spec.name, spec.invariants, spec.properties) == ("<spec>", "split", ["single"], [])
    assert modelcheck.verify(spec).verdict == "violated"
    counter = "spec c\nconst MAX = 3\nrole C { var n: 0..MAX = 0\n  action inc when n < MAX { n += 1 } }\n" \
              "invariant small: C.n <= 2\n"
    loaded = modelcheck.load(counter, consts={"MAX": 2}, name="counter.ha")
    assert loaded.consts == {"MAX": 2} and loaded.path == "counter.ha"
    assert modelcheck.verify(loaded).ok
    assert modelcheck.verify(loaded, consts={"MAX": 3}).verdict == "violated"  # verify's consts win
    assert modelcheck.verify(loaded).ok and loaded.consts == {"MAX": 2}  # ... for that run only
    assert modelcheck.verify(counter, max_states=2).stop_reason == "max-states"


def test_liveness_counterexample_has_a_cycle():
    v = modelcheck.verify(ROOT / "specs" / "stonith_mutual_broken.ha")
    assert v.violation.kind == "property" and v.violation.name == "someone_active"
    assert len(v.trace) == 12 and len(v.cycle) == 6 and v.cycle[0].index == 13


def test_spec_errors_carry_diagnostics_and_render_like_the_cli():
    with pytest.raises(modelcheck.SpecError) as info:
        modelcheck.load(SPLIT.replace("not primary", "not primry"), name="split.ha")
    err = info.value
    d = err.diagnostics[0]
    assert (d.code, d.span.line, d.span.column, err.path) == ("E101", 4, 27, "split.ha")
    assert "did you mean 'primary'?" in d.message
    text = str(err)
    assert text.startswith("split.ha:4:27: error") and "    4 |   action promote when not primry" in text
    assert "^~~~~~" in text and "Traceback" not in text
    with pytest.raises(modelcheck.SpecError) as info:
        modelcheck.load("no/such/spec.ha")
    assert info.value.diagnostics[0].code == "E000" and "no such spec file" in str(info.value)
    for options, code in (({"scenario": "nope"}, "E104"), ({"invariants": ["nope"]}, "E104"),
                          ({"consts": {"NOPE": 1}}, "E103")):
        with pytest.raises(modelcheck.SpecError) as info:
            modelcheck.verify(NAIVE, **options)
        assert info.value.diagnostics[0].code == code and str(info.value).startswith(NAIVE)


def test_contradicting_options_raise_value_errors():
    with pytest.raises(ValueError, match="scenario and no_faults"):
        modelcheck.verify(NAIVE, scenario="x", no_faults=True)
    with pytest.raises(ValueError, match="not a size"):
        modelcheck.verify(NAIVE, memory_limit="lots")
    with pytest.raises(TypeError):
        modelcheck.load(NAIVE, consts={"SILENCE": "2"})


def test_import_modelcheck_stays_light():
    code = "import sys, modelcheck; print('lark' in sys.modules, 'z3' in sys.modules, modelcheck.load.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "modelcheck.api"]
