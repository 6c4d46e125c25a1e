#!/usr/bin/env python3
"""Cross-check modelcheck's reachable-state counts against Spin, and time both.

Every model in bench/promela/ exists twice: NAME.ha (run by modelcheck) and
NAME.pml (run by Spin). The Promela twin is written so that one Spin state is
exactly one modelcheck state (one process, one do-loop of d_step alternatives
over global variables that mirror the modelcheck state; see the header of
each .pml), so the two counts must be equal: any difference is a bug in one
of the two models or in the checker. Spin's transition count is compared too
(Spin counts one more: it enters the initial state by a "transition"; see
TRANSITION_OFFSETS for a documented difference); a difference there is
reported but is not a failure.

A run is a list of configurations: a model name, optionally with const
overrides, e.g. "majority_election_nofaults N=4". Each NAME=VALUE is passed
to modelcheck as `--const NAME=VALUE` and to Spin's preprocessor as
`-DNAME=VALUE` (the twins read their consts with #ifndef NAME / #define).

Usage:
    python3 bench/spin_crosscheck.py                  # DEFAULT configs (< 2 min)
    python3 bench/spin_crosscheck.py --big            # DEFAULT + BIG configs
    python3 bench/spin_crosscheck.py NAME [K=V ...] [NAME [K=V ...] ...]
    python3 bench/spin_crosscheck.py "NAME K=V" ...   # same, quoted
Options:
    --json          print the rows as JSON instead of the table
    --no-symmetry   skip the run with symmetry (modelcheck's default; its columns show -)
    --timeout S     per-process timeout in seconds (default 600)

Prints, per configuration, side by side:
    spin          Spin's "states, stored"
    mc            modelcheck's distinct_states with --no-symmetry (no reduction)
    agree         spin + offset == mc (a row fails unless it agrees, pan
                  reports no error -- its asserts are the invariants -- and
                  modelcheck's verdict is holds)
    trans         whether the transition counts agree too (Spin's minus 1)
    spin s        wall seconds of spin -a + gcc + pan
    pan s         wall seconds of pan alone
    mc s          wall seconds of `modelcheck verify` (a subprocess: Python
                  start-up and compilation included; explore s = its own
                  stats.seconds, in the JSON)
    mc/spin       mc s / spin s;  mc/pan = mc s / pan s
    sym states, sym s   the same run with symmetry (reduced state count)
Exits 1 on any disagreement or failure, 2 without spin/gcc. Spin and pan run
in a temporary directory (the .pml and the shared .pmh files of
bench/promela/ are copied there; nothing is written next to the models).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
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

# Known difference between the transition counts (Spin's minus 1, for the
# initial state, minus modelcheck's), per model. fifo_pingpong: 30 -- the
# twin has one loss / duplicate alternative per queue position, modelcheck
# one step per distinct message in a queue (Fifo.lose / Fifo.duplicate merge
# equal copies, whose steps lead to the same state); checked by enumerating
# modelcheck's state space and counting the positions that hold an equal
# copy. Spin's states are unaffected (same targets).
TRANSITION_OFFSETS: dict[str, int] = {"fifo_pingpong": 30}

# The configurations of a plain run (the four small twins, the election
# models and the vote count at sizes that take seconds): well under 2 minutes in all.
DEFAULT = [
    "crash_restart",
    "fifo_pingpong",
    "pingpong_faults",
    "unordered_sum",
    "majority_election_nofaults",
    "majority_election_nofaults N=4",
    "majority_election_crash",
    "majority_election_faults LOSS=0",
    "vote_count N=3",
]
# Added by --big: benchmark-sized configurations (about 4 minutes in all on
# the 2-core dev machine, most of it modelcheck without symmetry; counts
# measured when they were added, both checkers agreeing).
BIG = [
    "majority_election_faults",            # LOSS=1: 265,125 states (mc ~3 s)
    "majority_election_crash N=4",         # 186,962 states (mc ~6 s)
    "majority_election_nofaults N=5",      # 1,184,298 states (mc ~70 s, 3.5 s with symmetry; Spin ~19 s)
    "vote_count N=4",                      # 701,056 states (mc ~40 s, 6 s with symmetry: 30,026; Spin ~4 s)
]


def models() -> list[str]:
    """Names that have both NAME.ha and NAME.pml in bench/promela/."""
    return sorted(
        p.stem for p in PROMELA_DIR.glob("*.pml") if (PROMELA_DIR / f"{p.stem}.ha").exists()
    )


def tools_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    """'NAME K=V K=V' -> (NAME, {K: V})."""
    parts = text.split()
    if not parts or "=" in parts[0]:
        raise ValueError(f"bad configuration {text!r}: expected NAME [K=V ...]")
    consts = {}
    for p in parts[1:]:
        k, sep, v = p.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", k) or not re.fullmatch(r"-?\w+", v):
            raise ValueError(f"bad const {p!r} in {text!r}: expected NAME=VALUE")
        consts[k] = v
    return parts[0], consts


def config_label(name: str, consts: dict[str, str] | None = None) -> str:
    return " ".join([name] + [f"{k}={v}" for k, v in (consts or {}).items()])


def _run(cmd: list[str], cwd, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return r, time.perf_counter() - t0


def spin_run(name: str, consts: dict[str, str] | None = None, workdir: str | None = None,
             timeout: float = 600) -> dict:
    """Run Spin + gcc + pan on NAME.pml in a temporary directory.

    Returns {"states": "states, stored", "transitions": "transitions (=
    stored+matched)", "seconds": spin+gcc+pan wall seconds, "pan_seconds": pan
    alone}. Raises RuntimeError if a step fails or pan reports errors (an
    assert that encodes the model's invariant failing means the twins
    disagree on the verdict, which the count comparison alone would not show).
    """
    src = PROMELA_DIR / f"{name}.pml"
    if not src.exists():
        raise RuntimeError(f"no {src}")
    tmp = workdir or tempfile.mkdtemp(prefix=f"spin_{name}_")
    defines = [f"-D{k}={v}" for k, v in (consts or {}).items()]
    try:
        for f in PROMELA_DIR.iterdir():  # the model and any shared .pmh it includes
            if f.suffix in (".pml", ".pmh"):
                shutil.copy(f, os.path.join(tmp, f.name))
        total = 0.0
        for cmd in (SPIN_CMD[:1] + defines + SPIN_CMD[1:] + [src.name], GCC_CMD, PAN_CMD):
            r, secs = _run(cmd, tmp, timeout)
            total += secs
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        out = r.stdout
        m = re.search(r"^\s*(\d+) states, stored", out, re.M)
        t = re.search(r"^\s*(\d+) transitions \(= stored\+matched\)", out, re.M)
        e = re.search(r"errors: (\d+)", out)
        if not m or not e or not t:
            raise RuntimeError(f"cannot read pan output:\n{out}")
        if int(e.group(1)) != 0:
            raise RuntimeError(f"pan reports {e.group(1)} error(s) for {config_label(name, consts)}:\n{out}")
        if "max search depth too small" in out:
            raise RuntimeError(f"pan's depth limit was reached (raise -m in PAN_CMD):\n{out}")
        return {"states": int(m.group(1)), "transitions": int(t.group(1)),
                "seconds": total, "pan_seconds": secs}
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def spin_count(name: str, workdir: str | None = None, consts: dict[str, str] | None = None) -> int:
    """Spin's "states, stored" for NAME.pml (see spin_run)."""
    return spin_run(name, consts, workdir)["states"]


def modelcheck_result(name: str, consts: dict[str, str] | None = None, extra: tuple[str, ...] = (),
                      timeout: float = 600) -> tuple[int, dict]:
    """Run `python3 -m modelcheck verify NAME.ha --format json [--const K=V ...] [extra]`;
    return (exit code, JSON). The JSON gets a "wall_seconds" key (the subprocess's)."""
    # Spin's models have every partition and every message in flight: compare unreduced counts
    cmd = [sys.executable, "-m", "modelcheck", "verify", str(PROMELA_DIR / f"{name}.ha"), "--format", "json",
           "--keep-partitions", "--keep-dead-messages"]
    for k, v in (consts or {}).items():
        cmd += ["--const", f"{k}={v}"]
    r, secs = _run(cmd + list(extra), ROOT, timeout)
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"modelcheck did not print JSON for {config_label(name, consts)} (exit {r.returncode}):\n"
            f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}") from exc
    data["wall_seconds"] = secs
    return r.returncode, data


def modelcheck_count(name: str, consts: dict[str, str] | None = None) -> int:
    code, data = modelcheck_result(name, consts, extra=("--no-symmetry",))
    return int(data["stats"]["distinct_states"])


def crosscheck(name: str, consts: dict[str, str] | None = None, symmetry: bool = True, timeout: float = 600) -> dict:
    """One row: Spin and modelcheck with its reductions off (--no-symmetry), and modelcheck
    with symmetry (its default), on one configuration."""
    row: dict = {"config": config_label(name, consts), "model": name, "consts": dict(consts or {}),
                 "offset": OFFSETS.get(name, 0), "ok": False, "error": None}
    try:
        s = spin_run(name, consts, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - report and go on
        row["error"] = f"spin failed: {exc}"
        return row
    row.update(spin_states=s["states"], spin_transitions=s["transitions"], spin_seconds=round(s["seconds"], 3),
               pan_seconds=round(s["pan_seconds"], 3))
    try:
        code, data = modelcheck_result(name, consts, extra=("--no-symmetry",), timeout=timeout)
        st = data["stats"]
        row.update(mc_states=int(st["distinct_states"]), mc_transitions=int(st["transitions"]),
                   mc_verdict=data.get("verdict", "?"), mc_exit=code, mc_seconds=round(data["wall_seconds"], 3),
                   mc_explore_seconds=st.get("seconds"))
    except Exception as exc:  # noqa: BLE001
        row["error"] = f"modelcheck failed: {exc}"
        return row
    row["agree"] = row["spin_states"] + row["offset"] == row["mc_states"]
    row["transitions_agree"] = (row["spin_transitions"] - 1
                                == row["mc_transitions"] + TRANSITION_OFFSETS.get(name, 0))
    row["ok"] = row["agree"] and code == 0 and row["mc_verdict"] == "holds"
    row["mc_over_spin"] = round(row["mc_seconds"] / row["spin_seconds"], 2) if row["spin_seconds"] else None
    row["mc_over_pan"] = round(row["mc_seconds"] / row["pan_seconds"], 2) if row["pan_seconds"] else None
    if symmetry:
        try:
            code, data = modelcheck_result(name, consts, extra=("--symmetry",), timeout=timeout)
            row.update(sym_states=int(data["stats"]["distinct_states"]), sym_seconds=round(data["wall_seconds"], 3),
                       sym_verdict=data.get("verdict", "?"))
        except Exception as exc:  # noqa: BLE001 - informative only, not a failure
            row["sym_error"] = str(exc)
    return row


def parse_args(argv: list[str]) -> tuple[list[tuple[str, dict]], dict]:
    opts = {"json": False, "big": False, "symmetry": True, "timeout": 600.0}
    configs: list[tuple[str, dict]] = []
    it = iter(argv)
    for a in it:
        if a == "--json":
            opts["json"] = True
        elif a == "--big":
            opts["big"] = True
        elif a == "--no-symmetry":
            opts["symmetry"] = False
        elif a == "--timeout":
            opts["timeout"] = float(next(it))
        elif a.startswith("--timeout="):
            opts["timeout"] = float(a.split("=", 1)[1])
        elif a in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        elif a.startswith("-"):
            raise ValueError(f"unknown option {a}")
        elif "=" in a and " " not in a.strip():
            if not configs:
                raise ValueError(f"const {a} before any model name")
            configs[-1][1].update(parse_config(f"{configs[-1][0]} {a}")[1])
        else:
            name, consts = parse_config(a)
            configs.append((name, consts))
    if not configs:
        configs = [parse_config(c) for c in DEFAULT + (BIG if opts["big"] else [])]
    elif opts["big"]:
        configs += [parse_config(c) for c in BIG]
    return configs, opts


def _fmt(x, spec: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    return format(x, spec)


HEADER = (f"{'configuration':<34} {'spin':>9} {'mc':>9} {'agree':>5} {'trans':>5} {'spin s':>7} {'pan s':>7} "
          f"{'mc s':>7} {'mc/spin':>7} {'mc/pan':>7} {'sym states':>10} {'sym s':>7}")


def format_row(r: dict) -> str:
    if r.get("spin_states") is None or r.get("mc_states") is None:
        return f"{r['config']:<34} {_fmt(r.get('spin_states'), ','):>9} {'-':>9}  {r['error']}"
    line = (f"{r['config']:<34} {r['spin_states']:>9,} {r['mc_states']:>9,} {_fmt(r['agree']):>5} "
            f"{_fmt(r['transitions_agree']):>5} {r['spin_seconds']:>7.2f} {r['pan_seconds']:>7.2f} "
            f"{r['mc_seconds']:>7.2f} {_fmt(r['mc_over_spin'], '.1f'):>7} {_fmt(r['mc_over_pan'], '.1f'):>7} "
            f"{_fmt(r.get('sym_states'), ','):>10} {_fmt(r.get('sym_seconds'), '.2f'):>7}")
    if not r["ok"]:
        line += f"  MISMATCH (verdict {r.get('mc_verdict')}, exit {r.get('mc_exit')})"
    return line


def main(argv: list[str]) -> int:
    try:
        configs, opts = parse_args(argv)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not tools_available():
        print("spin and/or gcc not on PATH", file=sys.stderr)
        return 2
    rows = []
    if not opts["json"]:
        print(HEADER, flush=True)
    for name, consts in configs:
        row = crosscheck(name, consts, symmetry=opts["symmetry"], timeout=opts["timeout"])
        rows.append(row)
        if not opts["json"]:
            print(format_row(row), flush=True)
    bad = sum(not r["ok"] for r in rows)
    if opts["json"]:
        print(json.dumps({"rows": rows, "all_agree": bad == 0}, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
