"""`modelcheck simulate`: random walks for models too large to exhaust.

Each run starts in the initial state and takes random enabled steps up to a depth,
checking invariants, asserts and run-time errors on the way, like `verify` does.
Runs are swarm-style (Groce et al., "Swarm Testing"): each run switches off a random
subset of the spec's handlers, actions and fault kinds, so that rare combinations
(a node that never sends heartbeats, a network that only loses) get explored too.
Everything is drawn from one `random.Random(seed)`, and successors come in the
model's fixed order, so a seed always gives the same runs and the same report.

The shortest violation over all runs is reported as a normal counterexample (loops
in the walk cut out), so `replay` and the text/JSON reports work on it unchanged.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from .invariants import check_state, runtime_violation
from .result import Result, Stats, Violation
from ..limits import Budget, MemoryGuard, StopSearch
from .model import FAULT_KINDS, Model
from .parallel.local import LocalPool, WorkerLost, WorkerOutOfMemory, available
from .stable import mix


@dataclass
class SimOptions:
    runs: int = 1000
    depth: int = 100
    seed: int = 0
    swarm: bool = True
    timeout: float | None = None
    memory_limit: int | None = None  # bytes of resident memory (limits.MemoryGuard); None: ulimit -v only
    shrink: bool = True  # shrink the shortest violation found (engine/shrink.py)
    workers: int = 1  # forked processes sharing each round's runs (the same report with any number)


@dataclass
class SimReport:
    result: Result  # verdict "violated" with the shortest trace, or "holds" (= nothing found)
    runs: int = 0
    steps: int = 0
    seconds: float = 0.0
    first_found_in_run: int | None = None
    never_taken: list[str] = field(default_factory=list)  # handlers/actions/faults no run took
    stop_reason: str | None = None  # timeout, interrupted (Ctrl-C, SIGTERM), memory (MemoryError)
    # Runs that ended in a state where no step is enabled (a deadlock, or a protocol
    # that has finished), before --depth; `initial_deadlock`: no step is enabled in
    # the initial state at all (a spec without actions, handlers or faults that can
    # run), so every run is that one state.
    deadlocks: int = 0
    longest_deadlock_run: int = 0  # steps of the longest run that ended in a deadlock
    initial_deadlock: bool = False
    notes: list[str] = field(default_factory=list)  # sentences for the text report (notes())
    # The violation's trace before shrinking (engine/shrink.py; loops already cut out),
    # in steps, and whether shrinking reached its fixed point; None: nothing shrunk.
    shrunk_from: int | None = None
    shrink_complete: bool = True


def _feature(model: Model, step) -> str:
    """The spec element a step exercises, for swarm switches and coverage."""
    if step.kind == "deliver":
        return f"{model.checked.node_roles[step.node].name}: on {step.name}"
    if step.kind == "action":
        return f"{model.checked.node_roles[step.node].name}: action {step.name}"
    if step.kind in FAULT_KINDS:
        return f"fault: {step.kind}"
    return step.kind  # tick


def all_features(model: Model) -> list[str]:
    out = []
    for r in model.checked.roles:
        out += [f"{r.name}: on {h.name}" for h in r.decl.handlers]
        out += [f"{r.name}: action {a.name}" for a in r.decl.actions]
    out += sorted({f"fault: {f.kind}" for f in model.faults})
    return out


# Runs between two updates of the length bound (a run after a violation is found
# walks at most one step less than the shortest so far): the runs of a round are
# shared out between the workers, and their results merged in run order, so the
# report depends on this number but not on how many workers there are.
ROUND = 256


@dataclass
class Walk:
    """What one run did (`_walk`)."""

    run: int
    steps: int  # steps taken
    taken: set  # features its steps exercised
    seen: set  # hashes of the states it visited (Python's hash: the workers are forked, same seed)
    length: int  # steps of the walk
    deadlock: bool  # it ended in a state where no step is enabled
    found: tuple | None = None  # (trace with loops cut out, violation)


def _walk(model: Model, opts: SimOptions, features: list, run: int, limit: int, budget: Budget) -> Walk:
    """Run number `run`: its own random stream (from the seed and the run's number,
    so a run is the same whichever process takes it), its swarm switches, then at
    most `limit` random enabled steps, stopping at the first violation."""
    rng = random.Random(_run_seed(opts.seed, run))
    off = set()
    if opts.swarm and run > 1 and features:  # run 1 uses everything
        off = {f for f in features if rng.random() < 0.5}
        if len(off) == len(features):
            off.discard(rng.choice(features))
    state = model.initial
    out = Walk(run, 0, set(), set(), 0, False)
    walk: list = []
    for _ in range(limit):
        budget.tick()
        trs = model.successors(state)
        allowed = [tr for tr in trs if _feature(model, tr.step) not in off] or trs
        if not allowed:  # deadlock: nothing can happen
            out.deadlock = True
            break
        tr = allowed[rng.randrange(len(allowed))]
        out.steps += 1
        out.taken.add(_feature(model, tr.step))
        walk.append((tr.step, tr.state))
        if tr.error is not None:
            out.found = (_cut_loops(walk, model.initial), runtime_violation(tr.error))
            break
        state = tr.state
        out.seen.add(hash(state))
        bad = check_state(model, state, False)
        if bad:
            out.found = (_cut_loops(walk, model.initial), bad[0])
            break
    out.length = len(walk)
    return out


def _run_seed(seed: int, run: int) -> int:
    return mix(mix(seed & ((1 << 64) - 1)) ^ run)


class _Runner:
    """Runs walks for `simulate`, in this process or as one of its forked workers."""

    def __init__(self, model: Model, opts: SimOptions, features: list, deadline: float | None, guard: MemoryGuard):
        self.model, self.opts, self.features = model, opts, features
        self.budget = Budget(deadline, guard, every=256)  # a long walk can outlast the --timeout

    def walks(self, runs: list[int], limit: int) -> tuple[list[Walk], str | None]:
        """The runs in order, until the budget stops one: (walks done, stop reason)."""
        out = []
        try:
            for run in runs:
                out.append(_walk(self.model, self.opts, self.features, run, limit, self.budget))
        except StopSearch as stop:
            return out, stop.reason
        return out, None


def simulate(model: Model, opts: SimOptions) -> SimReport:
    start = time.monotonic()
    features = all_features(model)
    taken: set[str] = set()
    seen = {hash(model.initial)}
    best: tuple[list, Violation] | None = None
    report = SimReport(Result("holds", Stats(), model.initial))
    init_bad = check_state(model, model.initial, False)
    if init_bad:
        best = ([], init_bad[0])
        report.first_found_in_run = 0
    max_depth = 0
    n_seen = None  # set when `seen` was freed to recover from a MemoryError
    guard = MemoryGuard(opts.memory_limit)
    deadline = start + opts.timeout if opts.timeout is not None else None
    runner = _Runner(model, opts, features, deadline, guard)
    pool, n = None, 1
    if opts.workers > 1:
        if available():
            n = opts.workers
            share = MemoryGuard(opts.memory_limit // n if opts.memory_limit else None)
            pool = LocalPool(n, lambda wid: _Runner(model, opts, features, deadline, share))
    try:
        for first in range(1, opts.runs + 1, ROUND):
            if best is not None and not best[0]:
                break
            if deadline is not None and time.monotonic() > deadline:
                report.stop_reason = "timeout"
                break
            if guard.exceeded():  # the distinct states seen grow with the runs
                report.stop_reason = "memory"
                break
            runs = list(range(first, min(first + ROUND, opts.runs + 1)))
            limit = opts.depth if best is None else min(opts.depth, len(best[0]) - 1)
            if pool is None:
                done, stop = runner.walks(runs, limit)
            else:
                replies = pool.call_all("walks", [(runs[w::n], limit) for w in range(n)])
                done = sorted((w for ws, _ in replies for w in ws), key=lambda w: w.run)
                stop = next((r for _, r in replies if r is not None), None)
                if stop is not None:  # keep the runs up to the first one missing
                    ran = {w.run for w in done}
                    k = next((i for i, r in enumerate(runs) if r not in ran), len(runs))
                    done = done[:k]
            for w in done:
                report.runs = w.run
                report.steps += w.steps
                taken |= w.taken
                seen |= w.seen
                max_depth = max(max_depth, w.length)
                if w.deadlock:
                    report.deadlocks += 1
                    report.longest_deadlock_run = max(report.longest_deadlock_run, w.length)
                if w.found is not None:
                    if best is None:
                        report.first_found_in_run = w.run
                    if best is None or len(w.found[0]) < len(best[0]):
                        best = w.found
            if stop is not None:
                report.stop_reason = stop
                break
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (limits.Terminated): report what the runs found
        report.stop_reason = "interrupted"
        if pool is not None:
            pool.kill()
            pool = None
    except MemoryError:
        n_seen = len(seen)
        seen.clear()
        report.stop_reason = "memory"
    except (WorkerLost, WorkerOutOfMemory) as err:  # a worker's MemoryError, or a worker killed
        report.stop_reason = "memory" if isinstance(err, WorkerOutOfMemory) else "worker-lost"
        pool.kill()
        pool = None
    finally:
        if pool is not None:
            pool.close()
    if best is not None and len(best[0]) > 1 and opts.shrink and report.stop_reason != "interrupted":
        best = _shrink(model, best, report, start, opts)
    report.seconds = time.monotonic() - start
    stats = Stats(len(seen) if n_seen is None else n_seen, report.steps, max_depth, report.seconds)
    if best is not None:
        trace, violation = best
        report.result = Result("violated", stats, model.initial, trace=trace, violation=violation,
                               invariants=[i.name for i in model.invariants])
    else:
        report.result = Result("holds", stats, model.initial, invariants=[i.name for i in model.invariants])
    report.never_taken = [f for f in features if f not in taken]
    report.initial_deadlock = not model.successors(model.initial)
    report.notes = notes(report)
    return report


def notes(report: SimReport) -> list[str]:
    """What the text report should add about runs that stopped because nothing could
    happen: a model with no step at all in its initial state, or deadlocks."""
    if report.initial_deadlock:
        checked = ("it violates an invariant" if report.result.violation is not None
                   else "its invariants hold")
        return ["No step is enabled in the initial state: every run deadlocks at once, so only the initial "
                f"state was checked ({checked}). Does the spec have an action, a handler or a fault that can run?"]
    if report.runs and report.deadlocks == report.runs:
        return [f"Every run ended in a state where no step is enabled (a deadlock, or the protocol finished), "
                f"after at most {report.longest_deadlock_run:,} steps."]
    if report.deadlocks:
        return [f"{report.deadlocks:,} of {report.runs:,} runs ended in a state where no step is enabled "
                "(a deadlock, or the protocol finished)."]
    return []


def _shrink(model: Model, best: tuple, report: SimReport, start: float, opts: SimOptions) -> tuple:
    """The shortest variant of the best trace that shrinking finds (engine/shrink.py),
    within its own time budget but not past the --timeout (at least a second)."""
    from . import shrink
    now = time.monotonic()
    deadline = now + shrink.MAX_SECONDS
    if opts.timeout is not None:
        deadline = min(deadline, max(start + opts.timeout, now + 1.0))
    out = shrink.shrink(model, best[0], best[1], deadline=deadline)
    report.shrink_complete = out.complete
    if len(out.trace) < len(best[0]):
        report.shrunk_from = len(best[0])
        return _cut_loops(out.trace, model.initial), out.violation
    return best


def _cut_loops(walk: list, initial) -> list:
    """Drop every stretch of the walk that returns to a state it had already visited:
    the remaining steps still lead from the initial state to the same last state."""
    out: list = []
    index: dict = {initial: -1}
    for step, state in walk:
        if state is not None and state in index:
            del out[index[state] + 1:]
            index = {initial: -1, **{s: i for i, (_, s) in enumerate(out)}}
            continue
        out.append((step, state))
        if state is not None:
            index[state] = len(out) - 1
    return out
