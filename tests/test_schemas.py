"""The JSON Schemas shipped in modelcheck/schemas describe what modelcheck writes:
every golden JSON, and every gallery trace (specs/*_broken.ha, in both the JSON
result and ITF) validates; ITF traces decode back to the JSON format's values and
replay; damaged documents do not validate. The schemas ship in the wheel."""
from __future__ import annotations

import copy
import json
import re

import pytest

from conftest import ROOT, run_cli
from schema_check import errors, itf_rule_errors

GOLDEN = ROOT / "tests" / "golden"
GALLERY = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").glob("*_broken.ha"))


def _unblank(doc):
    """Golden files blank their timings ("X"); put a number back."""
    rows = doc.get("rows", [doc])
    for row in rows:
        stats = row.get("stats") or {}
        for key in ("seconds", "states_per_second"):
            if key in stats and not isinstance(stats[key], (int, float)):
                stats[key] = 0.0
    return doc


@pytest.mark.parametrize("path", sorted(p.name for p in GOLDEN.glob("*.json")))
def test_every_golden_json_validates(path):
    doc = _unblank(json.loads((GOLDEN / path).read_text()))
    assert errors(doc) == []


def test_the_gallery_is_found():
    assert len(GALLERY) >= 14 and "specs/async_failover_broken.ha" in GALLERY


@pytest.mark.parametrize("spec", GALLERY)
def test_gallery_trace_validates_in_json_and_itf_and_replays(spec, tmp_path):
    from modelcheck.report.itf import from_itf

    itf_path = tmp_path / "trace.itf.json"
    proc = run_cli("verify", spec, "--format", "json", "--trace-out", str(itf_path))
    assert proc.returncode == 1, proc.stderr
    doc, itf = json.loads(proc.stdout), json.loads(itf_path.read_text())
    assert errors(doc) == []
    assert errors(itf) == [] and itf_rule_errors(itf) == []
    assert f"wrote the ITF trace to {itf_path}" in proc.stderr
    # ITF values decode to exactly the JSON format's, state by state
    back = from_itf(itf)["trace"]
    trace = doc["trace"]
    assert back["initial"] == trace["initial"]
    assert [s["state"] for s in back["steps"]] == [s["state"] for s in trace["steps"]]
    assert [s["state"] for s in back.get("cycle", [])] == [s["state"] for s in trace.get("cycle", [])]
    assert ("cycle" in back) == ("cycle" in trace)
    replay = run_cli("replay", spec, str(itf_path))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "Reproduced" in replay.stdout


def test_other_outputs_validate(tmp_path):
    # an error document, a holding result, an incomplete one (growth, warnings), a simulation, a matrix
    bad = tmp_path / "bad.ha"
    bad.write_text("spec x\nrole S[2] { var a: bool = false\n action t when not b { a = true } }\n")
    docs = [json.loads(run_cli("verify", str(bad), "--format", "json").stdout)]
    docs.append(json.loads(run_cli("verify", "specs/async_failover_fixed.ha", "--format", "json").stdout))
    docs.append(json.loads(run_cli("verify", "specs/naive_failover.ha", "--format", "json", "--max-states", "3").stdout))
    docs.append(json.loads(run_cli("simulate", "specs/naive_failover.ha", "--format", "json", "--runs", "20").stdout))
    docs.append(json.loads(run_cli("matrix", "tests/matrix/vote.ha", "--format", "json", "-j", "1").stdout))
    assert [d["verdict"] if "verdict" in d else d["format"] for d in docs] == \
        ["error", "holds", "incomplete", "violated", "modelcheck-matrix"]
    for doc in docs:
        assert errors(doc) == [], doc.get("verdict")


def test_damaged_documents_do_not_validate():
    doc = json.loads((GOLDEN / "naive_failover.json").read_text())
    for damage in (lambda d: d.pop("stats"),
                   lambda d: d.__setitem__("verdict", "fine"),
                   lambda d: d["trace"]["steps"][0].__setitem__("kind", "teleport"),
                   lambda d: d["trace"]["initial"]["nodes"]["Server[0]"].__setitem__("up", "yes"),
                   lambda d: d["trace"]["steps"][0]["state"].pop("in_flight")):
        broken = copy.deepcopy(doc)
        damage(broken)
        assert errors(broken), damage


def test_schemas_ship_in_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"modelcheck\.schemas" = \["\*\.schema\.json"\]', text)
    assert '"modelcheck.schemas"' in text.split("packages = [", 1)[1].split("]", 1)[0]
    from modelcheck import schemas
    assert set(schemas.every_schema()) == {schemas.load(f)["$id"] for f in schemas.FILES.values()}
