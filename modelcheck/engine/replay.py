"""`modelcheck replay SPEC TRACE.json`: re-execute a recorded counterexample.

A trace written by `verify --format json` / `--trace-out` names every step by what
it is (kind, node, handler or action, parameters, `any` choices, message, fault
detail) and records the state after it. Replay starts from the spec's initial state,
finds each recorded step among the successors, checks the state it reaches, and at
the end checks that the recorded violation still happens (for a liveness lasso: the
cycle closes, is fair, and the property's predicate behaves as recorded). When the
spec has changed, it names the first step that no longer applies and why, and for
an action or a delivery points at the `when` guard that is now false or the
`require` that now fails (`Outcome.blocked`, rendered like a compiler diagnostic).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .compiler import Ctx, Disabled
from .model import FAULT_KINDS, Model, State, _next_choices, fairness_key
from ..lang.diagnostics import Diagnostic
from ..lang.values import SpecRuntimeError
from ..report.text import IDENTITY_FIELDS, Describer, step_identity


class MalformedTrace(Exception):
    """The file is not a modelcheck trace (exit 2)."""


@dataclass
class Outcome:
    reproduces: bool
    lines: list[str] = field(default_factory=list)
    failed_step: int | None = None  # 1-based; 0 = the initial state
    # where a step that no longer applies is blocked: its false guard or failing require
    blocked: list[Diagnostic] = field(default_factory=list)


def load_trace(doc) -> dict:
    """Validate the shape of a result document; returns it. Raises MalformedTrace."""
    if not isinstance(doc, dict) or doc.get("format") != "modelcheck-result":
        raise MalformedTrace("not a modelcheck result (expected \"format\": \"modelcheck-result\")")
    if doc.get("version") != 1:
        raise MalformedTrace(f"unsupported version {doc.get('version')!r} (this modelcheck reads version 1)")
    if doc.get("verdict") != "violated" or not isinstance(doc.get("trace"), dict) \
            or not isinstance(doc.get("violation"), dict):
        raise MalformedTrace("the result has no counterexample to replay (verdict is "
                             f"{doc.get('verdict')!r})")
    trace = doc["trace"]
    steps = trace.get("steps")
    if not isinstance(steps, list) or not isinstance(trace.get("initial"), dict):
        raise MalformedTrace("trace.steps / trace.initial missing")
    cycle = trace.get("cycle") or []
    if not isinstance(cycle, list):
        raise MalformedTrace("trace.cycle is not a list of steps")
    for i, st in enumerate(steps + cycle, 1):
        if not isinstance(st, dict) or any(k not in st for k in IDENTITY_FIELDS + ("state",)):
            raise MalformedTrace(f"step {i} is missing one of {', '.join(IDENTITY_FIELDS)}, state")
    return doc


def replay(model: Model, doc: dict) -> Outcome:
    d = Describer(model)
    out = Outcome(True)
    trace = doc["trace"]
    stem, cycle = trace["steps"], trace.get("cycle")
    everything = stem + (cycle or [])
    cur = model.initial
    diff = _first_difference(trace["initial"], d.state_json(cur))
    if diff:
        return _diverged(out, 0, f"the initial state differs: {diff}")
    states = [cur]
    error = None
    for i, rec in enumerate(everything, 1):
        ident = {k: rec[k] for k in IDENTITY_FIELDS}
        cands = model.successors(cur)
        match = next((tr for tr in cands if step_identity(d, tr.step) == ident), None)
        if match is None:
            line = f"   [line {rec['line']}]" if isinstance(rec.get("line"), int) else ""
            out.lines.append(f"  {i:>3}. {rec.get('text', rec['kind'])}{line}   (recorded: no longer applies)")
            out.blocked = _blocked(model, d, cur, rec)
            return _diverged(out, i, f"step {i} ({rec.get('text', rec['kind'])}) no longer applies: "
                                     f"{_why_not(model, d, cur, rec)}")
        if rec["state"] is None:
            if match.error is None:
                return _diverged(out, i, f"step {i} ({rec.get('text')}) no longer fails "
                                         f"(recorded: {rec.get('error')})")
            error = match.error
            out.lines.append(f"  {i:>3}. {d.headline(match.step)}   ERROR: {error.message}")
            break
        if match.error is not None:
            return _diverged(out, i, f"step {i} ({rec.get('text')}) now fails: {match.error.message}")
        diff = _first_difference(rec["state"], d.state_json(match.state))
        if diff:
            return _diverged(out, i, f"step {i} ({rec.get('text')}) now leads to a different state: {diff}")
        marker = " (cycle)" if cycle and i > len(stem) else ""
        out.lines.append(f"  {i:>3}. {d.headline(match.step)}{marker}")
        cur = match.state
        states.append(cur)
    return _check_violation(model, doc, states, len(stem), error, out)


def _check_violation(model: Model, doc: dict, states: list[State], n_stem: int, error, out: Outcome) -> Outcome:
    v = doc["violation"]
    kind, name = v.get("kind"), v.get("name")
    last = states[-1]
    if kind in ("assert", "runtime_error") and error is not None:
        out.lines.append(f"Reproduced: {error.message}")
        return out
    if kind == "invariant":
        inv = next((i for i in model.invariants if i.name == name), None)
        if inv is None:
            return _diverged(out, None, f"the spec has no invariant '{name}' any more")
        if inv.holds(last):
            return _diverged(out, None, f"invariant '{name}' now holds in the last state")
        out.lines.append(f"Reproduced: invariant '{name}' is violated after step {len(states) - 1}, as recorded.")
        return out
    if kind == "property":
        return _check_lasso(model, doc, states, n_stem, out)
    return _diverged(out, None, f"the recorded {kind} did not happen")


def _check_lasso(model: Model, doc: dict, states: list[State], n_stem: int, out: Outcome) -> Outcome:
    v, trace = doc["violation"], doc["trace"]
    d = Describer(model)
    prop = next((p for p in model.properties if p.name == v["name"]), None)
    if prop is None:
        return _diverged(out, None, f"the spec has no property '{v['name']}' any more")
    inst = next((i for i in prop.instances
                 if {n: d.render.json(x, t) for n, x, t in i.binding} == (v.get("instance") or {})), None)
    if inst is None:
        return _diverged(out, None, f"property '{prop.name}' has no instance {v.get('instance')}")
    loop = states[n_stem:]
    q = [inst.q(s) for s in states]
    if prop.op == "always":
        if q[-1]:
            return _diverged(out, None, f"property '{prop.name}' now holds in the last state")
        out.lines.append(f"Reproduced: property '{prop.name}' is violated after step {len(states) - 1}.")
        return out
    cycle = trace.get("cycle")
    if cycle is None:
        raise MalformedTrace("a liveness violation needs trace.cycle")
    if loop[-1] != loop[0]:
        return _diverged(out, None, "the cycle no longer returns to where it started")
    if cycle:
        edges = _cycle_edges(model, d, loop, cycle)
        enabled = set.intersection(*(_units(model, s) for s in loop))
        taken = {fairness_key(st) for st in edges}
        if any(st.kind in FAULT_KINDS for st in edges):
            return _diverged(out, None, "the cycle contains a fault step")
        if not enabled <= taken:
            return _diverged(out, None, "the cycle is no longer fair: a step enabled throughout it is never taken")
    elif _units(model, loop[0]):
        return _diverged(out, None, "the last state is no longer stuck: some step is enabled there")
    if not all(model.settled(s) for s in loop):
        return _diverged(out, None, "the cycle breaks an 'eventually heal'/'eventually restart' assumption")
    if prop.op == "eventually":
        bad = [i for i, x in enumerate(q) if x]
    elif prop.op == "always_eventually":
        bad = [n_stem + i for i, x in enumerate(q[n_stem:]) if x]
    else:  # leads_to
        t = trace.get("trigger") or 0
        if not inst.p(states[t]):
            return _diverged(out, None, f"the left side of '{prop.name}' no longer holds after step {t}")
        bad = [i for i, x in enumerate(q) if x and i >= t]
    if bad:
        return _diverged(out, None, f"the awaited predicate of '{prop.name}' now holds after step {bad[0]}")
    out.lines.append(f"Reproduced: property '{prop.name}' is violated by the recorded lasso "
                     f"({n_stem} steps, then {'a ' + str(len(cycle)) + '-step cycle' if cycle else 'stuck'}).")
    return out


def _cycle_edges(model: Model, d: Describer, loop: list[State], cycle: list[dict]):
    steps = []
    for s, rec in zip(loop, cycle):
        ident = {k: rec[k] for k in IDENTITY_FIELDS}
        steps.append(next(tr.step for tr in model.successors(s) if step_identity(d, tr.step) == ident))
    return steps


def _units(model: Model, state: State) -> set:
    return {fairness_key(tr.step) for tr in model.successors(state) if tr.step.kind not in FAULT_KINDS}


def _diverged(out: Outcome, step: int | None, why: str) -> Outcome:
    out.reproduces = False
    out.failed_step = step
    out.lines.append(("Diverges: " if step is not None else "No longer violated: ") + why)
    return out


def _why_not(model: Model, d: Describer, state: State, rec: dict) -> str:
    """A short reason why a recorded step has no counterpart among the successors."""
    kind, node = rec["kind"], rec["node"]
    names = [d.node(n) for n in range(model.n_nodes)]
    if node is not None and node not in names:
        return f"the spec has no node {node} now"
    n = names.index(node) if node is not None else None
    if kind in ("deliver", "action") and not state.up[n]:
        return f"{node} is down"
    if kind in ("deliver", "action") and state.time and state.time[2][n]:
        return f"{node} is paused"
    if kind == "deliver":
        msg = rec["message"]
        in_flight = [d.message_json(m) for m in model.network.messages(state.net)]
        if msg not in in_flight:
            return f"{msg['kind']} from {msg['from']} to {msg['to']} is not in flight"
        src, dst = names.index(msg["from"]), names.index(msg["to"])
        if (src, dst) in state.cut:
            return f"the link {msg['from']} -> {msg['to']} is cut"
        role = model.checked.node_roles[n]
        if not any(h.decl.name == rec["name"] for h in model.handlers_by_kind[role.name].get(
                model.checked.messages[rec["name"]].index if rec["name"] in model.checked.messages else -1, ())):
            return f"role {role.name} has no handler 'on {rec['name']}' now"
        return f"no handler of {node} accepts it now (a 'when' guard is false or a 'require' fails)"
    if kind == "action":
        role = model.checked.node_roles[n]
        if not any(a.decl.name == rec["name"] for a in model.actions[role.name]):
            return f"role {role.name} has no action '{rec['name']}' now"
        return (f"its guard is false (or a 'require' fails) for {node} in this state"
                + (f", or the choice {rec['chosen']} is no longer possible" if rec["chosen"] else ""))
    if kind in FAULT_KINDS or kind == "tick":
        return "this environment step is not enabled now (no fault line allows it, its budget is spent, " \
               "or time cannot pass)"
    return "no step like it is enabled"


def _blocked(model: Model, d: Describer, state: State, rec: dict) -> list[Diagnostic]:
    """For a recorded action or delivery that no longer applies: the `when` guard
    that is false in `state`, or the `require` (or `let x = any` of an empty set)
    that fails, of each handler or action it could be, as diagnostics."""
    names = [d.node(n) for n in range(model.n_nodes)]
    if rec["kind"] not in ("deliver", "action") or rec["node"] not in names:
        return []
    n = names.index(rec["node"])
    if not state.up[n] or (state.time and state.time[2][n]):
        return []
    role = model.checked.node_roles[n]
    who = rec["node"]
    candidates = []  # (what, guard, guard expr, body, env, sender)
    if rec["kind"] == "action":
        for a in model.actions[role.name]:
            if a.decl.name != rec["name"]:
                continue
            for env, label in a.calls:
                if {p: d.render.json(v, t) for p, v, t in label[2]} == rec["params"]:
                    candidates.append((f"action '{a.decl.name}'", a.guard, a.decl.guard, a.body, env, None))
    else:
        msg = next((m for m in model.network.messages(state.net) if d.message_json(m) == rec["message"]), None)
        if msg is None:
            return []
        for h in model.handlers_by_kind[role.name].get(msg[2], ()):
            env = {p: v for p, v in zip(h.params, msg[3]) if p is not None}
            if h.sender:
                env[h.sender] = msg[0]
            candidates.append((f"handler 'on {h.decl.name}'", h.guard, h.decl.guard, h.body, env, msg[0]))
    out = []
    for what, guard, guard_expr, body, env, sender in candidates:
        clock = state.time[0] + state.time[1][n] if state.time else None

        def ctx(choices=None):
            return Ctx(vars=list(state.nodes[n]), ghosts=list(state.ghosts), env=dict(env), self_id=n,
                       sender=sender, nodes=state.nodes, up=state.up, choices=choices, clock=clock)
        try:
            if guard is not None and not guard(ctx()):
                out.append(Diagnostic("", f"the 'when' guard of {what} is false for {who} in this state",
                                      guard_expr.span, severity="diverges"))
                continue
            first = None  # the span of the first require that failed, over every `any` choice
            choices: list[int] | None = []
            while choices is not None:
                c = ctx(choices)
                try:
                    body(c)
                    first = None
                    break  # a run is enabled: the step differs in what it chose, not in a require
                except Disabled as err:
                    first = first or (err.args[0] if err.args else None)
                choices = _next_choices(c.choices, c.sizes)
            if first is not None:
                out.append(Diagnostic("", f"this fails for {who} in {what}, so the step is not enabled", first,
                                      severity="diverges"))
        except SpecRuntimeError:
            continue  # a run-time error is reported as such by the replay itself
    return out


def _first_difference(recorded, now, path: str = "") -> str | None:
    """The first place two JSON values differ, as 'path: recorded X, now Y'."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        for k in list(recorded) + [k for k in now if k not in recorded]:
            if k not in now:
                return f"{path}{k}: recorded, but no longer in the spec"
            if k not in recorded:
                return f"{path}{k}: new in the spec (value {now[k]!r})"
            sub = _first_difference(recorded[k], now[k], f"{path}{k}.")
            if sub:
                return sub
        return None
    if recorded != now:
        return f"{path.rstrip('.')}: recorded {recorded!r}, now {now!r}"
    return None
