"""The `modelcheck` command line.

Exit codes: 0 every checked property holds; 1 a counterexample was found;
2 the spec or the command is wrong; 3 exploration stopped early (a bound, the
timeout, or Ctrl-C). An internal failure of modelcheck itself prints a short
message (never a traceback) and exits 70. `verify` on several specs exits with
the worst of theirs (batch.py). The work itself is the Python API's (api.py):
commands parse flags, call it and print.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys

import click

from . import __version__
from . import api
from . import limits, style
from .lang.checker import check as check_spec
from .lang.diagnostics import Source, SpecError, render_all
from .engine.explorer import Options, explore
from .engine.model import build
from .lang.parser import load, parse
from .report.text import render_json, render_text, stop_text, summary_line
from .lang.values import int_text

EXIT_HOLDS, EXIT_VIOLATED, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 70
# simulate's stops that cut its runs short (exit 3); a --timeout is how a simulation ends
CUT_SHORT = ("interrupted", "memory", "worker-lost")


# A const's value on the command line: ASCII decimal digits only (int() would also
# take '1_0' and other scripts' digits, which a spec's own literals do not allow).
_INTEGER = re.compile(r"[+-]?[0-9]+", flags=re.ASCII)
_MAX_DIGITS = 1000  # far past any bound a finite model can use; the checker bounds consts further


def _parse_consts(values: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise click.BadParameter(f"'{item}' is not NAME=VALUE (for example --const N=3)", param_hint="--const")
        if not _INTEGER.fullmatch(value):
            raise click.BadParameter(f"'{value}' is not an integer written in decimal digits 0-9 (in --const {item})",
                                     param_hint="--const")
        if len(value.lstrip("+-")) > _MAX_DIGITS:
            raise click.BadParameter(f"the value of {name} has {len(value.lstrip('+-')):,} digits: far too large "
                                     "to bound a finite model", param_hint="--const")
        out[name] = int(value)
    return out


class _Size(click.ParamType):
    """--memory-limit: '4G', '512M', '75%' (of the machine's memory) or 'none'."""

    name = "SIZE"

    def __init__(self, allow_none: bool = True):
        self.allow_none = allow_none

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        if value == "none":
            if not self.allow_none:
                self.fail("give a size: 4G, 512M or 25% (of the machine's memory)", param, ctx)
            return value
        try:
            size = limits.parse_size(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        return "none" if size is None else size


def _memory_limit(choice) -> int | None:
    """The --memory-limit in bytes ("none": None): the user's, or by default a share
    of the memory this process may use (the machine's, its cgroup's or ulimit -v's)."""
    if choice is None:
        return limits.default_memory_limit()
    return None if choice == "none" else choice


_MEMORY_HELP = ("Stop (exit 3, with the summary of what was explored) when modelcheck's memory passes SIZE: "
                "4G, 512M, 75% of the machine's, or none. Default: 80% of the machine's memory (or of ulimit -v).")


def _diagnostics_json(err: SpecError, path: str) -> dict:
    return {"format": "modelcheck-result", "version": 1, "spec": {"file": path}, "verdict": "error",
            "diagnostics": [{"code": d.code, "severity": d.severity, "message": d.message, "hint": d.hint,
                             "line": d.span.line, "column": d.span.column,
                             "end_line": d.span.end_line, "end_column": d.span.end_column}
                            for d in err.diagnostics]}


def _fail(err: SpecError, source: Source | None, path: str, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(_diagnostics_json(err, path), indent=2))
    click.echo(render_all(err.diagnostics, source or Source(path, ""), style.painter(sys.stderr)), err=True)
    n = len(err.diagnostics)
    if n > 1:
        click.echo(f"\n{n} errors", err=True)
    sys.exit(EXIT_USAGE)


def _write_file(path: str, text: str, what: str = "the result") -> bool:
    """Write an output file (--trace-out, --html) and say where, on stderr. Called after
    the verdict is printed: a failure is reported (False) and turns the exit code into
    2, but loses nothing."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"modelcheck: wrote {what} to {path}", err=True)
        return True
    except OSError as err:
        click.echo(f"error: cannot write {path}: {err.strerror or err}\n"
                   "  = hint: check that the folder exists and is writable; the result above is complete", err=True)
        return False


def _trace_file(path: str, result, model, source, options: dict, doc: dict | None = None) -> tuple[str, str, str]:
    """--trace-out FILE: ITF when FILE ends in .itf.json (report/itf.py), OTLP/JSON when
    it ends in .otlp.json (report/otlp.py), else the JSON result (`doc`, when already
    rendered). (path, text, what) for _write_file."""
    if path.endswith(".itf.json"):
        from .report.itf import render_itf
        return path, json.dumps(render_itf(result, model, source, options), indent=2) + "\n", "the ITF trace"
    if path.endswith(".otlp.json"):
        from .report.otlp import render_otlp
        text = json.dumps(render_otlp(result, model, source, options), indent=2) + "\n"
        return path, text, "the OpenTelemetry trace"
    doc = doc if doc is not None else render_json(result, model, source, options)
    return path, json.dumps(doc, indent=2) + "\n", "the JSON result"


def _check_outputs(inputs: list[str], outputs: list[tuple[str, str | None]]) -> None:
    """Before any work: every output path can be written, none is an input file, and
    no two outputs share a path (exit 2 otherwise, so a long run is not wasted)."""
    def same(a: str, b: str) -> bool:
        try:
            if os.path.exists(a) and os.path.exists(b):
                return os.path.samefile(a, b)
        except OSError:
            pass
        return os.path.realpath(a) == os.path.realpath(b)

    seen: list[tuple[str, str]] = []
    for option, path in outputs:
        if not path:
            continue
        problem, hint = None, None
        if any(same(path, i) for i in inputs):
            problem, hint = "is an input file; it would be overwritten", "write the output to another file"
        elif any(same(path, p) for _, p in seen):
            other = next(o for o, p in seen if same(path, p))
            problem, hint = f"is also the path given to {other}", "give each output its own file"
        elif os.path.isdir(path):
            problem, hint = "is a folder", "name a file"
        else:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                problem, hint = f"cannot be written: the folder {os.path.dirname(path) or folder} does not exist", \
                    "create the folder first"
            elif not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
                problem, hint = "cannot be written: permission denied", "choose a writable location"
        if problem:
            click.echo(f"error: {option} {path} {problem}\n  = hint: {hint}", err=True)
            sys.exit(EXIT_USAGE)
        seen.append((option, path))


def _load_spec(path: str, consts: dict[str, int], fmt: str) -> api.Spec:
    """Load, parse and check (the Python API's `load`); on a user error print
    diagnostics and exit 2."""
    try:
        return api.load(path, consts)
    except SpecError as err:
        _fail(err, err.source, path, fmt)


def _front_end(path: str, consts: dict[str, int], fmt: str):
    """The source and the checked spec; exits 2 on a user error."""
    spec = _load_spec(path, consts, fmt)
    return spec.source, spec.checked


_scenario_faults = api.scenario_faults


class _ProgressLine:
    """Progress on stderr. On a terminal: one status line, rewritten in place at most
    4 times a second. Elsewhere (a CI log, a file): a plain line now and then, never
    a `\\r` (TLC prints one a minute): every 10 s for the first minute, then every
    minute, so a run of seconds prints nothing and one of hours a line a minute."""

    PLAIN_FIRST, PLAIN_EVERY = 10.0, 60.0

    def __init__(self, terminal: bool = True) -> None:
        self.terminal = terminal
        self.last = 0.0
        self.shown = False
        self.prefix = ""

    def __call__(self, p) -> None:
        rate = p.distinct_states / p.seconds if p.seconds > 0 else 0
        if not self.terminal:
            due = self.last + (self.PLAIN_FIRST if self.last < self.PLAIN_EVERY else self.PLAIN_EVERY)
            if p.seconds < due:
                return
            self.last = p.seconds - p.seconds % self.PLAIN_FIRST if p.seconds < self.PLAIN_EVERY else p.seconds
            sys.stderr.write(f"progress: {self.prefix}{p.seconds:,.0f} s: {p.distinct_states:,} distinct states, "
                             f"{rate:,.0f} states/s, depth {p.depth}, {p.frontier:,} waiting to be explored\n")
            sys.stderr.flush()
            return
        if p.seconds - self.last < 0.25:
            return
        self.last = p.seconds
        sys.stderr.write(f"\r\033[K{self.prefix}{p.distinct_states:,} states · {rate:,.0f} states/s · depth {p.depth}"
                         f" · frontier {p.frontier:,} · {p.seconds:.0f} s")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _progress(quiet: bool) -> _ProgressLine | None:
    """The progress reporter of a search (None with --quiet)."""
    return None if quiet else _ProgressLine(terminal=sys.stderr.isatty())


def _color_option(command):
    """--color auto|always|never (every command; modelcheck/style.py)."""
    def choose(ctx, param, value):
        style.set_mode(value)
        if value == "always":
            ctx.color = True  # click.echo strips escape codes from what is not a terminal otherwise
        return value
    return click.option("--color", type=click.Choice(style.MODES), default="auto", show_default=True,
                        expose_value=False, is_eager=True, callback=choose,
                        help="Colour verdicts and diagnostics: auto (on a terminal, unless NO_COLOR is set), "
                             "always or never.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelcheck")
def cli() -> None:
    """modelcheck: explore every interleaving of a high-availability design and
    print the shortest trace that breaks an invariant."""


def _load_model(spec: str, consts, fmt: str, no_faults: bool, scenario: str | None, invariants, properties):
    """Front end and model for `prove`: consts, the scenario or --no-faults, and
    the selected invariants and properties (the Python API's). Exits on any error."""
    loaded = _load_spec(spec, _parse_consts(consts), fmt)
    if scenario is not None and no_faults:
        raise click.UsageError("--scenario and --no-faults cannot be used together")
    try:
        model = api.build_model(loaded, no_faults=no_faults, scenario=scenario, invariants=invariants,
                                properties=properties)
    except SpecError as err:
        _fail(err, loaded.source, spec, fmt)
    return loaded.source, loaded.checked, model


def _pruning_options(command):
    """--keep-partitions and --keep-dead-messages (verify and matrix)."""
    command = click.option("--keep-dead-messages", is_flag=True,
                           help="Keep messages in flight that z3 proved can never matter again (by default they "
                                "are dropped from the state; docs/language.md, Pruning).")(command)
    return click.option("--keep-partitions", is_flag=True,
                        help="Explore partition, one_way, link, bridge, ring and heal steps even where they cannot "
                             "change an invariant's verdict (no time block, invariants only); by default such runs "
                             "leave them out (docs/language.md, Pruning).")(command)


@cli.command()
@_color_option
@click.argument("specs", metavar="SPEC...", nargs=-1, required=True)
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="Check this invariant (repeatable). Default: every invariant and property.")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check this temporal property (repeatable). With --invariant or --property, only the "
                   "named ones are checked.")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many distinct states (exit 3).")
@click.option("--max-depth", type=click.IntRange(min=0), help="Explore behaviours of at most this many steps.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this many seconds (exit 3).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "itf", "otlp", "mermaid"]), default="text",
              show_default=True, help="text for people, json for tools (docs/json-format.md), itf for the "
                                      "Informal Trace Format of Apalache and Quint, otlp for an OpenTelemetry "
                                      "trace (Jaeger), mermaid for a sequence diagram.")
@click.option("--trace-out", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write the JSON result (with the trace) to FILE; ITF when FILE ends in .itf.json, "
                   "OpenTelemetry (OTLP/JSON) when it ends in .otlp.json.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write a self-contained HTML report (sequence diagram, step table, source) to FILE.")
@click.option("--no-faults", is_flag=True, help="Ignore the faults block.")
@click.option("--scenario", metavar="NAME", help="Use this scenario's faults instead of the faults block.")
@click.option("--symmetry/--no-symmetry", default=True, show_default=True,
              help="Symmetry reduction: explore renamings of interchangeable nodes once. On by default for "
                   "the roles the spec cannot tell apart (invariants only); --no-symmetry explores every state.")
@click.option("--fingerprints", is_flag=True,
              help="Store 64-bit fingerprints of visited states instead of the states (TLC's approach), at the "
                   "collision probability printed in the summary. Saves memory only when the states waiting to be "
                   "explored are few next to those visited (docs/language.md, Fingerprints).")
@click.option("--prune/--no-prune", default=False, show_default=True,
              help="Sleep-set pruning: skip transitions whose target another order of independent steps "
                   "reaches. Same states and verdicts, fewer transitions; the summary counts them.")
@_pruning_options
@click.option("--memory-limit", "memory", type=_Size(), metavar="SIZE", help=_MEMORY_HELP)
@click.option("--fingerprint-memory", type=_Size(allow_none=False), metavar="SIZE",
              help="With --fingerprints: the memory the table of fingerprints may take (4G, 512M, 25%); past it, "
                   "its fingerprints go to a sorted file on disk and the search goes on. Default: a quarter of "
                   "--memory-limit.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Explore on N processes of this machine, each owning a share of the states (docs/language.md, Workers). "
                   "Same counts, verdict and trace as one process; temporal properties and --prune run on one.")
@click.option("--cluster", metavar="ADDRESS", is_flag=False, flag_value="", default=None,
              help="Run the workers on the Ray cluster at ADDRESS (ray start --head prints it; auto: the one started "
                   "on this machine; --cluster alone: $RAY_ADDRESS, else auto), one per CPU unless --workers says. "
                   "Needs pip install 'modelcheck[distributed]' on every machine (docs/language.md, Workers across machines).")
@click.option("--quiet", "-q", is_flag=True, help="Text format: print only the counterexample and the summary line.")
@click.option("--measure-trace", "measure_traces", multiple=True, metavar="NAME",
              help="Text format: also print the witness traces of this measure's minimum and maximum "
                   "(repeatable; --format json always has them).")
def verify(specs, consts, invariants, properties, max_states, max_depth, timeout, fmt, trace_out, html_out, no_faults,
           scenario, symmetry, fingerprints, prune, keep_partitions, keep_dead_messages, memory, fingerprint_memory,
           workers, cluster, quiet, measure_traces):
    """Explore every reachable state of SPEC and check its invariants and properties.

    Several SPECs, or a folder (its .ha files, recursively): one line per spec and a
    summary (--format json: one document with every spec's result and the summary);
    the exit code is the worst of theirs (2, then 1, then 3, then 0)."""
    search = dict(invariants=invariants, properties=properties, scenario=scenario, no_faults=no_faults,
                  symmetry=symmetry, fingerprints=fingerprints, prune=prune, max_states=max_states,
                  max_depth=max_depth, timeout=timeout, keep_partitions=keep_partitions,
                  keep_dead_messages=keep_dead_messages, workers=workers)
    if fingerprint_memory is not None:
        if not fingerprints:
            raise click.UsageError("--fingerprint-memory sizes the table of --fingerprints: add --fingerprints")
        search["fingerprint_memory"] = fingerprint_memory
    if cluster is not None:
        search["cluster"] = cluster or os.environ.get("RAY_ADDRESS") or "auto"
    with _cluster_errors():
        _verify(specs, consts, fmt, trace_out, html_out, scenario, no_faults, memory, quiet, measure_traces, search)


@contextlib.contextmanager
def _cluster_errors():
    """A Ray cluster that cannot run the search (engine/parallel/ray_pool.ClusterError):
    a user's error, with its hint (exit 2)."""
    from .engine.parallel.ray_pool import ClusterError
    try:
        yield
    except ClusterError as err:
        click.echo(f"error: {err}\n  = hint: {err.hint}", err=True)
        sys.exit(EXIT_USAGE)


def _verify(specs, consts, fmt, trace_out, html_out, scenario, no_faults, memory, quiet, measure_traces, search):
    if len(specs) > 1 or os.path.isdir(specs[0]):
        from .batch import verify_many
        for option, given in ((f"--format {fmt}", fmt not in ("text", "json")), ("--trace-out", trace_out),
                              ("--html", html_out)):
            if given:
                raise click.UsageError(f"{option} takes a single spec; with several, verify prints one line per "
                                       "spec, or with --format json one document (run each spec on its own for "
                                       "its report)")
        progress = _progress(quiet)
        sys.exit(verify_many(specs, _parse_consts(consts), search, _memory_limit(memory), progress, fmt))
    spec = specs[0]
    _check_outputs([spec], [("--trace-out", trace_out), ("--html", html_out)])
    loaded = _load_spec(spec, _parse_consts(consts), fmt)
    if scenario is not None and no_faults:
        raise click.UsageError("--scenario and --no-faults cannot be used together")
    _check_measure_names(measure_traces, loaded, spec, fmt)
    progress = _progress(quiet)
    try:
        verification = api.verify(loaded, **search, memory_limit=_memory_limit(memory), on_progress=progress)
    except SpecError as err:
        _fail(err, loaded.source, spec, fmt)
    if progress is not None:
        progress.clear()
    result, model, source = verification.result, verification.model, loaded.source
    # The verdict is printed first; the files after, so a write error loses nothing.
    files: list[tuple[str, str, str]] = []
    if fmt == "json" or trace_out:
        doc = verification.json()
        if trace_out:
            files.append(_trace_file(trace_out, result, model, source, verification.options, doc))
        if fmt == "json":
            click.echo(json.dumps(doc, indent=2))
    if fmt == "itf":
        from .report.itf import render_itf
        click.echo(json.dumps(render_itf(result, model, source, verification.options), indent=2))
        click.echo(summary_line(result, style.painter(sys.stderr)), err=True)
    if fmt == "otlp":
        from .report.otlp import render_otlp
        click.echo(json.dumps(render_otlp(result, model, source, verification.options), indent=2))
        click.echo(summary_line(result, style.painter(sys.stderr)), err=True)
    if html_out:
        from .report.html import render_html
        files.append((html_out, render_html(result, model, source), "the HTML report"))
    if fmt == "mermaid":
        from .report.mermaid import render_mermaid
        click.echo(render_mermaid(result, model), nl=False)
        click.echo(summary_line(result, style.painter(sys.stderr)), err=True)
    if fmt == "text":
        paint = style.painter(sys.stdout)
        text = render_text(result, model, source, header=not quiet, paint=paint, measure_traces=measure_traces)
        if text:
            click.echo(text)
            click.echo("")
        click.echo(summary_line(result, paint))
    if not all([_write_file(*f) for f in files]):
        sys.exit(EXIT_USAGE)
    sys.exit({"holds": EXIT_HOLDS, "violated": EXIT_VIOLATED, "incomplete": EXIT_INCOMPLETE}[result.verdict])


def _check_measure_names(names, loaded, spec: str, fmt: str) -> None:
    """--measure-trace NAME must name a measure of the spec (E104, as --invariant)."""
    known = {m.name for m in loaded.checked.measures}
    for name in names:
        if name not in known:
            from .lang.diagnostics import NO_SPAN, Diagnostic, did_you_mean
            guess = did_you_mean(name, known)
            hint = f"did you mean '{guess}'?" if guess else "measures: " + (", ".join(sorted(known)) or "none")
            _fail(SpecError([Diagnostic("E104", f"--measure-trace {name}: the spec has no measure '{name}'",
                                        NO_SPAN, hint)]), loaded.source, spec, fmt)


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME",
              help="Only this row (repeatable): a scenario's name, 'no-faults' or 'faults'. Default: every row.")
@click.option("--max-states", type=click.IntRange(min=1), help="Per row: stop after this many distinct states.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Per row: explore behaviours of at most this many steps.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Per row: stop after this many seconds.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--fail-on-violation", is_flag=True, help="Exit 1 when any cell is violated (default: exit 0).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run up to N rows at once, in worker processes. Default: the number of CPU cores. "
                   "The table is the same whatever N is.")
@click.option("--memory-limit", "memory", type=_Size(), metavar="SIZE",
              help=_MEMORY_HELP.replace("modelcheck's memory", "a row's process memory"))
@_pruning_options
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
def matrix(spec, consts, scenarios, max_states, max_depth, timeout, fmt, fail_on_violation, jobs, memory,
           keep_partitions, keep_dead_messages, quiet):
    """Check every invariant and property under every scenario: the resilience table.

    Rows: no-faults, the faults block (faults), and each scenario. Exit 0 when every
    cell has a verdict (violated cells included: the table is the result), 3 when a
    bound stopped a row, 1 with --fail-on-violation and a violated cell.
    """
    from .engine import matrix as mx

    overrides = _parse_consts(consts)
    source, checked = _front_end(spec, overrides, fmt)
    try:
        model = build(checked, source)
        every = mx.scenarios_of(model)
        known = [name for name, _ in every]
        for name in scenarios:
            if name not in known:
                from .lang.diagnostics import NO_SPAN, Diagnostic, did_you_mean
                guess = did_you_mean(name, known)
                hint = f"did you mean '{guess}'?" if guess else "rows: " + ", ".join(known)
                raise SpecError([Diagnostic("E104", f"--scenario {name}: the spec has no such row", NO_SPAN, hint)])
    except SpecError as err:
        _fail(err, source, spec, fmt)
    rows = [(n, f) for n, f in every if not scenarios or n in scenarios]
    progress = _progress(quiet)

    def on_row(name: str) -> None:
        if progress is not None:
            progress.prefix = f"{name}: "

    jobs = jobs or os.cpu_count() or 1
    memory_limit = _memory_limit(memory)
    if memory is None and jobs > 1:  # by default the rows running at once share the machine
        memory_limit //= min(jobs, len(rows)) or 1
    result = mx.run_matrix(model, rows, Options(max_states=max_states, max_depth=max_depth, timeout=timeout,
                                                on_progress=progress, memory_limit=memory_limit,
                                                skip_partitions=not keep_partitions,
                                                drop_dead_messages=not keep_dead_messages), on_row, jobs=jobs)
    if progress is not None:
        progress.clear()
    name = checked.spec.name
    if fmt == "json":
        options = {"consts": checked.consts, "scenarios": list(scenarios) or None, "max_states": max_states,
                   "max_depth": max_depth, "timeout": timeout, "keep_partitions": keep_partitions,
                   "keep_dead_messages": keep_dead_messages}
        click.echo(json.dumps(mx.render_json(result, spec, name, options), indent=2))
    elif fmt == "markdown":
        click.echo(mx.render_markdown(result))
    else:
        click.echo(mx.render_text(result, spec, name))
    if not result.complete:
        stopped = [r for r in result.rows if r.stop_reason]
        click.echo(f"matrix: {len(result.rows) - len(stopped)} of {len(result.rows)} rows complete; "
                   + "; ".join(f"{r.scenario}: {stop_text(r.stop_reason)}" for r in stopped), err=True)
        sys.exit(EXIT_INCOMPLETE)
    sys.exit(EXIT_VIOLATED if fail_on_violation and result.violated else EXIT_HOLDS)


_MAX_TRACE_BYTES = 256 << 20


def _read_json(path: str):
    """A trace file's JSON: a regular file of bounded size (not a FIFO or /dev/zero)."""
    import stat
    if not stat.S_ISREG(os.stat(path).st_mode):  # stat, not open: opening a FIFO blocks
        raise OSError("not a regular file")
    with open(path, "rb") as fh:
        data = fh.read(_MAX_TRACE_BYTES + 1)
    if len(data) > _MAX_TRACE_BYTES:
        raise OSError(f"larger than {_MAX_TRACE_BYTES >> 20} MB")
    return json.loads(data.decode("utf-8"))


def _read_trace(trace: str) -> tuple[dict, dict, dict]:
    """A trace file (JSON result or ITF) for `replay` and `explore --trace`: the
    document, its options and its recorded consts. Exits 2 on a malformed file."""
    from .engine.replay import MalformedTrace, load_trace
    from .report.itf import NotOurItf, from_itf, is_itf

    try:
        doc = _read_json(trace)
        doc = load_trace(from_itf(doc) if is_itf(doc) else doc)
        opts = doc.get("options") or {}
        if not isinstance(opts, dict):
            raise MalformedTrace("options is not an object")
        recorded = opts.get("consts") or {}
        if not isinstance(recorded, dict):
            raise MalformedTrace("options.consts is not an object")
    except FileNotFoundError:
        click.echo(f"{trace}: error: no such file", err=True)
        sys.exit(EXIT_USAGE)
    except (OSError, UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        click.echo(f"{trace}: error: not a JSON trace: {err}", err=True)
        sys.exit(EXIT_USAGE)
    except RecursionError:
        click.echo(f"{trace}: error: not a modelcheck trace: its JSON is nested too deeply", err=True)
        sys.exit(EXIT_USAGE)
    except (MalformedTrace, NotOurItf) as err:
        click.echo(f"{trace}: error: malformed trace: {err}", err=True)
        sys.exit(EXIT_USAGE)
    except (KeyError, TypeError, AttributeError) as err:  # a damaged ITF file
        click.echo(f"{trace}: error: malformed trace: unexpected content ({type(err).__name__}: {err})", err=True)
        sys.exit(EXIT_USAGE)
    return doc, opts, recorded


def _check_with_recorded(parsed, given: dict, recorded: dict, trace: str):
    """check_spec with the consts a trace recorded (those given with --const win).
    When only the recorded values make the check fail, say that they came from the
    trace file: the diagnostic itself points at the spec's const line."""
    try:
        return check_spec(parsed, {**recorded, **given})
    except SpecError as err:
        if not recorded:
            raise
        check_spec(parsed, given)  # raises when the spec or --const is wrong on its own
        click.echo(f"{trace}: error: the consts recorded in the trace (options.consts: "
                   + ", ".join(f"{k}={int_text(v)}" for k, v in recorded.items())
                   + ") do not fit the spec\n  = hint: override them with --const NAME=VALUE", err=True)
        raise err


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.argument("trace", metavar="TRACE.json")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a const (repeatable). Default: the consts recorded in the trace.")
def replay(spec, trace, consts):
    """Re-execute a trace written by `verify --format json|itf` / `--trace-out`.

    Exit 0 when the trace still reproduces its violation, 1 when it no longer does
    (the first step that no longer applies is named), 2 on a malformed trace.
    """
    from .engine.replay import MalformedTrace
    from .engine.replay import replay as run_replay

    doc, opts, recorded = _read_trace(trace)
    source = None
    try:
        source = load(spec)
        parsed = parse(source)
        declared = {c.name for c in parsed.consts}
        given = _parse_consts(consts)
        overrides = {k: v for k, v in recorded.items()
                     if k in declared and k not in given and isinstance(v, int) and not isinstance(v, bool)}
        # before the real check: checking annotates the parsed spec, the last check wins
        drift = _const_drift(parsed, given, recorded)
        checked = _check_with_recorded(parsed, given, overrides, trace)
    except SpecError as err:
        _fail(err, source, spec, "text")
    click.echo(f"replay: {trace} on {spec}")
    paint = style.painter(sys.stdout) or (lambda _role, text: text)
    gone = sorted(set(recorded) - declared)
    if gone:
        click.echo(f"  note: the spec no longer declares const {', '.join(gone)}")
    for line in drift:
        click.echo(f"  {paint('warning', 'warning')}: {line}")
    try:
        faults = None
        if opts.get("scenario"):
            if opts["scenario"] not in checked.scenarios:
                click.echo(f"No longer violated: the spec has no scenario '{opts['scenario']}' any more")
                sys.exit(EXIT_VIOLATED)
            faults = checked.scenarios[opts["scenario"]]
        kind, name = doc["violation"].get("kind"), doc["violation"].get("name")
        invariants = [name] if kind == "invariant" and name in {i.name for i in checked.invariants} else []
        properties = [name] if kind == "property" and name in {p.name for p in checked.properties} else []
        model = build(checked, source, use_faults=not opts.get("no_faults"), faults=faults,
                      invariant_names=invariants or None, property_names=properties or None)
        # the reductions the recorded run used (a trace from before they existed: none)
        from . import prune
        # as the run applied them: its `pruning` record says whether partitions were
        # skipped and messages dropped (a run with temporal properties keeps dead
        # messages even though replay checks only the violated invariant)
        done = doc.get("pruning")
        skipped = done is None or bool(done.get("skipped_faults"))
        dropped = done is None or bool(done.get("dead_messages"))
        again = Options(skip_partitions=opts.get("keep_partitions") is False and skipped,
                        drop_dead_messages=opts.get("keep_dead_messages") is False and dropped,
                        prune=opts.get("prune") is True)
        model, _ = prune.apply(model, again.validate(model), again)
        outcome = run_replay(model, doc)
    except SpecError as err:
        _fail(err, source, spec, "text")
    except MalformedTrace as err:
        click.echo(f"{trace}: error: malformed trace: {err}", err=True)
        sys.exit(EXIT_USAGE)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        click.echo(f"{trace}: error: malformed trace: unexpected content ({type(err).__name__}: {err})", err=True)
        sys.exit(EXIT_USAGE)
    for line in outcome.lines:
        if line.startswith(("Diverges:", "No longer violated:", "Reproduced:")):
            head, rest = line.split(":", 1)
            line = paint("holds" if head == "Reproduced" else "diverges", head) + ":" + rest
        click.echo(line)
    if outcome.blocked:
        from .lang.diagnostics import render
        click.echo("")
        click.echo("\n\n".join(render(diag, source, style.painter(sys.stdout)) for diag in outcome.blocked))
    sys.exit(EXIT_HOLDS if outcome.reproduces else EXIT_VIOLATED)


def _const_drift(parsed, given: dict, recorded: dict) -> list[str]:
    """Warnings for `replay`: each const whose value recorded in the trace differs
    from the spec's current one (the trace's value is used) or from --const. Call it
    before the check whose result is used (it checks the spec with its own values)."""
    declared = {c.name for c in parsed.consts}
    try:
        own = check_spec(parsed, {}).consts
    except SpecError:  # the spec's own values do not check: the replay itself says why
        own = {}
    out = []
    for name, value in sorted(recorded.items()):
        if name not in declared or not isinstance(value, int) or isinstance(value, bool):
            continue
        if name in given:
            if given[name] != value:
                out.append(f"the trace was recorded with {name}={int_text(value)}; replaying with --const "
                           f"{name}={int_text(given[name])}")
        elif name in own and own[name] != value:
            out.append(f"the trace was recorded with {name}={int_text(value)} but the spec now declares "
                       f"{name}={int_text(own[name])}; replaying with the trace's value (--const {name}=VALUE "
                       "chooses another)")
    return out


@cli.command("explore")
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a const (repeatable). With --trace, the trace's recorded consts are the default.")
@click.option("--trace", metavar="FILE", help="Start from this counterexample (JSON or ITF, as `verify --trace-out` "
                                               "writes it): step through it, or branch off it.")
@click.option("--no-faults", is_flag=True, help="Ignore the faults block.")
@click.option("--scenario", metavar="NAME", help="Use this scenario's faults instead of the faults block.")
@click.option("--port", type=click.IntRange(0, 65535), metavar="N",
              help="Port to serve on (default 8470, or a free one when 8470 is taken; 0: any free port).")
@click.option("--host", metavar="ADDRESS",
              help="Address to serve on. Default 127.0.0.1, answering loopback clients only; another address "
                   "(0.0.0.0: every interface) lets anyone who reaches it step through the model and run verify.")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
def explore_command(spec, consts, trace, no_faults, scenario, port, host, no_browser):
    """Step through SPEC's model yourself, in a local web page.

    Shows the current state, the enabled steps (as `verify` labels them) and the path
    so far as the report's sequence diagram; runs verify from the page and evaluates
    expressions in the current state. Prints the URL; Ctrl-C stops the server (exit 0).
    Exit 2 on a spec, trace or address error."""
    import errno
    from .explore.server import DEFAULT_HOST, DEFAULT_PORT, is_loopback, make_server, url_of
    from .explore.session import Session

    if scenario is not None and no_faults:
        raise click.UsageError("--scenario and --no-faults cannot be used together")
    given = _parse_consts(consts)
    doc, opts, recorded = _read_trace(trace) if trace else (None, {}, {})
    loaded = _load_spec(spec, given, "text")
    merged = {**{k: v for k, v in recorded.items() if k in loaded.consts and isinstance(v, int)
                 and not isinstance(v, bool)}, **given}
    if merged != given:
        try:
            loaded = api.load(spec, merged)
        except SpecError as err:
            click.echo(f"{trace}: error: the consts recorded in the trace (options.consts: "
                       + ", ".join(f"{k}={int_text(v)}" for k, v in recorded.items())
                       + ") do not fit the spec\n  = hint: override them with --const NAME=VALUE", err=True)
            _fail(err, err.source, spec, "text")
    if doc is not None and scenario is None and not no_faults:  # the trace's own faults
        scenario, no_faults = opts.get("scenario") or None, bool(opts.get("no_faults"))
    try:
        session = Session.open(loaded, scenario=scenario, no_faults=no_faults)
    except SpecError as err:
        _fail(err, loaded.source, spec, "text")
    if doc is not None:
        recorded_steps = doc["trace"]["steps"] + (doc["trace"].get("cycle") or [])
        session.trace_path, session.trace_note = session.find(recorded_steps)
        if session.trace_note:
            click.echo(f"{trace}: note: the path stops after {len(session.trace_path)} steps: {session.trace_note}",
                       err=True)
    address = host or DEFAULT_HOST
    try:
        try:
            server = make_server(session, address, DEFAULT_PORT if port is None else port, host is not None)
        except OSError as err:
            if port is not None or err.errno != errno.EADDRINUSE:
                raise
            server = make_server(session, address, 0, host is not None)  # the default port is taken
    except OSError as err:
        why = err.strerror or str(err)
        hint = ("choose another port with --port N (0: any free port)" if err.errno == errno.EADDRINUSE else
                "give an address of this machine, e.g. --host 127.0.0.1")
        click.echo(f"error: cannot serve on {address}:{DEFAULT_PORT if port is None else port}: {why}\n"
                   f"  = hint: {hint}", err=True)
        sys.exit(EXIT_USAGE)
    url = url_of(server, address)
    if not is_loopback(address):
        click.echo(f"warning: serving on {address}: anyone who can reach it can step through the model and "
                   "run verify", err=True)
    click.echo(f"modelcheck explore: {spec} (spec {loaded.name}) at {url}")
    click.echo("press Ctrl-C to stop")
    if not no_browser:
        import webbrowser
        import threading
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nmodelcheck explore: stopped", err=True)
    finally:
        server.server_close()
    sys.exit(EXIT_HOLDS)


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@click.option("--max-states", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Refuse to draw graphs with more states than this.")
@click.option("--no-faults", is_flag=True, help="Ignore the faults block.")
@click.option("--scenario", metavar="NAME", help="Use this scenario's faults instead of the faults block.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this many seconds (exit 3, nothing drawn).")
@click.option("--components", is_flag=True,
              help="Box each strongly connected component of more than one state (states that can all reach "
                   "one another), mark the terminal ones (no step leaves them), and count them on stderr.")
def graph(spec, consts, fmt, max_states, no_faults, scenario, timeout, components):
    """Print the reachable state graph of SPEC (small models) as DOT or Mermaid.

    Violating states are red, the first counterexample's edges bold red, edges
    are labelled with the step. Render DOT with `dot -Tsvg`.
    """
    from .report.graph import render_dot, render_mermaid_graph

    overrides = _parse_consts(consts)
    source, checked = _front_end(spec, overrides, "text")
    try:
        faults = _scenario_faults(checked, scenario) if scenario is not None else None
        model = build(checked, source, use_faults=not no_faults, faults=faults)
    except SpecError as err:
        _fail(err, source, spec, "text")
    result = explore(model, Options(max_states=max_states + 1, collect_all=True, record_graph=True,
                                    timeout=timeout, memory_limit=limits.default_memory_limit()))
    if result.stop_reason == "max-states":
        click.echo(f"{spec}: the state graph has more than {max_states:,} states, too many to draw legibly; "
                   "shrink the model (--const, --no-faults, --scenario) or raise --max-states", err=True)
        sys.exit(EXIT_INCOMPLETE)
    if result.stop_reason is not None:  # a part of a graph is not drawn: it would mislead
        click.echo(f"{spec}: nothing drawn: {stop_text(result.stop_reason)} after {result.stats.distinct_states:,} "
                   f"states ({result.stats.transitions:,} transitions, depth {result.stats.depth})", err=True)
        sys.exit(EXIT_INCOMPLETE)
    click.echo((render_dot if fmt == "dot" else render_mermaid_graph)(result, model, components), nl=False)
    click.echo(f"{len(result.graph):,} states, {sum(len(x) for x in result.graph.succ):,} transitions", err=True)
    if components:
        from .report.components import summary
        click.echo(summary(result.graph), err=True)


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--runs", type=click.IntRange(min=1), default=1000, show_default=True, help="Number of random walks.")
@click.option("--depth", type=click.IntRange(min=1), default=100, show_default=True, help="Steps per walk at most.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same runs.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Share the runs between N processes of this machine; the same report as one.")
@click.option("--no-shrink", is_flag=True, help="Report the shortest violating walk as found (loops cut out), "
              "without shrinking it (default: drop and reorder its steps while it still violates).")
@click.option("--no-swarm", is_flag=True, help="Every run may take every step (default: each run switches "
                                               "off a random subset of handlers, actions and faults).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", help="Stop after this long.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--trace-out", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write the JSON result (replayable with `modelcheck replay`) to FILE; ITF when FILE "
                   "ends in .itf.json, OpenTelemetry when it ends in .otlp.json.")
@click.option("--no-faults", is_flag=True, help="Ignore the faults block.")
@click.option("--scenario", metavar="NAME", help="Use this scenario's faults instead of the faults block.")
@click.option("--memory-limit", "memory", type=_Size(), metavar="SIZE", help=_MEMORY_HELP)
@click.option("--quiet", "-q", is_flag=True, help="Text: only the counterexample and the summary.")
def simulate(spec, consts, runs, depth, seed, no_swarm, no_shrink, workers, timeout, fmt, trace_out, no_faults, scenario,
             memory, quiet):
    """Random walks through SPEC, for models too large to explore exhaustively.

    Checks invariants, asserts and run-time errors (not temporal properties) and
    reports the shortest violation found as a normal, replayable counterexample.
    Finding nothing is not a proof. Exit 0 nothing found, 1 a violation found.
    """
    from .engine.simulate import SimOptions
    from .engine.simulate import simulate as run_sim

    _check_outputs([spec], [("--trace-out", trace_out)])
    overrides = _parse_consts(consts)
    source, checked = _front_end(spec, overrides, fmt)
    try:
        faults = _scenario_faults(checked, scenario) if scenario is not None else None
        model = build(checked, source, use_faults=not no_faults, faults=faults)
    except SpecError as err:
        _fail(err, source, spec, fmt)
    rep = run_sim(model, SimOptions(runs=runs, depth=depth, seed=seed, swarm=not no_swarm, shrink=not no_shrink,
                                    workers=workers, timeout=timeout,
                                    memory_limit=_memory_limit(memory)))
    result = rep.result
    rate = rep.steps / rep.seconds if rep.seconds > 0 else 0
    sim = {"runs": rep.runs, "steps": rep.steps, "seconds": round(rep.seconds, 3), "steps_per_second": round(rate),
           "runs_per_second": round(rep.runs / rep.seconds) if rep.seconds > 0 else rep.runs,
           "seed": seed, "depth": depth, "swarm": not no_swarm, "first_found_in_run": rep.first_found_in_run,
           "never_taken": rep.never_taken, "stop_reason": rep.stop_reason, "deadlocked_runs": rep.deadlocks,
           "notes": rep.notes, "shrunk_from": rep.shrunk_from}
    options = {"consts": checked.consts, "invariants": None, "properties": None, "max_states": None,
               "max_depth": depth, "timeout": timeout, "no_faults": no_faults, "scenario": scenario}
    files: list[tuple[str, str]] = []
    if fmt == "json" or trace_out:
        doc = render_json(result, model, source, options)
        doc["simulation"] = sim
        if trace_out:
            files.append(_trace_file(trace_out, result, model, source, options, doc))
        if fmt == "json":
            click.echo(json.dumps(doc, indent=2))
    if fmt == "text":
        if result.violation is not None:
            click.echo(render_text(result, model, source, header=not quiet, paint=style.painter(sys.stdout)))
            click.echo("")
        else:
            click.echo(f"No violation found in {rep.runs:,} random runs of up to {depth} steps (seed {seed}). "
                       "This is not a proof: `modelcheck verify` explores every state.")
        if not quiet and rep.never_taken:
            click.echo("never taken in any run: " + ", ".join(rep.never_taken))
        for note in rep.notes:  # runs that deadlocked (or a model with no step at all)
            click.echo(note)
        if rep.shrunk_from is not None:
            click.echo(f"Shrunk from {rep.shrunk_from} steps to {len(result.trace)}: steps dropped and reordered while "
                       "the same violation still happened. Not proved shortest: `modelcheck verify` finds the "
                       "shortest trace.")
        shrunk = f"shrunk from {rep.shrunk_from}; " if rep.shrunk_from is not None else ""
        found = (f" · shortest violation: {len(result.trace)} steps ({shrunk}first found in run "
                 f"{rep.first_found_in_run})" if result.violation is not None else "")
        stopped = f" · stopped: {stop_text(rep.stop_reason)}" if rep.stop_reason in CUT_SHORT else ""
        click.echo(f"Simulation: {rep.runs:,} runs · {rep.steps:,} steps · {rep.seconds:.2f} s · {rate:,.0f} steps/s"
                   f" · {result.stats.distinct_states:,} distinct states seen{found}{stopped}")
    if not all([_write_file(*f) for f in files]):
        sys.exit(EXIT_USAGE)
    if result.violation is not None:
        sys.exit(EXIT_VIOLATED)
    # Ctrl-C, SIGTERM or memory stop the runs early (a timeout is how a simulation ends)
    sys.exit(EXIT_INCOMPLETE if rep.stop_reason in CUT_SHORT else EXIT_HOLDS)


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
def check(spec, consts, strict):
    """Parse, type-check and lint SPEC without exploring (exit 0, or 2 on errors).

    Warnings (dead guards, vacuous invariants, unsent or unhandled messages, unread
    variables, unusable budgets) are printed on stderr; with --strict they fail."""
    from .smt.lint import format_note
    from .static_check import static_check

    overrides = _parse_consts(consts)
    source, checked = _front_end(spec, overrides, "text")
    try:
        found = static_check(checked, source)  # what the language server shows too
    except SpecError as err:
        _fail(err, source, spec, "text")
    model, warnings = found.model, found.warnings
    for note in found.notes:  # checks the lint skipped (too large, z3's time budget): said, never failed on
        click.echo(format_note(note, spec), err=True)
    if warnings:
        click.echo(render_all(warnings, source, style.painter(sys.stderr)), err=True)
        click.echo(f"\n{len(warnings)} warning{'s' if len(warnings) != 1 else ''}", err=True)
        if strict:
            sys.exit(EXIT_USAGE)
    c = checked
    click.echo(f"{spec}: ok: spec {c.spec.name}, {len(c.node_names)} node(s) in {len(c.roles)} role(s), "
               f"{len(c.messages)} message kind(s), {len(c.invariants)} invariant(s), "
               f"{len(c.properties)} propert{'y' if len(c.properties) == 1 else 'ies'}, "
               f"{len(model.faults)} fault line(s)")
    _dead_message_hints(model)


def _dead_message_hints(model) -> None:
    """Which messages `verify` drops as dead, and why the others never are (a hint
    to the author: docs/language.md, "Pruning that saves states")."""
    from . import prune
    from .engine.explorer import Options
    opts = Options(skip_partitions=True, drop_dead_messages=True)
    plan = opts.validate(model)
    why = prune.why_no_collection(model, plan, opts)
    if why is not None:
        click.echo(f"dead messages: none dropped: {why}")
        return
    analysis = prune.dead_analysis(model)
    if analysis.why_none:
        click.echo(f"dead messages: none dropped: {analysis.why_none}")
        return
    handled = [r for r in analysis.rules if r.text]
    click.echo("dead messages (dropped from the state while exploring, once z3 proved them no-ops for ever):")
    for r in handled:
        click.echo(f"  dropped: {r.describe()}")
    for role, message, reason in analysis.kept:
        click.echo(f"  kept: {message} to {role}: {reason}")
    if not handled and not analysis.kept:
        click.echo("  only messages to roles that have no handler for them")


@cli.command()
@_color_option
@click.argument("spec", metavar="SPEC")
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="Prove this invariant (repeatable); only the named ones are assumed. Default: every invariant.")
@click.option("--k", "k_max", type=click.IntRange(min=1, max=50), default=4, show_default=True,
              help="Largest k tried: bounded model checking to depth k and k-induction for k = 1..K.")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE", help="Override a const (repeatable).")
@click.option("--no-faults", is_flag=True, help="Ignore the faults block.")
@click.option("--scenario", metavar="NAME", help="Use this scenario's faults instead of the faults block.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Give up after this many seconds (exit 3).")
@click.option("--no-infer", is_flag=True, help="Do not infer message invariants.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--trace-out", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="When refuted, write the counterexample as JSON (replayable) to FILE; ITF when FILE ends "
                   "in .itf.json, OpenTelemetry when it ends in .otlp.json.")
def prove(spec, invariants, k_max, consts, no_faults, scenario, timeout, no_infer, fmt, trace_out):
    """Prove SPEC's invariants for every reachable state by k-induction (z3).

    Exit 0 proved, 1 refuted (a counterexample trace, as verify prints it), 3 unknown
    (not k-inductive: a counterexample to induction is printed; or the timeout ran
    out; or the spec uses something prove does not encode), 2 spec or usage error.
    """
    from .lang.diagnostics import Diagnostic, render
    from .smt.prove import prove as run_prove
    from .smt.prove import render_json as prove_json
    from .smt.prove import render_text as prove_text
    from .smt.symbolic import Unsupported

    _check_outputs([spec], [("--trace-out", trace_out)])
    source, checked, model = _load_model(spec, consts, fmt, no_faults, scenario, invariants, ())
    options = {"consts": checked.consts, "invariants": list(invariants) or None, "properties": None,
               "max_states": None, "max_depth": None, "timeout": timeout, "no_faults": no_faults,
               "scenario": scenario, "k": k_max}
    try:
        with limits.z3_interruptible():  # SIGTERM stops a long z3 call too, not only Ctrl-C
            pr = run_prove(model, k_max=k_max, timeout=timeout, infer=not no_infer)
    except Unsupported as err:
        diag = Diagnostic("", f"prove cannot encode {err.what}", err.span,
                          "prove covers bools, ranges, enums, node ids, optionals, tuples and sets of these, "
                          "'delivery set' or 'unordered', and every fault but pause; use `modelcheck verify`",
                          severity="unsupported")
        if fmt == "json":
            click.echo(json.dumps({"format": "modelcheck-prove", "version": 1, "spec": {"file": spec},
                                   "verdict": "unsupported", "message": f"prove cannot encode {err.what}",
                                   "line": err.span.line, "column": err.span.column}, indent=2))
        click.echo(render(diag, source, style.painter(sys.stderr)), err=True)
        sys.exit(EXIT_INCOMPLETE)
    if fmt == "json":
        click.echo(json.dumps(prove_json(pr, model, source, options), indent=2))
    else:
        click.echo(prove_text(pr, model, source, k_max))
    if trace_out and pr.result is not None:
        if not _write_file(*_trace_file(trace_out, pr.result, model, source, options)):
            sys.exit(EXIT_USAGE)
    sys.exit({"proved": EXIT_HOLDS, "refuted": EXIT_VIOLATED, "unknown": EXIT_INCOMPLETE}[pr.verdict])


# The optional packages `modelcheck lsp` needs (the `lsp` extra of pyproject.toml).
_LSP_PACKAGES = {"pygls", "lsprotocol", "cattrs", "attrs"}


@cli.command()
def lsp():
    """Run the language server on stdin/stdout, for editors: diagnostics as you type,
    hover, go to definition, completion (README, "Editors").

    Needs the optional package pygls: pip install 'modelcheck[lsp]'. Without it,
    prints that and exits 2."""
    try:
        from .lsp.server import serve
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in _LSP_PACKAGES:
            raise
        click.echo(f"modelcheck lsp needs the optional package pygls, which is not installed (no module "
                   f"{err.name!r})\n  = hint: pip install 'modelcheck[lsp]'", err=True)
        sys.exit(EXIT_USAGE)
    serve()


def main() -> None:
    limits.install_signal_handlers()
    try:
        code = cli.main(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else EXIT_HOLDS)
    except (KeyboardInterrupt, click.exceptions.Abort):
        # Stopped outside a search (a search reports its own summary): while loading,
        # compiling or printing. Nothing was checked to the end.
        click.echo(f"\nmodelcheck: {limits.interrupted_text()} before a result; nothing more to report", err=True)
        sys.exit(EXIT_INCOMPLETE)
    except MemoryError:
        click.echo("modelcheck: out of memory before a result; nothing more to report\n"
                   "  = hint: shrink the model (--const, --no-faults, --scenario), or set --memory-limit lower "
                   "so that the search stops with a summary", err=True)
        sys.exit(EXIT_INCOMPLETE)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except BrokenPipeError:
        # the reader of our output went away (`| head`): nothing more can be shown
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        sys.exit(EXIT_INCOMPLETE)
    except SystemExit:
        raise
    except SpecError as err:  # pragma: no cover - every SpecError is handled above
        click.echo(render_all(err.diagnostics, None), err=True)
        sys.exit(EXIT_USAGE)
    except Exception as err:  # noqa: BLE001 - the user must never see a traceback
        click.echo(f"modelcheck: internal error: {type(err).__name__}: {err}\n"
                   "This is a bug in modelcheck, not in your spec; please report it with the spec.", err=True)
        sys.exit(EXIT_INTERNAL)


