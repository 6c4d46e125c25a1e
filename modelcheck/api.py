"""The Python API: load a spec, verify it, read the verdict, counts and trace as data.

Why a module of its own: `modelcheck verify`, the pytest plugin and users' scripts
must run the same pipeline (read, parse, check, build the model, explore, with the
same defaults), so it is written once, here, and the command line only turns flags
into these keywords and prints what comes back. The keywords of `verify` are the
command line's options, `-` written `_`. docs/api.md documents every name.

Errors in a spec raise `SpecError` (one class for the whole package: the checker's)
with its `source` set, so `str(err)` renders the diagnostics as the command line
does: `file:line:col`, the source line, a caret and the hint.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from . import limits
from .engine.explorer import Options, Progress, explore
from .engine.model import Model, build
from .engine.result import Result, Stats, Violation
from .lang.checker import CheckedSpec, check
from .lang.diagnostics import NO_SPAN, Diagnostic, Source, SpecError, did_you_mean
from .lang.parser import load as read_spec
from .lang.parser import parse

__all__ = ["Change", "Spec", "SpecError", "Stats", "TraceStep", "Verification", "Violation", "load", "verify"]

TEXT_NAME = "<spec>"  # the file name diagnostics show for a spec given as text


@dataclass
class Spec:
    """A parsed and type-checked spec: what `load` returns and `verify` accepts."""

    path: str  # the file as given, or "<spec>" (or load's `name`) for text
    name: str  # from `spec NAME`
    consts: dict[str, int]  # every const's value, after the overrides
    invariants: list[str]
    properties: list[str]
    scenarios: list[str]
    source: Source = field(repr=False)
    checked: CheckedSpec = field(repr=False)
    overrides: dict[str, int] = field(repr=False, default_factory=dict)  # the consts given to load


@dataclass(frozen=True)
class Change:
    """One thing a step changed, in the words of the text report."""

    what: str  # "Server[1].primary", "Server[0] status", "ghost elected", "cut links", "now", ...
    before: str  # values as the spec writes them ("false", "{Server[0]}", "up")
    after: str


@dataclass(frozen=True)
class TraceStep:
    """One step of a counterexample, numbered from 1 as in the text report."""

    index: int
    label: str  # the report's headline: "Server[1] does promote", "partition {Server[0]} | {Server[1]}"
    kind: str  # deliver, action, crash, restart, partition, ..., tick (docs/json-format.md, "A step")
    node: str | None  # the node that acted, crashed or restarted; None for network faults
    name: str | None  # the action's name or the delivered message kind
    line: int | None  # the spec line of the handler, action or fault line
    changes: tuple[Change, ...] = ()
    error: str | None = None  # a final step that raised a run-time error: its message


@dataclass
class Verification:
    """What `verify` returns: the verdict, the counts, and for a violation the trace."""

    spec: Spec
    verdict: str  # "holds" | "violated" | "incomplete"
    stop_reason: str | None  # for "incomplete": max-states, max-depth, timeout, memory, interrupted, worker-lost
    stats: Stats  # distinct_states, transitions, depth, seconds, ... (engine/result.py)
    violation: Violation | None  # kind, name, message, span (line, column)
    trace: list[TraceStep]  # the steps from the initial state to the violation
    cycle: list[TraceStep] | None  # a liveness counterexample: the steps that repeat forever
    invariants: list[str]  # the invariants and properties checked
    properties: list[str]
    notes: list[str]  # options that could not be honoured, and why
    options: dict  # the options, as the JSON result's "options" object records them
    result: Result = field(repr=False)  # the engine's result, for the reports
    model: Model = field(repr=False)  # the model searched: its states are the trace's

    @property
    def ok(self) -> bool:
        return self.verdict == "holds"

    def text(self, header: bool = True) -> str:
        """The report exactly as `modelcheck verify` prints it (`header=False`: as --quiet)."""
        from .report.text import render_text, summary_line

        body = render_text(self.result, self.model, self.spec.source, header=header)
        return (body + "\n\n" if body else "") + summary_line(self.result)

    def summary(self) -> str:
        """The last line of the report: `Result: VIOLATED · 10 distinct states · ...`."""
        from .report.text import summary_line

        return summary_line(self.result)

    def json(self) -> dict:
        """The `--format json` document (docs/json-format.md)."""
        from .report.text import render_json

        return render_json(self.result, self.model, self.spec.source, self.options)


def load(path_or_text: str | os.PathLike, consts: dict[str, int] | None = None, *, name: str | None = None) -> Spec:
    """Read, parse and check a spec. A `str` holding a newline is the spec's text;
    any other `str` or a path object names a file. `name` is what diagnostics and
    reports call it (default: the path as given, or "<spec>" for text). `consts`
    overrides `const` values. Raises SpecError."""
    overrides = _consts(consts)
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        source = Source(name or TEXT_NAME, path_or_text.replace("\r\n", "\n").replace("\r", "\n"))
    else:
        path = os.fspath(path_or_text)
        try:
            source = read_spec(path)
        except SpecError as err:
            raise _located(err, Source(name or path, "")) from None
        if name is not None:
            source.path = name
    return _checked(source, overrides)


def from_text(text: str, consts: dict[str, int] | None = None, *, name: str = TEXT_NAME) -> Spec:
    """`load` of a spec's text, whatever it holds (one line or many); `name` is what
    diagnostics call it. (A worker on a Ray cluster builds its model from this.)"""
    return _checked(Source(name, text.replace("\r\n", "\n").replace("\r", "\n")), _consts(consts))


def _checked(source: Source, overrides: dict) -> Spec:
    try:
        parsed = parse(source)
        checked = check(parsed, overrides)
    except SpecError as err:
        raise _located(err, source) from None
    return _spec(source, checked, overrides)


def verify(spec: Spec | str | os.PathLike, *, consts: dict[str, int] | None = None,
           invariants: list[str] | tuple = (), properties: list[str] | tuple = (), scenario: str | None = None,
           no_faults: bool = False, symmetry: bool = True, fingerprints: bool = False, prune: bool = False,
           max_states: int | None = None, max_depth: int | None = None, timeout: float | None = None,
           keep_partitions: bool = False, keep_dead_messages: bool = False,
           memory_limit: int | str | None = "default", fingerprint_memory: int | str | None = None,
           on_progress: Callable[[Progress], None] | None = None, workers: int = 1,
           cluster: str | None = None) -> Verification:
    """Explore every reachable state of `spec` (a `Spec`, or what `load` takes) and
    check its invariants and temporal properties, as `modelcheck verify` does with
    the same options. `memory_limit`: bytes, a size like "4G" or "75%", None (no
    limit of its own) or "default" (80% of the machine's memory, as the CLI).
    `fingerprint_memory` (with `fingerprints`): bytes or a size, the memory the
    fingerprint table may take before it goes to disk; None: a quarter of the limit.
    `workers`: processes of this machine (forked); with `cluster` (a Ray address,
    or "auto"), Ray actors on that cluster, by default one per CPU it offers.
    Raises SpecError for a wrong spec, an unknown name or scenario; ValueError for
    options that contradict each other; ClusterError when the cluster cannot run
    the search (Ray missing, unreachable, too few CPUs)."""
    if not isinstance(spec, Spec):
        spec = load(spec, consts)
    elif consts:
        spec = _recheck(spec, {**spec.overrides, **_consts(consts)})
    if scenario is not None and no_faults:
        raise ValueError("scenario and no_faults cannot be used together")
    if fingerprint_memory is not None and not fingerprints:
        raise ValueError("fingerprint_memory sizes the fingerprint table: it needs fingerprints=True")
    model = build_model(spec, no_faults=no_faults, scenario=scenario, invariants=invariants, properties=properties)
    pool_factory, cluster_note = None, None
    if cluster is not None:
        from .engine.parallel import ray_pool
        recipe = ray_pool.Recipe(spec.source.path, spec.source.text, tuple(sorted(spec.overrides.items())),
                                 no_faults, scenario, tuple(invariants), tuple(properties))
        pool_factory = ray_pool.RayPoolFactory(cluster, recipe)
        if workers == 1:
            workers = ray_pool.cluster_cpus(cluster)
            if workers < 2:
                cluster_note = f"--cluster: the cluster offers {workers} CPU, so the search ran in this process"
    try:
        result = explore(model, Options(max_states=max_states, max_depth=max_depth, timeout=timeout,
                                        on_progress=on_progress, symmetry=symmetry, prune=prune,
                                        fingerprints=fingerprints, memory_limit=_memory_limit(memory_limit),
                                        fingerprint_memory=_memory_limit(fingerprint_memory),
                                        workers=workers, pool_factory=pool_factory,
                                        skip_partitions=not keep_partitions, drop_dead_messages=not keep_dead_messages))
    finally:
        if cluster is not None:
            ray_pool.disconnect()
    if cluster_note is not None:
        result.notes.append(cluster_note)
    searched = result.searched or model  # its states are the trace's (reductions may leave fault lines out)
    options = {"consts": spec.checked.consts, "invariants": list(invariants) or None,
               "properties": list(properties) or None, "max_states": max_states,
               "max_depth": max_depth, "timeout": timeout, "no_faults": no_faults, "scenario": scenario,
               "symmetry": symmetry, "prune": prune, "fingerprints": fingerprints,
               "keep_partitions": keep_partitions, "keep_dead_messages": keep_dead_messages}
    if workers > 1:  # absent with one process: such a run's document is unchanged
        options["workers"] = workers
    if cluster is not None:
        options["cluster"] = cluster
    trace, cycle = _steps(result, searched)
    return Verification(spec=spec, verdict=result.verdict, stop_reason=result.stop_reason, stats=result.stats,
                        violation=result.violation, trace=trace, cycle=cycle, invariants=result.invariants,
                        properties=result.properties, notes=result.notes, options=options,
                        result=result, model=searched)


def build_model(spec: Spec, *, no_faults: bool = False, scenario: str | None = None,
                invariants=(), properties=()) -> Model:
    """The transition system `verify` explores: the faults block, a scenario's
    lines or none, and the selected invariants and properties (all by default)."""
    try:
        faults = scenario_faults(spec.checked, scenario) if scenario is not None else None
        return build(spec.checked, spec.source, use_faults=not no_faults, invariant_names=list(invariants),
                     property_names=list(properties), faults=faults)
    except SpecError as err:
        raise _located(err, spec.source) from None


def scenario_faults(checked: CheckedSpec, name: str):
    """The fault lines of scenario `name`; an unknown name is a user error (E104)."""
    if name not in checked.scenarios:
        guess = did_you_mean(name, checked.scenarios)
        hint = f"did you mean '{guess}'?" if guess else ("scenarios: " + (", ".join(checked.scenarios) or "none"))
        raise SpecError([Diagnostic("E104", f"--scenario {name}: the spec has no scenario '{name}'", NO_SPAN, hint)])
    return checked.scenarios[name]


# ---- helpers ----

def _spec(source: Source, checked: CheckedSpec, overrides: dict[str, int]) -> Spec:
    return Spec(path=source.path, name=checked.spec.name, consts=dict(checked.consts),
                invariants=[i.name for i in checked.invariants], properties=[p.name for p in checked.properties],
                scenarios=list(checked.scenarios), source=source, checked=checked, overrides=overrides)


def _recheck(spec: Spec, overrides: dict[str, int]) -> Spec:
    """The spec checked with other consts. Parsed again: the checker annotates the
    syntax tree it checks, so a tree checked once must not be checked again (the
    first Spec would then see the second one's consts)."""
    try:
        return _spec(spec.source, check(parse(spec.source), overrides), overrides)
    except SpecError as err:
        raise _located(err, spec.source) from None


def _located(err: SpecError, source: Source) -> SpecError:
    """The error with the spec it points into, so that str() renders it in full."""
    if err.source is None:
        err.source = source
    return err


def _consts(consts: dict[str, int] | None) -> dict[str, int]:
    out = dict(consts or {})
    for k, v in out.items():
        if not isinstance(k, str) or not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"consts: {k!r}: {v!r} is not a name and an integer")
    return out


def _memory_limit(value: int | str | None) -> int | None:
    if value == "default":
        return limits.default_memory_limit()
    if isinstance(value, str):
        return limits.parse_size(value)  # ValueError with a message for a bad size
    return value


def _steps(result: Result, model: Model) -> tuple[list[TraceStep], list[TraceStep] | None]:
    """The trace (and a lasso's cycle) in the report's words, numbered on from 1."""
    if result.violation is None:
        return [], None
    from .report.text import Describer

    d = Describer(model)

    def convert(steps, prev, first: int) -> list[TraceStep]:
        out = []
        for i, (step, state) in enumerate(steps, first):
            changes = () if state is None else tuple(Change(*c) for c in d.changes(prev, state))
            out.append(TraceStep(index=i, label=d.headline(step), kind=step.kind,
                                 node=d.node(step.node) if step.node is not None else None, name=step.name,
                                 line=step.span.line if step.span is not None else None, changes=changes,
                                 error=result.violation.message if state is None else None))
            prev = state if state is not None else prev
        return out

    trace = convert(result.trace, result.initial, 1)
    cycle = None
    if result.cycle is not None:
        cycle = convert(result.cycle, result.trace[-1][1] if result.trace else result.initial, len(trace) + 1)
    return trace, cycle
