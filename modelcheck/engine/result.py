"""What a search returns: the verdict, its counterexample (a trace, and for a
liveness property the cycle that repeats), the counts, and why it stopped early.

These types are shared by everything that makes or reads a result: the explorer,
the simulator and the prover make them; the reports (text, JSON, Mermaid, DOT,
HTML), the matrix and replay read them. They live apart from the explorer so a
reader does not import the search.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .liveness import Graph
from .model import State, Step

# A counterexample's steps from the initial state, each with the state it reaches
# (None: the step raised a run-time error, and the trace ends there).
Trace = list[tuple[Step, State | None]]
# A liveness lasso's steps that repeat forever after the trace.
Cycle = list[tuple[Step, State]]


@dataclass
class Violation:
    kind: str  # "invariant" | "property" | "assert" | "runtime_error"
    name: str | None  # the invariant's or property's name
    message: str
    span: object  # where in the spec: the invariant, property, assert or failing expression
    in_invariant: bool = False  # a runtime error raised while evaluating an invariant or property
    binding: tuple = ()  # a quantified property's instance: ((var, value, type), ...)


@dataclass
class Finding:
    """One counterexample: a violation and the steps that lead to it.

    For a property, `cycle` holds the steps that repeat forever after `trace`
    (empty with `stutters`: the last state has no non-fault step enabled), and
    `trigger` (leads_to) how many steps of `trace` lead to the state where the
    left side holds."""

    violation: Violation
    trace: Trace = field(default_factory=list)
    cycle: Cycle | None = None  # for a liveness lasso
    trigger: int | None = None

    @property
    def length(self) -> int:
        return len(self.trace) + len(self.cycle or ())


@dataclass
class Extreme:
    """One end of a measure's range (engine/measures.py): the value and a shortest trace to a state with it
    (None when the trace could not be rebuilt: the visited set was freed after a
    MemoryError)."""

    value: int
    trace: Trace | None = None


@dataclass
class MeasureResult:
    """A measure over the states a search visited. `complete`: the search visited every
    reachable state, so `min` and `max` are the measure's true range; otherwise they
    are the extremes seen so far. `min`/`max` are None only when no state was seen."""

    name: str
    min: Extreme | None
    max: Extreme | None
    complete: bool


@dataclass
class Stats:
    distinct_states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    # Sleep-set pruning (Options.prune): transitions not taken because another order
    # of independent steps already reached their target; None when pruning was off.
    pruned_transitions: int | None = None
    revisits: int = 0  # states expanded again by the revisit rule (see reduction.py)
    # With symmetry: the states the search without it would visit, from the orbit
    # size of each stored state (explorer._orbits_start); None when not known.
    states_without_symmetry: int | None = None
    # A search stopped early: the states found but not yet expanded (their successors
    # were never looked at); None for a complete search.
    frontier: int | None = None
    # The parallel search (Options.workers > 1): per worker, [states it owns,
    # candidates of the level in progress, states it handed to other workers,
    # states it was handed, bytes it sent, its fingerprints on disk]; None in one process.
    workers: list | None = None
    # --fingerprints: the fingerprints that went to disk when the table reached its
    # memory budget (engine/visited.py); None when none did.
    fingerprints_on_disk: int | None = None

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else float(self.distinct_states)


@dataclass
class Pruning:
    """What the state-saving reductions left out of one search (modelcheck/prune,
    docs/language.md "Pruning"). Each part says what it removed, or why it removed
    nothing although it could have applied."""

    # Fault lines not explored (their summaries, `partition at most 1`), and why
    # that is sound; or, when the spec has such lines, why they were explored.
    skipped_faults: list[str] = field(default_factory=list)
    partitions_why: str | None = None
    partitions_kept: str | None = None
    # Dead-message collection: one rule per collected message kind and role
    # ("Vote to Server when t < term"), or why nothing is collected.
    dead_rules: list[str] = field(default_factory=list)
    dead_kept: str | None = None


@dataclass
class Result:
    verdict: str  # "holds" | "violated" | "incomplete"
    stats: Stats
    initial: State
    trace: Trace = field(default_factory=list)
    violation: Violation | None = None
    # for "incomplete": max-states, max-depth, timeout, memory, interrupted, worker-lost
    stop_reason: str | None = None
    invariants: list[str] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    cycle: Cycle | None = None  # liveness lasso: the steps that repeat forever after `trace`
    trigger: int | None = None  # leads_to: steps of `trace` up to the state where the left side holds
    # collect_all mode: the first finding per invariant/property name ("" = assert or
    # run-time error), in the order found
    findings: dict[str, Finding] = field(default_factory=dict)
    graph: Graph | None = None  # with Options.record_graph
    symmetric_roles: list[str] = field(default_factory=list)  # roles reduced by symmetry
    # With fingerprints: the probability that two of the visited states shared a
    # fingerprint (so one was never explored), by the birthday bound n^2 / 2^65.
    collision_probability: float | None = None
    # Options asked for that could not be honoured, and why (shown in the report header)
    notes: list[str] = field(default_factory=list)
    pruning: Pruning | None = None  # what the state-saving reductions left out
    # The model the search explored when a reduction changed it (fault lines left
    # out, dead messages dropped): its states are what the trace holds, so reports
    # render the trace with it. None: the model given.
    searched: object = None
    # A search stopped early: what still grew at every one of its last levels (message
    # kinds in flight, variables taking new values; engine/growth.py), oldest first.
    growth: list = field(default_factory=list)
    # The spec's measures (engine/measures.py), in declaration order; [] without any.
    measures: list[MeasureResult] = field(default_factory=list)
