"""modelcheck's reachable-state counts must equal Spin's on the twin models.

Each bench/promela/NAME.ha has a Promela twin NAME.pml written so that one
Spin state is one modelcheck state (see bench/spin_crosscheck.py and the
.pml headers). Skipped when spin or gcc is not on PATH. Spin and pan run in
pytest's tmp_path.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("spin_crosscheck", ROOT / "bench" / "spin_crosscheck.py")
xc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xc)

pytestmark = pytest.mark.skipif(
    shutil.which("spin") is None or shutil.which("gcc") is None,
    reason="spin and gcc are needed for the Spin cross-check",
)

# Spin's count for each twin, recorded when the models were written (also
# confirmed by an independent brute-force enumeration); the test recomputes it.
KNOWN_SPIN = {
    "unordered_sum": 15,
    "crash_restart": 15,
    "pingpong_faults": 831,
    "fifo_pingpong": 440,
}


def test_all_twins_listed():
    assert sorted(KNOWN_SPIN) == xc.models()


@pytest.mark.parametrize("name", sorted(KNOWN_SPIN))
def test_spin_count_is_stable(name, tmp_path):
    assert xc.spin_count(name, workdir=str(tmp_path)) == KNOWN_SPIN[name]


@pytest.mark.parametrize("name", sorted(KNOWN_SPIN))
def test_modelcheck_matches_spin(name, tmp_path):
    spin = xc.spin_count(name, workdir=str(tmp_path))
    code, data = xc.modelcheck_result(name)
    assert data["verdict"] == "holds" and code == 0, (name, code, data.get("verdict"))
    mc = data["stats"]["distinct_states"]
    assert mc == spin + xc.OFFSETS.get(name, 0), f"{name}: modelcheck {mc}, spin {spin}"
