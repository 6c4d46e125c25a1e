"""`modelcheck verify a.ha b.ha folder/`: many specs, one line each and a summary.

Why apart from cli.py: a single spec prints its full report (cli.verify), while a
batch is what CI runs over a whole folder, where one line per spec is what a log
reader wants and the exit code must rank the outcomes. Each spec goes through the
same Python API (api.py) as a single one; only the printing differs.

The exit code is the worst of the specs' by this rank: 2 (a spec is wrong: nothing
was checked), then 1 (a counterexample), then 3 (a search stopped early: not
known), then 0. Ctrl-C or SIGTERM stops the batch after the spec it interrupted.

With --format json the lines give way to one document (docs/json-format.md,
schemas/batch-v1.schema.json): each spec's own `verify --format json` document, in
order, and the summary's counts with the exit code, for a CI step that reads them.
"""
from __future__ import annotations

import json
import os

import click

from . import api
from .cli import EXIT_HOLDS, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_VIOLATED, _diagnostics_json
from .lang.diagnostics import SpecError, render_all
from .report.text import summary_line

# worst first: the batch exits with the first of these that any spec had
RANK = (EXIT_USAGE, EXIT_VIOLATED, EXIT_INCOMPLETE, EXIT_HOLDS)
_EXIT = {"holds": EXIT_HOLDS, "violated": EXIT_VIOLATED, "incomplete": EXIT_INCOMPLETE}


# A folder is searched through at most this many entries: `verify /` is a typo, not
# a request to read the whole file system.
MAX_ENTRIES = 100_000


def expand(paths: tuple[str, ...]) -> list[str]:
    """The files named, and each folder's .ha files (recursively, sorted, symbolic
    links not followed, unreadable folders skipped); a folder without any, or too
    large to search, is a usage error. A missing file stays in: its line says so."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            out += _specs_in(path)
        else:
            out.append(path)
    return out


def _specs_in(folder: str) -> list[str]:
    found, seen = [], 0
    for root, dirs, files in os.walk(folder, onerror=lambda err: None):
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            raise click.UsageError(f"the folder {folder} holds more than {MAX_ENTRIES:,} files and folders: "
                                   "name the specs, or a smaller folder")
        dirs.sort()
        found += [os.path.join(root, f) for f in files if f.endswith(".ha") and os.path.isfile(os.path.join(root, f))]
    if not found:
        raise click.UsageError(f"the folder {folder} holds no .ha file")
    return sorted(found)


def verify_many(paths: tuple[str, ...], consts: dict[str, int], search: dict, memory_limit: int | None,
                progress=None, fmt: str = "text") -> int:
    """Verify each spec with the same options; print one line each, then the summary
    (fmt "text"), or the combined document (fmt "json"). Returns the exit code."""
    if search.get("scenario") is not None and search.get("no_faults"):
        raise click.UsageError("--scenario and --no-faults cannot be used together")
    files = expand(paths)
    counts = {"holds": 0, "violated": 0, "incomplete": 0, "error": 0}
    codes: set[int] = set()
    docs: list[dict] = []  # fmt "json": each spec's result document
    done = 0
    for path in files:
        if progress is not None:
            progress.prefix = f"{path}: "
        try:
            v = api.verify(path, consts=consts, **search, memory_limit=memory_limit, on_progress=progress)
        except SpecError as err:
            if progress is not None:
                progress.clear()
            click.echo(render_all(err.diagnostics, err.source), err=True)
            if fmt == "json":
                docs.append(_diagnostics_json(err, path))
            else:
                click.echo(error_line(path, err))
            counts["error"] += 1
            codes.add(EXIT_USAGE)
            done += 1
            continue
        if progress is not None:
            progress.clear()
        if fmt == "json":
            docs.append(v.json())
        else:
            click.echo(spec_line(path, v))
        counts[v.verdict] += 1
        codes.add(_EXIT[v.verdict])
        done += 1
        if v.stop_reason == "interrupted":
            break
    code = next(code for code in RANK if code in codes) if codes else EXIT_HOLDS
    if fmt == "json":
        summary = {"specs": len(files), **counts, "not_run": len(files) - done, "exit_code": code}
        click.echo(json.dumps({"format": "modelcheck-batch", "version": 1, "results": docs, "summary": summary},
                              indent=2))
        return code
    parts = [f"{len(files)} spec{'s' if len(files) != 1 else ''}", f"{counts['holds']} hold",
             f"{counts['violated']} violated", f"{counts['incomplete']} incomplete",
             f"{counts['error']} error{'s' if counts['error'] != 1 else ''}"]
    if done < len(files):
        parts.append(f"{len(files) - done} not run (interrupted)")
    click.echo("Summary: " + " · ".join(parts))
    return code


def spec_line(path: str, v: api.Verification) -> str:
    """`path: VIOLATED single_primary (3 steps) · 10 distinct states · ...`: the
    summary line of the spec's report, naming what was violated."""
    rest = summary_line(v.result).removeprefix("Result: ")
    if v.violation is None:
        return f"{path}: {rest}"
    verdict, _, counts = rest.partition(" · ")
    what = v.violation.name or {"assert": "assert", "runtime_error": "run-time error"}.get(v.violation.kind,
                                                                                        v.violation.kind)
    steps = f"{len(v.trace)} step{'s' if len(v.trace) != 1 else ''}"
    if v.cycle is not None:
        steps += f", then a cycle of {len(v.cycle)}" if v.cycle else ", then stuck"
    return f"{path}: {verdict} {what} ({steps}) · {counts}"


def error_line(path: str, err: SpecError) -> str:
    """`path: ERROR E101 at 3:20: unknown name 'b'`, the first of the spec's errors."""
    d = err.diagnostics[0]
    where = f" at {d.span.line}:{d.span.column}" if d.span.line else ""
    more = f" (and {len(err.diagnostics) - 1} more)" if len(err.diagnostics) > 1 else ""
    code = f" {d.code}" if d.code else ""
    return f"{path}: ERROR{code}{where}: {d.message}{more}"
