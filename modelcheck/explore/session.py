"""The explorer's model: paths through a spec's states, named by successor indices.

Why: the page is stateless. A path is the list of the choices made from the initial
state, each the index of a transition in `Model.successors` (the fixed, deterministic
order `verify` and `replay` use), so a URL holding `3.0.5` names the same states on any
machine with the same spec and consts, and every answer is recomputed from the path
by the engine itself: there is no second semantics to drift from `verify`. Labels
are the text report's (`Describer.headline`); a trace file (JSON or ITF, `--trace`)
and `verify`'s counterexample become paths by finding each recorded step among the
successors by its identity (`report.text.step_identity`, what `replay` matches on);
a path exports as the JSON result `verify --trace-out` writes, which `replay` re-runs.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .. import api
from ..engine.invariants import check_state, runtime_violation
from ..engine.model import Model, State, Step, Transition
from ..engine.result import Result, Stats, Violation
from ..lang.values import SpecRuntimeError
from ..report.text import IDENTITY_FIELDS, Describer, render_json, step_identity, _grouped_sends

MAX_PATH = 5000  # steps in one path (a URL, a trace): far past any counterexample worth stepping through
_CACHE = 4096  # states whose successors are kept


class PathError(ValueError):
    """A path that does not fit the model (an index past the enabled steps...)."""


@dataclass
class Walk:
    """A path taken from the initial state: its steps and the states they reach."""

    indices: list[int]
    steps: list[Step] = field(default_factory=list)
    states: list[State] = field(default_factory=list)  # states[0] is the initial state; one per step after
    error: SpecRuntimeError | None = None  # the last step raised this (it reaches no state)


@dataclass
class Session:
    """One spec explored: the model stepped through and how it was built."""

    spec: api.Spec
    model: Model
    scenario: str | None = None
    no_faults: bool = False
    trace_path: list[int] | None = None  # the --trace file as a path, when given
    trace_note: str | None = None  # why the --trace file's path stops early, if it does

    def __post_init__(self) -> None:
        self.d = Describer(self.model)
        self._lock = threading.Lock()  # the model's memo tables are not shared across threads
        self._succ: dict[State, list[Transition]] = {}

    @classmethod
    def open(cls, spec: api.Spec, scenario: str | None = None, no_faults: bool = False) -> "Session":
        """The model `verify` builds for these options, without its search reductions
        (every fault line, every message kept): what the spec allows, step by step."""
        return cls(spec, api.build_model(spec, no_faults=no_faults, scenario=scenario), scenario, no_faults)

    # ---- paths ----
    def successors(self, state: State) -> list[Transition]:
        with self._lock:
            out = self._succ.get(state)
            if out is None:
                if len(self._succ) >= _CACHE:
                    self._succ.clear()
                out = self._succ[state] = self.model.successors(state)
            return out

    def walk(self, indices: list[int]) -> Walk:
        if len(indices) > MAX_PATH:
            raise PathError(f"the path has {len(indices):,} steps; at most {MAX_PATH:,}")
        w = Walk(list(indices), states=[self.model.initial])
        for k, i in enumerate(indices, 1):
            if w.error is not None:
                raise PathError(f"step {k - 1} of the path ended in a run-time error: no step follows it")
            options = self.successors(w.states[-1])
            if not 0 <= i < len(options):
                raise PathError(f"step {k} of the path is choice {i}, but only {len(options)} step"
                                f"{'s are' if len(options) != 1 else ' is'} enabled there")
            tr = options[i]
            w.steps.append(tr.step)
            if tr.state is None:
                w.error = tr.error
            else:
                w.states.append(tr.state)
        return w

    def find(self, identities: list[dict], start: list[int] | None = None) -> tuple[list[int], str | None]:
        """The path taking these recorded steps (JSON step identities) in turn, and
        why it stops early (a step no longer enabled) or None."""
        from ..engine.replay import _why_not
        path = list(start or [])
        state = self.walk(path).states[-1]
        for k, rec in enumerate(identities, 1):
            ident = {f: rec.get(f) for f in IDENTITY_FIELDS}
            options = self.successors(state)
            i = next((i for i, tr in enumerate(options) if step_identity(self.d, tr.step) == ident), None)
            if i is None:
                text = rec.get("text") or rec.get("kind")
                return path, f"step {k} ({text}) is not enabled here: {_why_not(self.model, self.d, state, ident)}"
            path.append(i)
            if options[i].state is None:
                return path, None if k == len(identities) else f"step {k} ends in a run-time error"
            state = options[i].state
        return path, None

    def path_of_result(self, result: Result, model: Model) -> tuple[list[int], str | None]:
        """A counterexample of `verify` (found on `model`, maybe with reductions) as a
        path of this session's model: its stem, then its cycle once."""
        d = Describer(model)
        steps = [s for s, _ in result.trace] + [s for s, _ in (result.cycle or ())]
        return self.find([step_identity(d, s) | {"text": d.headline(s)} for s in steps])

    # ---- what the page shows ----
    def violations(self, w: Walk) -> list[Violation]:
        """What the end of the walk breaks, as `verify` says it: the run-time error of
        its last step, or every invariant that is false in its last state."""
        if w.error is not None:
            return [runtime_violation(w.error)]
        with self._lock:
            return check_state(self.model, w.states[-1], collect=True, memo=False)

    def step_json(self, step: Step, error=None) -> dict:
        d = self.d
        return {"label": d.headline(step), "kind": step.kind,
                "line": step.span.line if step.span is not None and step.span.line else None,
                "node": d.node(step.node) if step.node is not None else None,
                "chosen": [f"{n} = {d.render.text(v, t)}" for n, v, t in step.chosen],
                "sends": [f"{text} to {', '.join(dests)}" for text, dests in _grouped_sends(d, step.sent)],
                "error": error.message if error is not None else None}

    def state_json(self, state: State, before: State | None) -> dict:
        """Every part of a state, values as the spec writes them; `changed` marks what
        the step into it changed (the text report's change list)."""
        d, c, m = self.d, self.model.checked, self.model
        changed = {what for what, _, _ in d.changes(before, state)} if before is not None else set()
        nodes = []
        for n, role in enumerate(c.node_roles):
            name = d.node(n)
            paused = state.time[2][n] if state.time else 0
            nodes.append({"name": name, "role": role.name, "up": state.up[n], "paused": paused,
                          "status_changed": f"{name} status" in changed,
                          "vars": [{"name": v.name, "value": d.render.text(state.nodes[n][v.index], v.type),
                                    "persistent": v.persistent, "changed": f"{name}.{v.name}" in changed}
                                   for v in role.vars]})
        messages = [{"text": d.message(msg), "from": d.node(msg[0]), "to": d.node(msg[1]),
                     "blocked": (msg[0], msg[1]) in state.cut, "age": msg[4] if len(msg) > 4 else None}
                    for msg in m.network.messages(state.net)]
        budgets = [{"line": label, "left": left} for label, left in d.state_json(state)["budgets"].items()]
        time = None
        if state.time:
            now, offsets, _ = state.time
            time = {"now": now, "clocks": None if offsets is None else
                    {d.node(n): now + o for n, o in enumerate(offsets)}}
        return {"nodes": nodes,
                "ghosts": [{"name": g.name, "value": d.render.text(state.ghosts[g.index], g.type),
                            "changed": f"ghost {g.name}" in changed} for g in c.ghosts],
                "in_flight": messages, "delivery": c.delivery,
                "cut_links": [f"{d.node(a)} -> {d.node(b)}" for a, b in sorted(state.cut)],
                "cut_changed": "cut links" in changed, "budgets": budgets, "time": time}

    def view(self, indices: list[int], at: int | None = None) -> dict:
        """Everything the page shows for the path, standing after its first `at` steps."""
        whole = self.walk(indices)
        at = len(indices) if at is None else at
        if not 0 <= at <= len(indices):
            raise PathError(f"position {at} is outside the path (0 to {len(indices)})")
        w = self.walk(indices[:at])
        here = w.states[-1]
        before = w.states[-2] if at and w.error is None and len(w.states) > 1 else None
        failing = {v.name: v for v in self.violations(w) if v.name}
        m = self.model
        invariants = [{"name": inv.name, "line": inv.decl.span.line, "holds": inv.name not in failing,
                       "error": failing[inv.name].message if inv.name in failing and
                       failing[inv.name].kind == "runtime_error" else None}
                      for inv in m.invariants]
        enabled = [] if w.error is not None else [
            {"index": i, **self.step_json(tr.step, tr.error)} for i, tr in enumerate(self.successors(here))]
        steps = []
        for k, step in enumerate(whole.steps):
            err = whole.error if k == len(whole.steps) - 1 else None
            steps.append({"choice": indices[k], **self.step_json(step, err)})
        export = self.exportable(w)
        return {"path": indices, "at": at, "steps": steps,
                "state": self.state_json(here, before),
                "error": {"step": at, "message": w.error.message} if w.error is not None else None,
                "enabled": enabled, "invariants": invariants,
                "properties": [p.name for p in m.properties],
                "export": {"ok": export is None, "why": export}}

    # ---- export ----
    def exportable(self, w: Walk) -> str | None:
        """None when the walk ends in a violation (a trace `replay` reproduces), else why not."""
        if self.violations(w):
            return None
        return ("the last state breaks no invariant, and a trace file records a counterexample that replay "
                "checks; take steps until an invariant turns red (the page's URL keeps any path)")

    def export(self, indices: list[int]) -> dict:
        """The path as `verify --trace-out` writes a counterexample: the JSON result
        (docs/json-format.md) that `modelcheck replay SPEC FILE` re-runs."""
        w = self.walk(indices)
        why = self.exportable(w)
        if why is not None:
            raise PathError(why)
        violation = self.violations(w)[0]  # the first in declaration order, as verify reports it
        trace = list(zip(w.steps, w.states[1:])) + ([(w.steps[-1], None)] if w.error is not None else [])
        result = Result("violated", Stats(depth=len(w.steps)), self.model.initial, trace, violation,
                        invariants=[i.name for i in self.model.invariants],
                        properties=[p.name for p in self.model.properties],
                        notes=["a path built by hand in `modelcheck explore`"])
        options = {"consts": self.spec.checked.consts, "invariants": None, "properties": None,
                   "max_states": None, "max_depth": None, "timeout": None, "no_faults": self.no_faults,
                   "scenario": self.scenario, "symmetry": False, "prune": False, "fingerprints": False,
                   # every fault line and message kept: replay re-runs it on this same model
                   "keep_partitions": True, "keep_dead_messages": True}
        return render_json(result, self.model, self.spec.source, options)

    def diagram(self, indices: list[int], width: float | None = None):
        """The path as the HTML report draws a trace (report.diagram.render_diagram):
        a `Diagram` (svg, css, script); red at the end when the last state breaks an
        invariant. `width`: the room on the page, in px."""
        from ..report.diagram import WIDTH, render_diagram
        w = self.walk(indices)
        trace = list(zip(w.steps, w.states[1:])) + ([(w.steps[-1], None)] if w.error is not None else [])
        found = self.violations(w)
        result = Result("violated" if found else "holds", Stats(depth=len(w.steps)), self.model.initial, trace,
                        found[0] if found else None)
        with self._lock:
            return render_diagram(result, self.model, self.spec.source, width or WIDTH)
