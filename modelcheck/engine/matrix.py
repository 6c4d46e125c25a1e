"""The resilience matrix: every invariant and property under every fault scenario.

Rows are fault sets: `no-faults`, `faults` (the spec's faults block, when it has
one) and each `scenario` block, in spec order. Columns are the invariants, then the
properties, in declaration order. Each row is an independent exhaustive run in
collect-all mode, so one violated invariant does not hide the others; parsing,
checking and compilation are shared (`Model.with_faults`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .explorer import Options, explore
from .result import Result, Stats
from .model import Model

NO_FAULTS, FAULTS_BLOCK = "no-faults", "faults"
ERRORS = "(spec errors)"  # the column for asserts and run-time errors, shown only when one happens


@dataclass
class Cell:
    verdict: str  # holds | violated | incomplete
    steps: int | None = None  # counterexample length (stem, for a lasso)
    cycle: int | None = None  # lasso: length of the repeating part (0 = stuck)

    def text(self) -> str:
        if self.verdict == "holds":
            return "holds"
        if self.verdict == "incomplete":
            return "incomplete"
        if self.cycle is None:
            return f"VIOLATED ({self.steps} steps)"
        if self.cycle == 0:
            return f"VIOLATED ({self.steps} steps, then stuck)"
        return f"VIOLATED ({self.steps} + {self.cycle}-step cycle)"


@dataclass
class Row:
    scenario: str
    faults: str
    cells: dict[str, Cell]
    stats: Stats
    stop_reason: str | None = None
    pruning: object = None  # engine.result.Pruning: what the row's search left out
    # per measure of the spec: (name, min, max, complete) over the row's states
    measures: list = field(default_factory=list)

    def measure_text(self, name: str) -> str:
        """A measure's cell: "min..max", "so far" when the row stopped early, "-"
        when the row was not run."""
        for n, lo, hi, complete in self.measures:
            if n == name:
                if lo is None:
                    return "-"
                return f"{lo}..{hi}" + ("" if complete else " so far")
        return "-"


@dataclass
class Matrix:
    columns: list[tuple[str, str]]  # (name, "invariant" | "property" | "errors")
    rows: list[Row] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)  # the spec's measure names: a range per row

    @property
    def complete(self) -> bool:
        return all(r.stop_reason is None for r in self.rows)

    @property
    def violated(self) -> bool:
        return any(c.verdict == "violated" for r in self.rows for c in r.cells.values())


def scenarios_of(model: Model) -> list[tuple[str, list]]:
    """Every row the matrix can have: (name, fault lines)."""
    c = model.checked
    rows = [(NO_FAULTS, [])]
    if c.spec.faults is not None:
        rows.append((FAULTS_BLOCK, c.faults))
    rows += list(c.scenarios.items())
    return rows


def run_matrix(model: Model, rows: list[tuple[str, list]], options: Options,
               on_row: Callable[[str], None] | None = None, jobs: int = 1) -> Matrix:
    """Run every row. With `jobs` > 1 rows run in that many worker processes (rows
    are independent explorations); the table is the same, in the same order, as
    with one (only the seconds differ)."""
    columns = [(i.name, "invariant") for i in model.invariants] + [(p.name, "property") for p in model.properties]
    matrix = Matrix(columns, measures=[m.name for m in getattr(model, "measures", [])])
    if jobs > 1 and len(rows) > 1 and _can_fork():
        got = _run_parallel(model, rows, options, min(jobs, len(rows)), on_row)
        matrix.rows = [r if r is not None else _not_run(model, *rows[i], columns) for i, r in enumerate(got)]
    else:
        for name, faults in rows:
            if on_row is not None:
                on_row(name)
            row = _run_row(model, name, faults, options, columns)
            matrix.rows.append(row)
            if row.stop_reason in ("interrupted", "memory"):
                break  # Ctrl-C, SIGTERM or memory stop the table, not only the row
    # rows not run (the table was interrupted) are shown, incomplete
    for name, faults in rows[len(matrix.rows):]:
        matrix.rows.append(_not_run(model, name, faults, columns))
    if any(ERRORS in r.cells for r in matrix.rows):
        matrix.columns.append((ERRORS, "errors"))
        for r in matrix.rows:
            r.cells.setdefault(ERRORS, Cell("incomplete" if r.stop_reason else "holds"))
    return matrix


def _run_row(model: Model, name: str, faults: list, options: Options, columns: list) -> Row:
    from ..report.text import fault_summary

    m = model.with_faults(faults)
    result = explore(m, Options(max_states=options.max_states, max_depth=options.max_depth,
                                timeout=options.timeout, on_progress=options.on_progress, collect_all=True,
                                skip_partitions=options.skip_partitions,
                                drop_dead_messages=options.drop_dead_messages))
    cells = {col: _cell(result, col) for col, _ in columns}
    if "" in result.findings:
        cells[ERRORS] = _cell(result, "")
    measures = [(r.name, r.min.value if r.min else None, r.max.value if r.max else None, r.complete)
                for r in result.measures]
    return Row(name, fault_summary(m), cells, result.stats, result.stop_reason, result.pruning, measures)


def _not_run(model: Model, name: str, faults: list, columns: list) -> Row:
    from ..report.text import fault_summary
    return Row(name, fault_summary(model.with_faults(faults)), {col: Cell("incomplete") for col, _ in columns},
               Stats(), "interrupted")


def _can_fork() -> bool:
    import multiprocessing
    return "fork" in multiprocessing.get_all_start_methods()


# The work of a parallel run, set before the workers fork so that they inherit the
# compiled model instead of receiving it pickled (generated code does not pickle).
_WORK: tuple | None = None


_IN_ROW = False  # in a worker: True while a row is explored (then SIGUSR1 interrupts it)


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the parent, die at once on Pool.terminate()'s SIGTERM,
    and take SIGUSR1 from the parent as "stop this row and report what it did"."""
    import signal

    def stop_row(signum, frame):  # noqa: ARG001
        if _IN_ROW:
            raise KeyboardInterrupt()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, stop_row)


def _row_in_worker(i: int) -> Row | None:
    global _IN_ROW
    model, rows, options, columns, stop = _WORK
    if stop.is_set():
        return None  # the table was interrupted before this row started
    name, faults = rows[i]
    _IN_ROW = True
    try:
        return _run_row(model, name, faults, options, columns)
    finally:
        _IN_ROW = False


def _run_parallel(model: Model, rows: list, options: Options, jobs: int, on_row) -> list[Row]:
    """Rows in worker processes, in order. On Ctrl-C or SIGTERM the parent asks each
    busy worker to stop its row (SIGUSR1: the row comes back incomplete, with what it
    explored), rows not started are not run, and the table keeps every row done."""
    import multiprocessing
    import os
    import signal

    global _WORK
    columns = [(i.name, "invariant") for i in model.invariants] + [(p.name, "property") for p in model.properties]
    quiet = Options(max_states=options.max_states, max_depth=options.max_depth, timeout=options.timeout,
                    memory_limit=options.memory_limit, skip_partitions=options.skip_partitions,
                    drop_dead_messages=options.drop_dead_messages)
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    _WORK = (model, rows, quiet, columns, stop)
    out: list[Row] = []
    try:
        with ctx.Pool(jobs, initializer=_worker_signals) as pool:
            results = pool.imap(_row_in_worker, range(len(rows)))
            try:
                for i, row in enumerate(results):
                    out.append(row)
                    if on_row is not None and i + 1 < len(rows):
                        on_row(f"{len(out)}/{len(rows)} rows done, {rows[i + 1][0]}")
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM
                stop.set()
                for proc in list(getattr(pool, "_pool", ())):
                    try:
                        os.kill(proc.pid, signal.SIGUSR1)
                    except OSError:
                        pass
                try:  # the rows in progress return within moments, with their counts
                    while len(out) < len(rows):
                        out.append(results.next(timeout=10))
                except (StopIteration, multiprocessing.TimeoutError, KeyboardInterrupt):
                    pass
                pool.terminate()
    finally:
        _WORK = None
    return out  # a row not started is None (run_matrix shows it as not run)


def _cell(result: Result, name: str) -> Cell:
    f = result.findings.get(name)
    if f is not None:
        return Cell("violated", len(f.trace), None if f.cycle is None else len(f.cycle))
    if result.verdict == "incomplete":
        return Cell("incomplete")
    return Cell("holds")


# ---- rendering --------------------------------------------------------------------------

def _table(matrix: Matrix) -> tuple[list[str], list[list[str]]]:
    header = (["scenario", "faults"] + [name for name, _ in matrix.columns] + list(matrix.measures)
              + ["states", "seconds"])
    body = []
    for r in matrix.rows:
        body.append([r.scenario, r.faults] + [r.cells[name].text() for name, _ in matrix.columns]
                    + [r.measure_text(name) for name in matrix.measures]
                    + [f"{r.stats.distinct_states:,}", f"{r.stats.seconds:.1f}"])
    return header, body


def pruning_json(pruning):
    from ..report.text import pruning_json as as_json
    return as_json(pruning)


def render_text(matrix: Matrix, spec_path: str, spec_name: str) -> str:
    header, body = _table(matrix)
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    lines = [f"modelcheck matrix: {spec_path} (spec {spec_name})", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join(("-" * w) for w in widths))
    for row in body:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    lines.append("")
    inv = [n for n, k in matrix.columns if k == "invariant"]
    prop = [n for n, k in matrix.columns if k == "property"]
    if inv:
        lines.append(f"invariants (safety): {', '.join(inv)}")
    if prop:
        lines.append(f"properties (liveness, under weak fairness; faults eventually stop): {', '.join(prop)}")
    if matrix.measures:
        lines.append(f"measures (min..max over each row's reachable states; witnesses: modelcheck verify "
                     f"--measure-trace NAME): {', '.join(matrix.measures)}")
    skipped = [r.scenario for r in matrix.rows if r.pruning is not None and r.pruning.skipped_faults]
    if skipped:
        lines.append(f"pruning: cut and heal lines not explored in {', '.join(skipped)} (no time block: a cut "
                     "link only delays messages; --keep-partitions explores them)")
    dead = [r.scenario for r in matrix.rows if r.pruning is not None and r.pruning.dead_rules]
    if dead:
        lines.append(f"pruning: dead messages dropped in {', '.join(dead)} (--keep-dead-messages keeps them)")
    bad = [(r.scenario, n) for r in matrix.rows for n, _ in matrix.columns if r.cells[n].verdict == "violated"]
    if bad:
        scenario, name = bad[0]
        kind = dict(matrix.columns)[name]
        sel = f"--{kind} {name}" if kind in ("invariant", "property") else ""
        where = "--no-faults" if scenario == NO_FAULTS else ("" if scenario == FAULTS_BLOCK else f"--scenario {scenario}")
        lines.append(f"see a counterexample: modelcheck verify {spec_path} {where} {sel}".replace("  ", " ").rstrip())
    return "\n".join(lines)


def render_markdown(matrix: Matrix) -> str:
    header, body = _table(matrix)

    def esc(v: str) -> str:
        return v.replace("|", "\\|")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join(" --- " for _ in header) + "|"]
    for row in body:
        lines.append("| " + " | ".join(esc(v) for v in row) + " |")
    return "\n".join(lines)


def render_json(matrix: Matrix, spec_path: str, spec_name: str, options: dict) -> dict:
    return {
        "format": "modelcheck-matrix",
        "version": 1,
        "spec": {"name": spec_name, "file": spec_path},
        "options": options,
        "columns": [{"name": n, "kind": k} for n, k in matrix.columns],
        "rows": [{
            "scenario": r.scenario,
            "faults": r.faults,
            "complete": r.stop_reason is None,
            "stop_reason": r.stop_reason,
            "cells": {n: {"verdict": c.verdict, "steps": c.steps, "cycle": c.cycle} for n, c in r.cells.items()},
            "stats": {"distinct_states": r.stats.distinct_states, "transitions": r.stats.transitions,
                      "depth": r.stats.depth, "seconds": round(r.stats.seconds, 3)},
            "pruning": pruning_json(r.pruning),
            **({"measures": {n: {"min": lo, "max": hi, "complete": complete} for n, lo, hi, complete in r.measures}}
               if matrix.measures else {}),
        } for r in matrix.rows],
    }
