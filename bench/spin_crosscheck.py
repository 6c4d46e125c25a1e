#!/usr/bin/env python3
"""Cross-check modelcheck's reachable-state counts against Spin.

Every model in bench/promela/ exists twice: NAME.ha (run by modelcheck) and
NAME.pml (run by Spin). The Promela twin is written so that one Spin state is
exactly one modelcheck state (one process, one do-loop of d_step alternatives
over global variables that mirror the modelcheck state; see the header of
each .pml), so the two counts must be equal: any difference is a bug in one
of the two models or in the checker.

Usage:
    python3 bench/spin_crosscheck.py [NAME ...]

Prints, per model, Spin's "states, stored", modelcheck's distinct_states and
whether they agree; exits 1 on any disagreement or failure. Spin and pan are
run in a temporary directory (nothing is written next to the models).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMELA_DIR = ROOT / "bench" / "promela"

# spin -o1 -o2 -o3: no dataflow optimisation, do NOT hide write-only
# variables (-o2; by default Spin drops a variable that is assigned but never
# read from the state vector, merging states modelcheck keeps apart), no
# statement merging. gcc -DNOREDUCE: no partial-order reduction; -DSAFETY:
# plain reachability (asserts are checked, no never claim).
SPIN_CMD = ["spin", "-o1", "-o2", "-o3", "-a"]
GCC_CMD = ["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", "-w", "-o", "pan", "pan.c"]
PAN_CMD = ["./pan", "-m100000"]

# Documented offset between Spin's count and modelcheck's, per model. All
# zero: Spin stores the initial state like any other and the encoding adds
# no control states (the loop head is the only program counter value), so
# the counts are equal.
OFFSETS: dict[str, int] = {}


def models() -> list[str]:
    """Names that have both NAME.ha and NAME.pml in bench/promela/."""
    return sorted(
        p.stem for p in PROMELA_DIR.glob("*.pml") if (PROMELA_DIR / f"{p.stem}.ha").exists()
    )


def tools_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def spin_count(name: str, workdir: str | None = None) -> int:
    """Run Spin + pan on NAME.pml in a temporary directory; return 'states, stored'.

    Raises RuntimeError if a step fails or pan reports errors (an assert that
    encodes the model's invariant failing means the twins disagree on the
    verdict, which the count comparison alone would not show).
    """
    src = PROMELA_DIR / f"{name}.pml"
    tmp = workdir or tempfile.mkdtemp(prefix=f"spin_{name}_")
    try:
        shutil.copy(src, os.path.join(tmp, src.name))
        for cmd in (SPIN_CMD + [src.name], GCC_CMD, PAN_CMD):
            r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        out = r.stdout
        m = re.search(r"^\s*(\d+) states, stored", out, re.M)
        e = re.search(r"errors: (\d+)", out)
        if not m or not e:
            raise RuntimeError(f"cannot read pan output:\n{out}")
        if int(e.group(1)) != 0:
            raise RuntimeError(f"pan reports {e.group(1)} error(s) for {name}:\n{out}")
        return int(m.group(1))
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def modelcheck_result(name: str) -> tuple[int, dict]:
    """Run `python3 -m modelcheck verify NAME.ha --format json`; return (exit code, JSON)."""
    r = subprocess.run(
        [sys.executable, "-m", "modelcheck", "verify", str(PROMELA_DIR / f"{name}.ha"),
         "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"modelcheck did not print JSON for {name} (exit {r.returncode}):\n"
            f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}") from exc
    return r.returncode, data


def modelcheck_count(name: str) -> int:
    code, data = modelcheck_result(name)
    return int(data["stats"]["distinct_states"])


def main(argv: list[str]) -> int:
    names = argv or models()
    if not tools_available():
        print("spin and/or gcc not on PATH", file=sys.stderr)
        return 2
    print(f"{'model':<20} {'spin':>8} {'offset':>7} {'modelcheck':>11}  verdict   result")
    bad = 0
    for name in names:
        try:
            s = spin_count(name)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{name:<20} spin failed: {exc}")
            bad += 1
            continue
        off = OFFSETS.get(name, 0)
        try:
            code, data = modelcheck_result(name)
            mc = int(data["stats"]["distinct_states"])
            verdict = data.get("verdict", data.get("stats", {}).get("verdict", "?"))
        except Exception as exc:  # noqa: BLE001
            print(f"{name:<20} {s:>8} {off:>7} {'-':>11}  -         modelcheck failed: {exc}")
            bad += 1
            continue
        ok = (s + off == mc) and code == 0
        bad += not ok
        print(f"{name:<20} {s:>8} {off:>7} {mc:>11}  {verdict:<9} {'OK' if ok else 'MISMATCH'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
