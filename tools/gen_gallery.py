#!/usr/bin/env python3
"""Regenerate the machine-made parts of docs/gallery.md from the specs.

The gallery's prose is written by hand; everything modelcheck prints (traces,
verdicts, state counts, timings) sits between marker comments and is filled in
by this script, which runs the installed `modelcheck` command line:

    <!-- trace: specs/x_broken.ha [extra args] -->   the full text report of
    ...                                               `modelcheck verify SPEC`
    <!-- /trace -->                                   in a fenced code block

    <!-- verdict: specs/x.ha -->...<!-- /verdict -->  inline, for the table:
                                                      "VIOLATED `inv`, 6 steps"
                                                      or "HOLDS, 53,712 states"

    <!-- stats: specs/x.ha -->...<!-- /stats -->      inline, for the prose:
                                                      verdict, states, transitions,
                                                      depth, rounded seconds

A violated liveness property (`eventually`, `always eventually`, `leads_to`) has a
lasso for counterexample: a stem (trace.steps) and a cycle that repeats forever
(trace.cycle; empty when the last state has no step left, "stuck"). Its verdict
reads "VIOLATED `prop` (liveness), 12 steps + 6-step cycle" (or "..., 3 steps then
stuck"); a violated `always P` property has a finite trace and reads like an
invariant. A HOLDS stats line lists the properties after the invariants.

Extra arguments after the spec path (e.g. `--const N=2`) are passed on to
`modelcheck verify`. Each distinct (spec, args) is run once per invocation,
with `--trace-out` so that one run gives both the text report and the JSON
result (docs/json-format.md).

Usage (from anywhere; paths are relative to the repository root):

    python3 tools/gen_gallery.py                 # rewrite docs/gallery.md
    python3 tools/gen_gallery.py --check         # exit 1 if the doc is stale
    python3 tools/gen_gallery.py specs/x_broken.ha ...   # only these specs' markers

Timings vary from machine to machine and run to run: they are rounded when
written, and ignored when comparing (`--check`, and when deciding whether the
file needs rewriting; `--refresh-timings` rewrites it anyway). Everything
else modelcheck reports is deterministic.

Exit codes: 0 fine; 1 the doc is stale (--check) or a spec gave an unexpected
verdict (a *_broken spec that holds, a *_fixed spec that does not) or a
gallery spec has no marker; 2 usage or run errors (bad marker, modelcheck
failed). Standard library only.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "gallery.md"

KINDS = ("trace", "verdict", "stats")
# An opening marker, its content, and the matching closing marker. Content is
# everything in between (for trace markers, newlines included).
MARKER_RE = re.compile(
    r"<!--\s*(?P<kind>trace|verdict|stats):\s*(?P<args>.*?)\s*-->"
    r"(?P<body>.*?)"
    r"<!--\s*/(?P=kind)\s*-->",
    re.DOTALL)
ANY_MARKER_RE = re.compile(r"<!--\s*(/?)\s*(trace|verdict|stats)\b")

# Timing fields, as modelcheck prints them and as this script writes them.
RESULT_TIMING_RE = re.compile(r"· (?P<secs>[0-9.]+) s · (?P<rate>[0-9,]+) states/s")
TIMING_NORMALISERS = [
    (RESULT_TIMING_RE, "· <seconds> s · <rate> states/s"),
    (re.compile(r"\b(?:about|under) [0-9.,]+ s\b"), "<about seconds>"),
]


class GalleryError(Exception):
    """A problem that stops generation (exit code 2)."""


@dataclass(frozen=True)
class Marker:
    kind: str
    spec: str                 # path relative to the repository root, as written
    extra: tuple[str, ...]    # extra `modelcheck verify` arguments
    start: int                # span of the whole marker (opening to closing) in the text
    end: int
    body_start: int
    body_end: int

    @property
    def key(self) -> tuple[str, ...]:
        return (self.spec, *self.extra)


def parse_markers(text: str) -> list[Marker]:
    """Every marker in `text`, in order. Raises GalleryError on a malformed one
    (unclosed, unknown kind nested, or without a spec path)."""
    markers = []
    for m in MARKER_RE.finditer(text):
        try:
            args = shlex.split(m.group("args"))
        except ValueError as e:
            raise GalleryError(f"bad marker arguments {m.group('args')!r}: {e}") from None
        if not args or not args[0].endswith(".ha"):
            line = text.count("\n", 0, m.start()) + 1
            raise GalleryError(f"line {line}: marker '{m.group('kind')}' needs a spec path, got {m.group('args')!r}")
        if ANY_MARKER_RE.search(m.group("body")):
            line = text.count("\n", 0, m.start()) + 1
            raise GalleryError(f"line {line}: marker '{m.group('kind')}' is not closed before the next marker")
        markers.append(Marker(m.group("kind"), args[0], tuple(args[1:]), m.start(), m.end(),
                              m.start("body"), m.end("body")))
    # Every opening and closing comment must belong to a well-formed marker.
    covered = [(mk.start, mk.end) for mk in markers]
    for m in ANY_MARKER_RE.finditer(text):
        if not any(s <= m.start() < e for s, e in covered):
            line = text.count("\n", 0, m.start()) + 1
            raise GalleryError(f"line {line}: unmatched marker comment {text[m.start():m.start() + 40]!r}")
    return markers


# ---------------------------------------------------------------------------
# Running modelcheck


@dataclass
class Run:
    argv: list[str]        # as shown to the reader: modelcheck verify SPEC ...
    exit_code: int
    text: str              # the text report (stdout)
    result: dict           # the JSON result (--trace-out)


def modelcheck_command(explicit: str | None) -> list[str]:
    if explicit:
        return shlex.split(explicit)
    exe = shutil.which("modelcheck")
    if exe:
        return [exe]
    return [sys.executable, "-m", "modelcheck"]


def run_spec(cmd: list[str], spec: str, extra: tuple[str, ...]) -> Run:
    if not (ROOT / spec).is_file():
        raise GalleryError(f"{spec}: no such spec")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        argv = [*cmd, "verify", spec, *extra, "--trace-out", str(out)]
        print(f"gen_gallery: modelcheck verify {shlex.join([spec, *extra])} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            raise GalleryError(f"modelcheck verify {spec} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        try:
            result = json.loads(out.read_text())
        except (OSError, ValueError) as e:
            raise GalleryError(f"modelcheck verify {spec}: no JSON result ({e})") from None
    return Run(["modelcheck", "verify", spec, *extra], proc.returncode, proc.stdout, result)


# ---------------------------------------------------------------------------
# Rendering


def round_rate(rate: int) -> int:
    """Two significant figures: 11,759 -> 12,000."""
    if rate < 100:
        return rate
    digits = len(str(rate))
    return int(round(rate, -(digits - 2)))


def round_seconds(secs: float) -> str:
    """Two significant figures, for the Result line: 0.17, 4.7, 16."""
    if secs >= 10:
        return str(int(round(secs)))
    if secs < 0.01:
        return "0.01"
    return f"{float(f'{secs:.2g}'):g}"


def about_seconds(secs: float) -> str:
    """Prose: 'under 1 s', 'about 5 s', 'about 40 s'."""
    if secs < 1:
        return "under 1 s"
    if secs < 10:
        return f"about {round(secs)} s"
    if secs < 60:
        return f"about {int(5 * round(secs / 5))} s"
    return f"about {int(10 * round(secs / 10))} s"


def round_result_timing(text: str) -> str:
    def repl(m: re.Match) -> str:
        secs = float(m.group("secs"))
        rate = int(m.group("rate").replace(",", ""))
        return f"· {round_seconds(secs)} s · {round_rate(rate):,} states/s"
    return RESULT_TIMING_RE.sub(repl, text)


def render_trace(run: Run) -> str:
    body = round_result_timing(run.text.rstrip("\n"))
    # A line of ``` inside the output would end the fence early; use a longer one.
    fence = "```"
    while fence in body:
        fence += "`"
    return f"\n{fence}text\n$ {shlex.join(run.argv)}\n{body}\n{fence}\n"


def steps_of(result: dict) -> int:
    return len((result.get("trace") or {}).get("steps") or [])


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def violated_name(result: dict) -> str:
    """`name` (or the violation kind), with the failing `forall` binding if any."""
    v = result.get("violation") or {}
    if not v.get("name"):
        return f"({v.get('kind', '?')})"
    inst = v.get("instance") or {}
    binding = ", ".join(f"{k} = {val if isinstance(val, str) else json.dumps(val)}"
                        for k, val in inst.items())
    return f"`{v['name']}`" + (f" for {binding}" if binding else "")


def lasso_cycle(result: dict) -> list | None:
    """The repeating part of a liveness counterexample ([] = stuck), or None
    when the trace is finite (invariants, asserts, `always P` properties)."""
    v = result.get("violation") or {}
    trace = result.get("trace") or {}
    if v.get("kind") != "property" or trace.get("cycle") is None:
        return None
    return trace["cycle"]


def trace_length(result: dict) -> str:
    """'6 steps'; for a lasso '12 steps + 6-step cycle' or '12 steps then stuck'."""
    n = plural(steps_of(result), "step")
    cycle = lasso_cycle(result)
    if cycle is None:
        return n
    return f"{n} + {len(cycle)}-step cycle" if cycle else f"{n} then stuck"


def render_verdict(run: Run) -> str:
    r = run.result
    st = r["stats"]
    if r["verdict"] == "violated":
        name = violated_name(r)
        if lasso_cycle(r) is not None:
            return f"VIOLATED {name} (liveness), {trace_length(r)}"
        return f"VIOLATED {name}, {trace_length(r)}"
    if r["verdict"] == "holds":
        return f"HOLDS, {st['distinct_states']:,} states"
    return f"{r['verdict'].upper()} ({r.get('stop_reason')})"


def render_stats(run: Run) -> str:
    r = run.result
    st = r["stats"]
    tail = (f"{st['distinct_states']:,} distinct states, {st['transitions']:,} transitions, "
            f"depth {st['depth']}, {about_seconds(st['seconds'])}")
    if r["verdict"] == "violated":
        v = r.get("violation") or {}
        name = violated_name(r) if v.get("name") else f"`{v.get('kind')}`"
        if lasso_cycle(r) is not None:
            return f"**VIOLATED** ({name}, liveness) after {trace_length(r)}: {tail}"
        return f"**VIOLATED** ({name}) after {steps_of(r)} steps: {tail}"
    if r["verdict"] == "holds":
        checked = ", ".join(f"`{i}`" for i in r.get("invariants") or [])
        props = r.get("properties") or []
        if props:
            names = ", ".join(f"`{p}`" for p in props)
            word = "property" if len(props) == 1 else "properties"
            checked = f"{checked}; {word} {names}" if checked else f"{word} {names}"
        return f"**HOLDS** ({checked}): {tail}"
    return f"**{r['verdict'].upper()}** ({r.get('stop_reason')}): {tail}"


RENDER = {"trace": render_trace, "verdict": render_verdict, "stats": render_stats}


def regenerate(text: str, runs: dict[tuple[str, ...], Run], only: set[str] | None) -> str:
    out, pos = [], 0
    for mk in parse_markers(text):
        if only is not None and mk.spec not in only:
            continue
        out.append(text[pos:mk.body_start])
        out.append(RENDER[mk.kind](runs[mk.key]))
        pos = mk.body_end
    out.append(text[pos:])
    return "".join(out)


def normalise_timings(text: str) -> str:
    for rx, repl in TIMING_NORMALISERS:
        text = rx.sub(repl, text)
    return text


# ---------------------------------------------------------------------------
# Consistency checks


def gallery_specs() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pattern in ("specs/*_broken.ha", "specs/*_fixed.ha")
                  for p in ROOT.glob(pattern))


def coverage_problems(markers: list[Marker]) -> list[str]:
    """Gallery specs (specs/*_broken.ha, *_fixed.ha) the doc has no marker for."""
    problems = []
    traced = {mk.spec for mk in markers if mk.kind == "trace"}
    counted = {mk.spec for mk in markers if mk.kind in ("stats", "verdict")}
    for spec in gallery_specs():
        if spec.endswith("_broken.ha") and spec not in traced:
            problems.append(f"{spec}: no <!-- trace: {spec} --> marker in {DOC.relative_to(ROOT)}")
        if spec.endswith("_fixed.ha") and spec not in counted:
            problems.append(f"{spec}: no <!-- stats: {spec} --> marker in {DOC.relative_to(ROOT)}")
    return problems


def verdict_problems(runs: dict[tuple[str, ...], Run]) -> list[str]:
    """A *_broken spec must be violated and a *_fixed spec must hold."""
    problems = []
    for key, run in runs.items():
        spec, verdict = key[0], run.result.get("verdict")
        if spec.endswith("_broken.ha") and verdict != "violated":
            problems.append(f"{spec}: expected VIOLATED, got {verdict!r}")
        if spec.endswith("_fixed.ha") and verdict != "holds":
            problems.append(f"{spec}: expected HOLDS, got {verdict!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("specs", nargs="*", help="only regenerate (or check) the markers of these specs")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the doc differs from what the specs give (timings ignored)")
    ap.add_argument("--doc", default=str(DOC), help="the markdown file (default: docs/gallery.md)")
    ap.add_argument("--modelcheck", help="command to run instead of the installed `modelcheck`")
    ap.add_argument("--refresh-timings", action="store_true",
                    help="rewrite the doc even if only timings changed")
    ap.add_argument("--list", action="store_true", help="list the markers and exit")
    args = ap.parse_args(argv)

    doc = Path(args.doc)
    try:
        text = doc.read_text(encoding="utf-8")
        markers = parse_markers(text)
        if args.list:
            for mk in markers:
                line = text.count("\n", 0, mk.start) + 1
                print(f"{doc}:{line}: {mk.kind}: {shlex.join(mk.key)}")
            return 0
        only = None
        if args.specs:
            only = {os.path.relpath(Path(s).resolve(), ROOT) for s in args.specs}
            unknown = only - {mk.spec for mk in markers}
            if unknown:
                raise GalleryError(f"no marker for {', '.join(sorted(unknown))}")
        cmd = modelcheck_command(args.modelcheck)
        runs: dict[tuple[str, ...], Run] = {}
        for mk in markers:        # in document order, one at a time (the machine is shared)
            if (only is None or mk.spec in only) and mk.key not in runs:
                runs[mk.key] = run_spec(cmd, mk.spec, mk.extra)
        new = regenerate(text, runs, only)
    except GalleryError as e:
        print(f"gen_gallery: error: {e}", file=sys.stderr)
        return 2

    problems = verdict_problems(runs) + (coverage_problems(markers) if only is None else [])
    for p in problems:
        print(f"gen_gallery: {p}", file=sys.stderr)

    stale = normalise_timings(new) != normalise_timings(text)
    if args.check:
        if stale:
            diff = difflib.unified_diff(normalise_timings(text).splitlines(True),
                                        normalise_timings(new).splitlines(True),
                                        f"{doc} (on disk)", f"{doc} (from the specs)")
            sys.stderr.writelines(diff)
            print(f"gen_gallery: {doc} is stale: run python3 tools/gen_gallery.py", file=sys.stderr)
            return 1
        print(f"gen_gallery: {doc} is up to date ({len(runs)} runs)", file=sys.stderr)
        return 1 if problems else 0

    if stale or (args.refresh_timings and new != text):
        doc.write_text(new, encoding="utf-8")
        print(f"gen_gallery: wrote {doc}", file=sys.stderr)
    elif new != text:
        print(f"gen_gallery: {doc} unchanged: only timings differ (--refresh-timings rewrites them)",
              file=sys.stderr)
    else:
        print(f"gen_gallery: {doc} is up to date", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
