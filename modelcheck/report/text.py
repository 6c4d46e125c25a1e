"""Render a `Result` as text for people or as versioned JSON for tools.

Renderers read only the result, the model's names and types, and the source;
they never explore. The JSON schema is documented in docs/json-format.md; bump
`JSON_VERSION` on any incompatible change.
"""
from __future__ import annotations

from ..faults import KINDS
from ..lang.diagnostics import Source, render
from .explain import explain_violation
from ..engine.result import Result
from ..engine.model import Model, State, Step

JSON_VERSION = 1


class Describer:
    """Turns steps, messages and state differences into the spec's own words."""

    def __init__(self, model: Model):
        self.model = model
        self.render = model.render
        c = model.checked
        self.messages = sorted(c.messages.values(), key=lambda m: m.index)
        self.node = self.render.node

    # ---- pieces ----
    def message(self, msg: tuple) -> str:
        kind, payload = msg[2], msg[3]
        info = self.messages[kind]
        fields = ", ".join(f"{n}={self.render.text(v, t)}" for (n, t), v in zip(info.fields, payload))
        return f"{info.name}({fields})"

    def message_json(self, msg: tuple) -> dict:
        src, dst, kind, payload = msg[:4]
        info = self.messages[kind]
        out = {"kind": info.name, "from": self.node(src), "to": self.node(dst),
               "fields": {n: self.render.json(v, t) for (n, t), v in zip(info.fields, payload)}}
        if len(msg) > 4:
            out["age"] = msg[4]  # ticks in flight (time block with `delivery within`)
        return out

    def nodes(self, ids) -> str:
        return "{" + ", ".join(self.node(n) for n in ids) + "}"

    def headline(self, step: Step) -> str:
        k, who = step.kind, self.node(step.node) if step.node is not None else ""
        if k == "deliver":
            return f"{who} receives {self.message(step.message)} from {self.node(step.message[0])}"
        if k == "action":
            params = ", ".join(f"{n}={self.render.text(v, t)}" for n, v, t in step.params)
            return f"{who} does {step.name}" + (f"({params})" if step.params else "")
        fault = KINDS.get(k)
        if fault is not None:
            return fault.headline(self, step)
        if k == "tick":
            return f"time passes: now = {step.detail}"
        if k == "clocks":
            skews = ", ".join(f"{self.node(n)} {o:+d}" for n, o in enumerate(step.detail) if o)
            return "clocks start: " + (f"{skews} (offset from true time)" if skews else "every clock reads true time")
        return k

    def changes(self, before: State, after: State) -> list[tuple[str, str, str]]:
        """(what, old, new) for every variable, status and link that differs."""
        out = []
        c = self.model.checked
        for n, role in enumerate(c.node_roles):
            if before.up[n] != after.up[n]:
                out.append((f"{self.node(n)} status", _updown(before.up[n]), _updown(after.up[n])))
            for v in role.vars:
                a, b = before.nodes[n][v.index], after.nodes[n][v.index]
                if a != b:
                    out.append((f"{self.node(n)}.{v.name}", self.render.text(a, v.type), self.render.text(b, v.type)))
        for g in c.ghosts:
            a, b = before.ghosts[g.index], after.ghosts[g.index]
            if a != b:
                out.append((f"ghost {g.name}", self.render.text(a, g.type), self.render.text(b, g.type)))
        if before.cut != after.cut:
            out.append(("cut links", self.links(before.cut), self.links(after.cut)))
        if before.time and after.time:
            if before.time[0] != after.time[0]:
                out.append(("now", str(before.time[0]), str(after.time[0])))
            for n, (a, b) in enumerate(zip(before.time[2], after.time[2])):
                if a != b:
                    out.append((f"{self.node(n)} paused", _ticks(a), _ticks(b)))
        return out

    def links(self, cut) -> str:
        if not cut:
            return "none"
        return ", ".join(f"{self.node(a)}->{self.node(b)}" for a, b in sorted(cut))

    def state_lines(self, state: State) -> list[str]:
        c = self.model.checked
        out = []
        for n, role in enumerate(c.node_roles):
            vals = ", ".join(f"{v.name}={self.render.text(state.nodes[n][v.index], v.type)}" for v in role.vars)
            status = "" if state.up[n] else "  [down]"
            out.append(f"{self.node(n)}: {vals or '(no variables)'}{status}")
        for g in c.ghosts:
            out.append(f"ghost {g.name} = {self.render.text(state.ghosts[g.index], g.type)}")
        if state.time:
            now, offsets, _ = state.time
            clocks = "" if offsets is None else "; clocks " + ", ".join(
                f"{self.node(n)}={now + o}" for n, o in enumerate(offsets))
            out.append(f"time: now={now}{clocks}")
        return out

    def state_json(self, state: State) -> dict:
        c = self.model.checked
        return {
            "nodes": {self.node(n): {"up": state.up[n],
                                     "vars": {v.name: self.render.json(state.nodes[n][v.index], v.type)
                                              for v in role.vars}}
                      for n, role in enumerate(c.node_roles)},
            "ghosts": {g.name: self.render.json(state.ghosts[g.index], g.type) for g in c.ghosts},
            "in_flight": [self.message_json(m) for m in self.model.network.messages(state.net)],
            "cut_links": [[self.node(a), self.node(b)] for a, b in sorted(state.cut)],
            "budgets": {self._fault_label(i): state.budgets[slot]
                        for i, slot in sorted(self.model.budget_slot.items())},
            "time": None if not state.time else {
                "now": state.time[0],
                "clock_offsets": None if state.time[1] is None else {
                    self.node(n): o for n, o in enumerate(state.time[1])},
                "paused": {self.node(n): p for n, p in enumerate(state.time[2]) if p}},
        }

    def budgets_text(self, state: State) -> str:
        """What each bounded fault line has left: "crash: 1 left, loss: 0 left". Lines
        are named by their kind; by kind and role, then also by line, when that alone
        would name two lines alike."""
        faults, slots = self.model.faults, sorted(self.model.budget_slot.items(), key=lambda kv: kv[1])

        def name(f, level: int) -> str:
            return (f.kind + (f" {f.role}" if level >= 1 and f.role else "")
                    + (f" (line {f.span.line})" if level >= 2 else ""))
        level = 0
        while level < 2 and len({name(faults[i], level) for i, _ in slots}) < len(slots):
            level += 1
        return ", ".join(f"{name(faults[i], level)}: {state.budgets[slot]} left" for i, slot in slots)

    def _fault_label(self, i: int) -> str:
        f = self.model.faults[i]
        return f"{f.kind}" + (f" {f.role}" if f.role else "") + f" (line {f.span.line})"


def _ticks(n: int) -> str:
    return f"{n} tick{'s' if n != 1 else ''} left" if n else "running"


def _updown(up: bool) -> str:
    return "up" if up else "down"


def summary_line(result: Result, paint=None) -> str:
    """The last line of a run; `paint` (modelcheck/style.py) colours the verdict."""
    s = result.stats
    verdict = {"holds": "HOLDS", "violated": "VIOLATED", "incomplete": "INCOMPLETE"}[result.verdict]
    if paint is not None:
        verdict = paint(result.verdict, verdict)
    extra = f" ({result.stop_reason})" if result.stop_reason else ""
    pruned = f" (+{s.pruned_transitions:,} pruned)" if s.pruned_transitions else ""
    unreduced = ""
    if s.states_without_symmetry is not None and s.states_without_symmetry != s.distinct_states:
        unreduced = f" ({s.states_without_symmetry:,} without symmetry)"
    return (f"Result: {verdict}{extra} · {s.distinct_states:,} distinct states{unreduced} · {s.transitions:,} transitions{pruned}"
            f" · depth {s.depth} · {s.seconds:.2f} s · {s.states_per_second:,.0f} states/s")


def workers_line(s) -> str:
    """What the parallel search's workers did (Stats.workers): how the states were
    shared out and how many crossed between processes (the cost of more workers)."""
    owned = [w[0] for w in s.workers]
    sent = sum(w[2] for w in s.workers)
    size = sum(w[4] for w in s.workers)
    per = f"{sent / s.distinct_states:.2f} per state, " if s.distinct_states else ""
    return (f"workers: {len(owned)} processes; states owned {' / '.join(f'{n:,}' for n in owned)}; "
            f"{sent:,} states handed between workers ({per}{_size(size)})")


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def fault_summary(model: Model) -> str:
    # the lines as written, also those a reduction left out (modelcheck/prune)
    faults, assumptions = model.shown_faults or (model.faults, model.assumptions)
    if not faults:
        return "none"
    parts = []
    for f in faults:
        parts.append(KINDS[f.kind].summary(f))
    for f in assumptions:  # eventually heal, eventually restart [Role]
        parts.append(f.kind.replace("_", " ") + (f" {f.role}" if f.role else ""))
    return ", ".join(parts)


def symmetry_summary(model: Model, roles: list[str]) -> str:
    """Which nodes symmetry treats as interchangeable: a whole role, or the nodes of a
    role that the spec does not name (`Server[0]` in the spec keeps Server[0] apart)."""
    from ..engine.symmetry import symmetric_groups
    c = model.checked
    parts = []
    for role, nodes in symmetric_groups(c):
        if role not in roles:
            continue
        info = next(r for r in c.roles if r.name == role)
        if len(nodes) == info.size:
            parts.append(f"nodes of {role} are interchangeable")
        else:
            named = [c.node_names[n] for n in info.node_ids if n not in nodes]
            parts.append(f"{', '.join(c.node_names[n] for n in nodes)} are interchangeable "
                         f"({', '.join(named)} named in the spec)")
    return "; ".join(parts)


def pruning_lines(pruning) -> list[str]:
    """What the state-saving reductions left out of a search, a line each
    (modelcheck/prune; nothing when they removed nothing)."""
    if pruning is None:
        return []
    out = []
    if pruning.skipped_faults:
        out.append(f"pruning: {', '.join(pruning.skipped_faults)} not explored: {pruning.partitions_why} "
                   "(--keep-partitions explores them)")
    if pruning.dead_rules:
        out.append(f"pruning: dead messages dropped: {'; '.join(pruning.dead_rules)} (z3 proved every delivery "
                   "then a no-op, for ever; --keep-dead-messages keeps them)")
    return out


def pruning_json(pruning) -> dict | None:
    """docs/json-format.md, `pruning`."""
    if pruning is None:
        return None
    return {"skipped_faults": pruning.skipped_faults, "skipped_because": pruning.partitions_why,
            "partitions_kept_because": pruning.partitions_kept, "dead_messages": pruning.dead_rules,
            "dead_messages_kept_because": pruning.dead_kept}


def holds_text(result: Result) -> str:
    """What a HOLDS verdict covers: the invariants, the properties, or both."""
    parts = []
    if result.invariants or not result.properties:
        parts.append("every invariant holds in every reachable state")
    if result.properties:
        parts.append("every property holds on every fair behaviour")
    return ", and ".join(parts)


def render_text(result: Result, model: Model, source: Source, header: bool = True, paint=None,
                measure_traces: tuple = ()) -> str:
    """The human report: header, counterexample (if any), why it fails. No summary line.

    With `header` False (--quiet) only the counterexample is kept. `paint`
    (modelcheck/style.py) colours the verdicts and diagnostics on a terminal.
    """
    d = Describer(model)
    out = []
    if header:
        out.append(f"modelcheck: {source.path} (spec {model.checked.spec.name}, delivery {model.checked.delivery})")
        out.append(f"invariants: {', '.join(result.invariants) or 'none'}")
        if result.properties:
            out.append(f"properties: {', '.join(result.properties)}")
        out.append(f"faults: {fault_summary(model)}")
        for note in result.notes:
            out.append(f"note: {note}")
        if result.symmetric_roles:
            out.append(f"symmetry: {symmetry_summary(model, result.symmetric_roles)}; renamed states are explored once")
        out += pruning_lines(result.pruning)
        if result.properties:
            out.append(f"liveness: {liveness_assumptions(model)}")
        if result.collision_probability is not None:
            out.append(f"fingerprints: visited states stored as 64-bit hashes; probability that two collided "
                       f"and a state was missed: {result.collision_probability:.1e}")
            if result.stats.fingerprints_on_disk:
                out.append(f"fingerprints: {result.stats.fingerprints_on_disk:,} of them in a sorted file on disk "
                           f"(the table in memory reached its --fingerprint-memory budget)")
        if result.stats.workers:
            out.append(workers_line(result.stats))
        if result.verdict == "incomplete":
            out += [render(d, source, paint) for d in unbounded_warnings(model)]
        if result.verdict == "holds":
            out += ["", f"No violation: {holds_text(result)}."]
        elif result.verdict == "incomplete":
            out += ["", _incomplete_text(result)]
            out += growth_lines(result)
    if result.violation is None:
        if header:
            out += measures_lines(result, d, measure_traces)
        return "\n".join(out)
    v = result.violation
    n = len(result.trace)
    plural = "s" if n != 1 else ""
    if out:
        out.append("")
    if v.kind == "property" and result.cycle is not None:
        forever = (f"then repeats {len(result.cycle)} step{'s' if len(result.cycle) != 1 else ''} forever"
                   if result.cycle else "then can take no further step")
        out.append(f"Counterexample: property '{v.name}'{_binding_text(v, d)} is violated by a behaviour that "
                   f"runs {n} step{plural} and {forever}.")
    else:
        what = {"invariant": f"invariant '{v.name}' is violated",
                "property": f"property '{v.name}'{_binding_text(v, d)} is violated",
                "assert": "an assert failed",
                "runtime_error": "a run-time error in the spec"}[v.kind]
        out.append(f"Counterexample: {what} after {n} step{plural}.")
    out.append("")
    out.append("Initial state")
    out += ["    " + line for line in d.state_lines(result.initial)]
    prev = _steps_text(out, d, result.trace, result.initial, 1, v)
    if result.trigger is not None:
        where = f"after step {result.trigger}" if result.trigger else "in the initial state"
        out.append("")
        out.append(f"     ({where} the left side of 'leads_to' holds; the right side never holds from then on)")
    if result.cycle is not None:
        out.append("")
        if result.cycle:
            k = n + 1
            out.append(f"  -- steps {k}-{n + len(result.cycle)} repeat forever --" if len(result.cycle) > 1
                       else f"  -- step {k} repeats forever --")
            last = _steps_text(out, d, result.cycle, prev, k, v)
            assert last == prev
            out.append("")
            out.append(f"     (back to the state after step {n}: the cycle repeats forever. Every step enabled "
                       "throughout the cycle is taken in it, so the scheduler is fair, and no fault occurs in it.)")
        else:
            out.append(f"  -- after step {n} no step is enabled: the system stays in this state forever --"
                       if n else "  -- no step is ever enabled: the system stays in its initial state forever --")
        out += _settled_lines(d, prev)
    out.append("")
    out += _violation_text(result, model, source, prev, paint)
    if model.checked.registers:  # client operations (modelcheck/consistency)
        from ..consistency.history import history_lines
        history = history_lines(model, [step for step, _ in result.trace])
        if history:
            out += [""] + history
    if header:
        out += measures_lines(result, d, measure_traces)
    return "\n".join(out)


def measures_lines(result: Result, d: Describer, traces: tuple = ()) -> list[str]:
    """The "Measures" block (docs/language.md, "Measures"): one line per measure with
    its range and how soon each end is reached; the full witness traces only for the
    measures named in `traces` (--measure-trace), so the default report stays short."""
    if not result.measures:
        return []
    if all(m.complete for m in result.measures):
        out = ["", "Measures (over every reachable state):"]
    else:
        out = ["", f"Measures (over the {result.stats.distinct_states:,} states explored so far, "
                   "not every reachable state):"]
    for m in result.measures:
        out.append(f"  measure {m.name}: min {_extreme_text(m.min, d)}, max {_extreme_text(m.max, d)}")
    for m in result.measures:
        if m.name not in traces:
            continue
        for end, which in ((m.min, "min"), (m.max, "max")):
            if end is None or end.trace is None:
                continue
            out += ["", f"Witness: measure {m.name} = {end.value} ({which}) after {_steps(len(end.trace))}.", "",
                    "Initial state"]
            out += ["    " + line for line in d.state_lines(result.initial)]
            _steps_text(out, d, end.trace, result.initial, 1, None)
    return out


def _steps(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''}"


def _extreme_text(end, d: Describer) -> str:
    if end is None:
        return "none (no state evaluated)"
    if end.trace is None:
        return f"{end.value}"
    if not end.trace:
        return f"{end.value} (in the initial state)"
    return f"{end.value} (reached after {_steps(len(end.trace))}: {d.headline(end.trace[-1][0])})"


def _steps_text(out: list[str], d: Describer, steps: list, prev: State, first: int, v) -> State:
    """Append numbered steps with their sends, choices and changes; return the last state."""
    for i, (step, state) in enumerate(steps, first):
        out.append("")
        line = f"{i:>3}. {d.headline(step)}"
        if step.span is not None and step.span.line:
            line += f"   [line {step.span.line}]"
        out.append(line)
        for name, value, t in step.chosen:
            out.append(f"       chooses {name} = {d.render.text(value, t)}")
        for text, dests in _grouped_sends(d, step.sent):
            out.append(f"       sends {text} to {', '.join(dests)}")
        if state is None:
            out.append(f"       ERROR: {v.message}")
            continue
        changes = d.changes(prev, state)
        for what_, old, new in changes:
            out.append(f"       {what_}: {old} -> {new}")
        if not changes and not step.sent and not step.chosen and step.kind in ("deliver", "action"):
            out.append("       (changes nothing)")
        prev = state
    return prev


def _grouped_sends(d: Describer, sent: tuple) -> list[tuple[str, list[str]]]:
    """A broadcast reads as one line: the same message to several nodes, in send order."""
    groups: dict[str, list[str]] = {}
    for m in sent:
        groups.setdefault(d.message(m), []).append(d.node(m[1]))
    return list(groups.items())


def _settled_lines(d: Describer, state: State) -> list[str]:
    """What the environment leaves broken for ever on the cycle: cut links, down nodes."""
    out = []
    down = [d.node(n) for n, up in enumerate(state.up) if not up]
    if down:
        out.append(f"     down for ever: {', '.join(down)}")
    if state.cut:
        out.append(f"     cut for ever: {d.links(state.cut)}")
    return out


def _binding_text(v, d: Describer) -> str:
    if not v.binding:
        return ""
    return " for " + ", ".join(f"{name} = {d.render.text(val, t)}" for name, val, t in v.binding)


def liveness_assumptions(model: Model) -> str:
    """The fairness and fault assumptions liveness is checked under, in one line."""
    parts = ["weak fairness of every non-fault step", "faults eventually stop"]
    if model.heal_eventually:
        parts.append("then every cut link is healed (eventually heal)")
    for f in model.assumptions:
        if f.kind == "eventually_restart":
            parts.append(f"then every crashed {f.role or 'node'} is back up (eventually restart{' ' + f.role if f.role else ''})")
    return "; ".join(parts)


def stop_text(reason: str) -> str:
    """Why a search stopped early, in words (every command's summary uses this)."""
    from ..limits import interrupted_text
    return {"max-states": "the --max-states bound was reached", "max-depth": "the --max-depth bound was reached",
            "timeout": "the --timeout ran out", "interrupted": interrupted_text(),
            "memory": "the memory limit was reached (--memory-limit)",
            "worker-lost": "a worker process was lost (killed, or its machine left the cluster)"}.get(reason, reason)


def _incomplete_text(result: Result) -> str:
    why = stop_text(result.stop_reason)
    waiting = ""
    if result.stats.frontier:
        waiting = (f" {result.stats.frontier:,} of them were found but not yet expanded: "
                   "their successors were never looked at.")
    if not result.stats.distinct_states:  # stopped before the search (the z3 analysis of dead messages)
        return f"Incomplete: {why} before the search started. No state was checked."
    return (f"Incomplete: {why} before the whole state space was explored. No violation was found in the "
            f"{result.stats.distinct_states:,} states explored (every behaviour up to depth "
            f"{max(result.stats.depth - 1, 0)} was checked).{waiting}")


def growth_lines(result: Result) -> list[str]:
    """What still grew at each of the last levels of a search stopped early
    (Result.growth, engine/growth.py): a hint that the model may be infinite."""
    if not result.growth:
        return []
    out = ["", "Still growing at each of the last levels explored (the model may be infinite):"]
    out += [f"  - {g.text()}" for g in result.growth]
    out.append("Bound what grows (docs/language.md, \"Keeping models small\"): guard the step that sends or "
               "counts, or use `delivery set`. `modelcheck check` warns about steps that can send without bound "
               "(W107).")
    return out


def unbounded_warnings(model: Model) -> list:
    """The lint's W107 warnings (steps that can send without bound) for the header of
    a search stopped early; computed once per spec. Never fails the report."""
    c = model.checked
    if _UNBOUNDED and _UNBOUNDED[0] is c:  # the text and JSON reports of one run ask both
        return _UNBOUNDED[1]
    try:
        from ..smt.lint import unbounded_warnings as lint_unbounded
        found = lint_unbounded(c)
    except Exception:  # noqa: BLE001 - a hint must never cost the report
        found = []
    _UNBOUNDED[:] = [c, found]
    return found


_UNBOUNDED: list = []  # [the last CheckedSpec asked about, its warnings]


def _violation_text(result: Result, model: Model, source: Source, last: State, paint=None) -> list[str]:
    from ..lang.diagnostics import Diagnostic, render

    v = result.violation
    out = []
    if v.kind == "invariant":
        decl = next(i.decl for i in model.invariants if i.name == v.name)
        out.append(render(Diagnostic("", f"invariant '{v.name}' does not hold in the last state", decl.expr.span,
                                     severity="violated"), source, paint))
        out.append("  why:")
        for depth, text in explain_violation(model, source, v, last).lines:
            out.append("    " + "  " * depth + text)
    elif v.kind == "property":
        prop = next(p for p in model.properties if p.name == v.name)
        out.append(render(Diagnostic("", _property_claim(prop, result), prop.decl.expr.span,
                                     severity="violated"), source, paint))
        where = "in the last state" if prop.op == "always" else "in the state where the cycle starts"
        out.append(f"  why ({where}):")
        for depth, text in explain_violation(model, source, v, last).lines:
            out.append("    " + "  " * depth + text)
    else:
        label = "assert failed" if v.kind == "assert" else "run-time error"
        out.append(render(Diagnostic("", v.message, v.span, severity=label), source, paint))
    return out


def _property_claim(prop, result: Result) -> str:
    if prop.op == "always":
        return f"property '{prop.name}' does not hold: its predicate is false in the last state"
    if prop.op == "eventually":
        return (f"property '{prop.name}' does not hold: its predicate is false in every state of this behaviour, "
                "the repeating part included")
    if prop.op == "always_eventually":
        return (f"property '{prop.name}' does not hold: its predicate is false in every state of the repeating "
                "part, so after some point it never holds again")
    return (f"property '{prop.name}' does not hold: the left side holds after step {result.trigger} and the right "
            "side is false in every state from there on, the repeating part included")


# ---- JSON ---------------------------------------------------------------------------

def render_json(result: Result, model: Model, source: Source, options: dict) -> dict:
    d = Describer(model)
    s = result.stats
    doc = {
        "format": "modelcheck-result",
        "version": JSON_VERSION,
        "spec": {"name": model.checked.spec.name, "file": source.path, "delivery": model.checked.delivery},
        "options": options,
        "invariants": result.invariants,
        "properties": result.properties,
        "unchecked_properties": [p.name for p in model.checked.properties if p.name not in result.properties],
        "faults": fault_summary(model),
        "symmetric_roles": result.symmetric_roles,
        "fingerprint_collision_probability": result.collision_probability,
        "notes": result.notes,
        "pruning": pruning_json(result.pruning),
        "verdict": result.verdict,
        "stop_reason": result.stop_reason,
        **_stop_details(result, model),
        "stats": {"distinct_states": s.distinct_states, "transitions": s.transitions,
                  "pruned_transitions": s.pruned_transitions, "states_without_symmetry": s.states_without_symmetry,
                  "depth": s.depth, "frontier": s.frontier,
                  "seconds": round(s.seconds, 3), "states_per_second": round(s.states_per_second),
                  **({"fingerprints_on_disk": s.fingerprints_on_disk} if s.fingerprints_on_disk else {}),
                  **({"workers": [{"states": w[0], "sent": w[2], "received": w[3], "bytes_sent": w[4]} for w in s.workers]}
                     if s.workers else {})},
        "violation": None,
        "trace": None,
    }
    if result.measures:  # absent without measures: such a spec's document is unchanged
        doc["measures"] = [measure_json(m, d, result.initial) for m in result.measures]
    if result.violation is None:
        return doc
    v = result.violation
    viol = {"kind": v.kind, "name": v.name, "message": v.message,
            "location": {"line": v.span.line, "column": v.span.column} if v.span else None}
    if v.kind == "invariant":
        last = result.trace[-1][1] if result.trace else result.initial
        viol["explanation"] = [{"depth": dep, "text": t}
                               for dep, t in explain_violation(model, source, v, last).lines]
    if v.kind == "property":
        prop = next(p for p in model.properties if p.name == v.name)
        viol["operator"] = prop.op
        viol["instance"] = {name: d.render.json(val, t) for name, val, t in v.binding}
        last = (result.trace[-1][1] if result.trace else result.initial)
        viol["explanation"] = [{"depth": dep, "text": t} for dep, t in explain_violation(model, source, v, last).lines]
    if model.checked.registers:  # client operations (modelcheck/consistency)
        from ..consistency.history import history_json
        viol["history"] = history_json(model, [step for step, _ in result.trace])
    doc["violation"] = viol
    steps = _steps_json(d, result.trace, result.initial, v, 1)
    doc["trace"] = {"initial": d.state_json(result.initial), "steps": steps}
    if result.cycle is not None:
        prev = result.trace[-1][1] if result.trace else result.initial
        doc["trace"]["cycle"] = _steps_json(d, result.cycle, prev, v, len(steps) + 1)
        doc["trace"]["trigger"] = result.trigger
    return doc


def measure_json(m, d: Describer, initial: State) -> dict:
    """One measure's range in the JSON document (docs/json-format.md, `measures`):
    each end's value and witness trace, shaped like the counterexample's `trace`."""
    def end(e):
        if e is None:
            return None
        trace = None if e.trace is None else {"initial": d.state_json(initial),
                                               "steps": _steps_json(d, e.trace, initial, None, 1)}
        return {"value": e.value, "steps": None if e.trace is None else len(e.trace), "trace": trace}
    return {"name": m.name, "complete": m.complete, "min": end(m.min), "max": end(m.max)}


def _stop_details(result: Result, model: Model) -> dict:
    """For an incomplete result only (docs/json-format.md): `growth`, what still grew
    at each of the last levels, and `warnings`, the lint's W107 warnings."""
    if result.verdict != "incomplete":
        return {}
    return {"growth": [g.json() for g in result.growth],
            "warnings": [{"code": d.code, "severity": d.severity, "message": d.message, "hint": d.hint,
                          "line": d.span.line, "column": d.span.column, "end_line": d.span.end_line,
                          "end_column": d.span.end_column} for d in unbounded_warnings(model)]}


def _steps_json(d: Describer, trace: list, prev: State, v, first: int) -> list[dict]:
    steps = []
    for i, (step, state) in enumerate(trace, first):
        entry = {"index": i, **step_identity(d, step),
                 "sent": [d.message_json(m) for m in step.sent],
                 "text": d.headline(step),
                 "line": step.span.line if step.span is not None else None}
        if state is None:
            entry["error"] = v.message
            entry["changes"] = []
            entry["state"] = None
        else:
            entry["changes"] = [{"what": w, "from": a, "to": b} for w, a, b in d.changes(prev, state)]
            entry["state"] = d.state_json(state)
            prev = state
        steps.append(entry)
    return steps


IDENTITY_FIELDS = ("kind", "node", "name", "params", "chosen", "message", "detail")


def step_identity(d: Describer, step: Step) -> dict:
    """What a step is, in JSON terms: enough to find it again among a state's
    successors (`modelcheck replay`), independent of what it changed."""
    return {
        "kind": step.kind,
        "node": d.node(step.node) if step.node is not None else None,
        "name": step.name,
        "params": {n: d.render.json(val, t) for n, val, t in step.params},
        "chosen": {n: d.render.json(val, t) for n, val, t in step.chosen},
        "message": d.message_json(step.message) if step.message is not None else None,
        "detail": _detail_json(step, d),
    }


def _detail_json(step: Step, d: Describer):
    fault = KINDS.get(step.kind)
    if fault is not None:
        return fault.detail_json(d, step)
    if step.kind == "tick":
        return {"now": step.detail}
    if step.kind == "clocks":
        return {"clock_offsets": {d.node(n): o for n, o in enumerate(step.detail)}}
    return None
