"""`verify --format mermaid`: golden sequence diagrams (UPDATE_GOLDEN=1 regenerates)."""
from __future__ import annotations

import os

import pytest

from conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("spec", ["specs/naive_failover.ha", "specs/async_failover_broken.ha",
                                  "tests/matrix/vote.ha"])
def test_golden_mermaid(spec):
    args = ["verify", spec, "--format", "mermaid"]
    if spec.endswith("vote.ha"):
        args += ["--scenario", "two_crashes", "--property", "elected"]
    proc = run_cli(*args)
    assert proc.returncode == 1
    assert proc.stdout.startswith("sequenceDiagram\n")
    assert "Result: VIOLATED" in proc.stderr  # the summary goes to stderr, the diagram alone to stdout
    golden = GOLDEN / (os.path.basename(spec).removesuffix(".ha") + ".mmd")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(proc.stdout)
    assert proc.stdout == golden.read_text()


def test_one_arrow_per_delivered_message():
    proc = run_cli("verify", "specs/async_failover_broken.ha", "--format", "mermaid")
    arrows = [line for line in proc.stdout.splitlines() if "->>" in line]
    assert len(arrows) == 4


def test_lasso_is_a_loop_block(spec_file):
    p = spec_file("""
spec spin
role Worker {
  var done: bool = false
  var phase: 0..1 = 0
  action spin when not done { phase = 1 - phase }
  action finish when not done and phase == 0 { done = true }
}
property finishes: eventually Worker.done
""")
    out = run_cli("verify", str(p), "--format", "mermaid").stdout
    assert "    loop repeats forever\n" in out and "    end\n" in out
