"""`modelcheck matrix`: rows, cells, exit codes, and golden text/markdown/JSON
(timings blanked). Regenerate the golden files with UPDATE_GOLDEN=1."""
from __future__ import annotations

import functools
import json
import os
import re

import pytest

from conftest import ROOT
from conftest import run_cli as _run_cli


@functools.lru_cache(maxsize=None)
def run_cli(*args: str):
    """Each distinct command runs once per test session (a matrix is several explorations)."""
    return _run_cli(*args)

SPEC = "tests/matrix/vote.ha"
GOLDEN = ROOT / "tests" / "golden"


def blank_times(text: str) -> str:
    # the last column of text and markdown tables is seconds
    return re.sub(r"(?m)(\s|\| )\d+\.\d( \|)?$", lambda m: m.group(1) + "X" + (m.group(2) or ""), text)


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_golden(fmt, suffix):
    proc = run_cli("matrix", SPEC, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    if fmt == "json":
        doc = json.loads(out)
        for row in doc["rows"]:
            row["stats"]["seconds"] = "X"
        out = json.dumps(doc, indent=2) + "\n"
    else:
        out = blank_times(out)
    golden = GOLDEN / f"matrix_vote.{suffix}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_cells_follow_the_quorum_arithmetic():
    doc = json.loads(run_cli("matrix", SPEC, "--format", "json").stdout)
    cells = {r["scenario"]: {n: c["verdict"] for n, c in r["cells"].items()} for r in doc["rows"]}
    assert [r["scenario"] for r in doc["rows"]] == ["no-faults", "faults", "two_crashes", "cut_forever", "cut_heals"]
    # one crash: a majority of 2 remains, so a leader is elected; two crashes: none
    assert cells["faults"]["elected"] == "holds" and cells["two_crashes"]["elected"] == "violated"
    # a cut that never heals leaves the minority node unheard; healing fixes it
    assert cells["cut_forever"]["everyone_hears"] == "violated" and cells["cut_heals"]["everyone_hears"] == "holds"
    # every row reports every invariant, even after the first violation
    assert all(c["few_leaders"] == "holds" and c["single_leader"] == "violated" for c in cells.values())


def test_scenario_selection_and_errors():
    doc = json.loads(run_cli("matrix", SPEC, "--format", "json", "--scenario", "two_crashes",
                             "--scenario", "no-faults").stdout)
    assert [r["scenario"] for r in doc["rows"]] == ["no-faults", "two_crashes"]
    proc = run_cli("matrix", SPEC, "--scenario", "two_crash")
    assert proc.returncode == 2 and "did you mean 'two_crashes'" in proc.stderr


def test_exit_codes():
    assert run_cli("matrix", SPEC, "--fail-on-violation", "--scenario", "faults").returncode == 1
    assert run_cli("matrix", SPEC, "--max-states", "50", "--scenario", "faults").returncode == 3
    proc = run_cli("matrix", SPEC, "--max-states", "50", "--scenario", "faults")
    assert "incomplete" in proc.stdout


def test_matrix_agrees_with_verify():
    """A matrix row is the same exploration as `verify --scenario`: same state count
    and the same counterexample length for the first violated column."""
    doc = json.loads(run_cli("matrix", SPEC, "--format", "json", "--scenario", "two_crashes").stdout)
    row = doc["rows"][0]
    proc = run_cli("verify", SPEC, "--scenario", "two_crashes", "--property", "elected", "--format", "json")
    v = json.loads(proc.stdout)
    assert v["stats"]["distinct_states"] == row["stats"]["distinct_states"]
    assert len(v["trace"]["steps"]) == row["cells"]["elected"]["steps"]
    assert len(v["trace"]["cycle"]) == row["cells"]["elected"]["cycle"]


def test_rows_in_parallel_give_the_same_table():
    one = run_cli("matrix", SPEC, "--format", "markdown", "--jobs", "1")
    two = run_cli("matrix", SPEC, "--format", "markdown", "--jobs", "2")
    assert one.returncode == two.returncode == 0, two.stderr
    assert blank_times(one.stdout) == blank_times(two.stdout)


def test_parallel_rows_keep_spec_errors_column(tmp_path):
    spec = tmp_path / "err.ha"
    spec.write_text("""
spec err
role A { var x: 0..2 = 0
  action inc { x = x + 1 } }
invariant ok: true
scenario crash_a { crash A at most 1 }
""")
    one = run_cli("matrix", str(spec), "--format", "json", "--jobs", "1")
    two = run_cli("matrix", str(spec), "--format", "json", "--jobs", "2")
    rows1, rows2 = json.loads(one.stdout)["rows"], json.loads(two.stdout)["rows"]
    for r in rows1 + rows2:
        r["stats"]["seconds"] = "X"
    assert rows1 == rows2
    assert json.loads(two.stdout)["columns"][-1]["name"] == "(spec errors)"


def test_parallel_rows_run_in_worker_processes(monkeypatch):
    # the table test above would pass if --jobs were ignored: here each row records
    # the process that computed it (forked workers inherit the patched function)
    from conftest import pipeline
    from modelcheck.engine import matrix as mx
    from modelcheck.engine.explorer import Options

    model = pipeline((ROOT / SPEC).read_text())
    real = mx._run_row

    def tagged(*args):
        row = real(*args)
        row.faults = str(os.getpid())
        return row
    monkeypatch.setattr(mx, "_run_row", tagged)
    rows = mx.scenarios_of(model)
    result = mx.run_matrix(model, rows, Options(), jobs=2)
    pids = {r.faults for r in result.rows}
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2
    assert [r.scenario for r in result.rows] == [name for name, _ in rows]
