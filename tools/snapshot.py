"""Behaviour snapshot: every command's output on every spec in the repository.

A refactor must change no state count, transition count, verdict, trace or report.
This runs `verify` (text, json, mermaid, html; plain, --prune, --no-symmetry),
`matrix`, `prove`, `check` and `graph` on every `.ha` file under specs/, tests/
and bench/, with timings taken out, and writes one file per run into OUT. Take a
snapshot before a change and one after, then `diff -r BEFORE AFTER`:

    python tools/snapshot.py --out /tmp/before            # on the old commit
    python tools/snapshot.py --out /tmp/after
    diff -r /tmp/before /tmp/after && echo identical

Each run is bounded by --max-states (not by time), so the output is deterministic.
`--modelcheck CMD` runs another checkout (e.g. "python -m modelcheck" with
PYTHONPATH set to it).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = "60000"

RUNS = {
    "verify.txt": ["verify", "{f}", "--max-states", LIMIT],
    "verify.json": ["verify", "{f}", "--format", "json", "--max-states", LIMIT],
    "prune.json": ["verify", "{f}", "--format", "json", "--prune", "--max-states", LIMIT],
    "nosym.json": ["verify", "{f}", "--format", "json", "--no-symmetry", "--max-states", LIMIT],
    "verify.mmd": ["verify", "{f}", "--format", "mermaid", "--max-states", LIMIT],
    "verify.html": ["verify", "{f}", "-q", "--max-states", LIMIT, "--html", "{tmp}/r.html"],
    "matrix.txt": ["matrix", "{f}", "--max-states", "20000"],
    "prove.txt": ["prove", "{f}", "--k", "2", "--no-infer"],
    "check.txt": ["check", "{f}"],
    "graph.dot": ["graph", "{f}", "--max-states", "300"],
}

TIMING = [
    (re.compile(r"\d[\d,]*(\.\d+)? ?(s|ms|states/s)\b"), "T"),
    (re.compile(r'"(seconds|states_per_second|elapsed|time)": [\d.e+-]+'), r'"\1": T'),
    (re.compile(r"\d+(\.\d+)? (seconds|minutes)"), "T"),
    (re.compile(r"(?<=\s)\d+\.\d(?=\s*$)", re.M), "T"),  # the matrix's seconds column
]


def normal(text: str) -> str:
    for rx, sub in TIMING:
        text = rx.sub(sub, text)
    return text


def run(cmd: list[str], spec: Path, name: str, argv: list[str], out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = [a.format(f=str(spec), tmp=tmp) for a in argv]
        try:
            p = subprocess.run(cmd + args, capture_output=True, text=True, timeout=300, cwd=ROOT,
                               env={**os.environ, "COLUMNS": "100", "PYTHONHASHSEED": "0"})
            text = f"exit {p.returncode}\n{p.stdout}\n--- stderr\n{p.stderr}"
        except subprocess.TimeoutExpired:
            text = "timeout\n"
        html = Path(tmp, "r.html")
        if html.exists():
            text += "\n--- html\n" + html.read_text()
    rel = spec.relative_to(ROOT)
    dest = out / str(rel).replace("/", "__")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / name).write_text(normal(text.replace(str(spec), str(rel))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--modelcheck", default=f"{sys.executable} -m modelcheck")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", help="substring of the spec paths to run")
    ap.add_argument("--renormalise", action="store_true", help="only re-normalise the files already in OUT")
    a = ap.parse_args()
    if a.renormalise:
        renormalise(a.out)
        return
    specs = sorted(p for d in ("specs", "tests", "bench") for p in (ROOT / d).rglob("*.ha"))
    if a.only:
        specs = [s for s in specs if a.only in str(s)]
    cmd = shlex.split(a.modelcheck)
    with concurrent.futures.ThreadPoolExecutor(a.workers) as pool:
        jobs = [pool.submit(run, cmd, s, name, argv, a.out) for s in specs for name, argv in RUNS.items()]
        for j in jobs:
            j.result()
    print(f"{len(jobs)} runs over {len(specs)} specs in {a.out}")


def renormalise(folder: Path) -> None:
    """Apply today's normalisation to a snapshot taken with an older one."""
    for f in folder.rglob("*"):
        if f.is_file():
            f.write_text(normal(f.read_text()))


if __name__ == "__main__":
    main()
