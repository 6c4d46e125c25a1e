"""modelcheck's reachable-state counts must equal Spin's on the twin models.

Each bench/promela/NAME.ha has a Promela twin NAME.pml written so that one
Spin state is one modelcheck state (see bench/spin_crosscheck.py and the
.pml headers). Skipped when spin or gcc is not on PATH. Spin and pan run in
pytest's tmp_path. The election twins run at N=3 here (seconds); the
benchmark sizes are `python3 bench/spin_crosscheck.py --big`.
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

# Spin's count for each configuration ("NAME [K=V ...]"), recorded when the
# models were written (the four small ones also confirmed by an independent
# brute-force enumeration); the tests recompute it. Every twin appears at
# least once.
KNOWN_SPIN = {
    "vote_count N=3": 1108,
    "unordered_sum": 15,
    "crash_restart": 15,
    "pingpong_faults": 831,
    "fifo_pingpong": 440,
    "majority_election_nofaults": 912,                  # N=3, MAX_TERM=2
    "majority_election_nofaults MAX_TERM=1": 41,        # consts reach both checkers
    "majority_election_crash": 6084,
    "majority_election_faults LOSS=0": 30420,
}


def test_all_twins_listed():
    assert sorted({c.split()[0] for c in KNOWN_SPIN}) == xc.models()


def test_default_run_covers_every_twin():
    assert {xc.parse_config(c)[0] for c in xc.DEFAULT} == set(xc.models())


def test_config_parsing():
    assert xc.parse_config("majority_election_nofaults N=4") == ("majority_election_nofaults", {"N": "4"})
    configs, opts = xc.parse_args(["--json", "a", "N=4", "MAX_TERM=1", "b M=2", "c"])
    assert configs == [("a", {"N": "4", "MAX_TERM": "1"}), ("b", {"M": "2"}), ("c", {})]
    assert opts["json"] and not opts["big"]
    assert xc.config_label("a", {"N": "4"}) == "a N=4"
    with pytest.raises(ValueError):
        xc.parse_args(["N=4"])


@pytest.mark.parametrize("config", sorted(KNOWN_SPIN))
def test_modelcheck_matches_spin(config, tmp_path):
    name, consts = xc.parse_config(config)
    spin = xc.spin_run(name, consts, workdir=str(tmp_path))
    assert spin["states"] == KNOWN_SPIN[config]
    code, data = xc.modelcheck_result(name, consts, extra=("--no-symmetry",))
    assert data["verdict"] == "holds" and code == 0, (config, code, data.get("verdict"))
    mc = data["stats"]["distinct_states"]
    assert mc == spin["states"] + xc.OFFSETS.get(name, 0), f"{config}: modelcheck {mc}, spin {spin['states']}"
    # transitions too: Spin counts one for entering the initial state
    assert data["stats"]["transitions"] + xc.TRANSITION_OFFSETS.get(name, 0) == spin["transitions"] - 1
