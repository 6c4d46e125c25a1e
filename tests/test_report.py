"""Golden reports for the example specs, compared byte for byte.

The last line (the summary) holds wall-clock time and is compared without the
timing fields. Regenerate after an intended change with:

    UPDATE_GOLDEN=1 pytest tests/test_report.py
"""
from __future__ import annotations

import json
import os
import re

import pytest

from conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
TIMING = re.compile(r" · [0-9.]+ s · [0-9,]+ states/s$")

CASES = [
    ("specs/naive_failover.ha", 1),
]


def _normalise(stdout: str) -> str:
    lines = stdout.rstrip("\n").split("\n")
    lines[-1] = TIMING.sub(" · <time>", lines[-1])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("spec, code", CASES)
def test_golden_text(spec, code):
    p = run_cli("verify", spec)
    assert p.returncode == code, p.stderr
    out = _normalise(p.stdout)
    golden = GOLDEN / (os.path.basename(spec).removesuffix(".ha") + ".txt")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


@pytest.mark.parametrize("spec, code", CASES)
def test_golden_json(spec, code):
    p = run_cli("verify", spec, "--format", "json")
    assert p.returncode == code
    doc = json.loads(p.stdout)
    doc["stats"].pop("seconds")
    doc["stats"].pop("states_per_second")
    golden = GOLDEN / (os.path.basename(spec).removesuffix(".ha") + ".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(doc, indent=2) + "\n")
    assert doc == json.loads(golden.read_text())
