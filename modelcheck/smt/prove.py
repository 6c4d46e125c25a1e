"""`modelcheck prove`: k-induction on the compiled model, with z3.

The property proved is the conjunction P of the selected invariants (default: every
invariant of the spec), together with "no step raises a run-time error or fails an
assert" (verify reports those as counterexamples too). For k = 1, 2, ... up to the
maximum:

1. base case (bounded model checking): no state reachable in at most k steps from
   the initial state violates P. A violation is *refuted*: the z3 path is re-executed
   on the explicit model, step by step, so the counterexample is an ordinary trace
   (what `verify` prints, replayable by `modelcheck replay`).
2. induction step: any k consecutive distinct states that satisfy P (and lie within
   the declared types), connected by transitions, are followed by a state that
   satisfies P. If so, P is *proved* for every reachable state.

If the step fails at the largest k, the answer is *unknown*: the counterexample to
induction (k states satisfying P followed by one violating it) is printed; the first
state is usually unreachable, and an invariant that is false in it (a helper) makes
the proof go through.

Message invariants. The invariant language cannot mention messages in flight, so no
helper a user writes can rule out an in-flight message that could never have been
sent. `prove` therefore infers message invariants itself, Houdini style: it
generates candidates from templates ("every in-flight Vote(t) from a to b has
(a, b, t) in the ghost set `voted`", "... has a.term >= t", "... has
a.term == t => a.voted_for == b"), keeps those that hold in the base case and are
preserved by the induction step together with P, and assumes the survivors. Every
survivor is a proved invariant, so this is sound; they are listed in the report.

Only the selected invariants are assumed. With `--invariant NAME`, the others are
neither assumed nor checked: proving the conjunction of the selected ones and
assuming only those is the simple sound choice.
"""
from __future__ import annotations

import ctypes
import itertools
import time
from dataclasses import dataclass, field

import z3

from . import solver as new_solver

from .. import limits
from ..engine.result import Result, Stats
from ..engine.model import Model, State
from .symbolic import FALSE, TRUE, AND, EncodingTimeout, Frame, Symbolic, Unsupported, _f
from ..lang.types import BoolT, EnumT, IntT, NodeT, OptT, SetT, TupleT

DEFAULT_K = 4
MAX_CANDIDATES = 600


class EncodingMismatch(Exception):
    """The z3 encoding and the explicit model disagree: a bug in modelcheck."""


@dataclass
class Check:
    what: str  # "base" | "induction"
    k: int
    outcome: str  # "ok" | "violated" | "unknown"
    seconds: float


@dataclass
class ProveResult:
    verdict: str  # "proved" | "refuted" | "unknown"
    k: int  # the k of the verdict (unknown: the largest k tried)
    goals: list[str]
    seconds: float = 0.0
    result: Result | None = None  # refuted: the counterexample, as verify reports it
    cti: list | None = None  # unknown: [(Step | None, State | None)], the k+1 states of the CTI
    cti_error: str | None = None  # the CTI's last step raises this run-time error
    cti_invariants: list[str] = field(default_factory=list)  # goals false in the CTI's last state
    reason: str | None = None  # unknown: "not-inductive" | "timeout" | "solver-unknown" | "interrupted"
    inferred: list[str] = field(default_factory=list)  # message invariants proved and assumed
    candidates: int = 0
    checks: list[Check] = field(default_factory=list)


@dataclass
class Candidate:
    text: str
    fn: object  # Frame -> z3 Bool


class _Timeout(Exception):
    pass


def prove(model: Model, k_max: int = DEFAULT_K, timeout: float | None = None, infer: bool = True) -> ProveResult:
    """k-induction for the model's (selected) invariants. Raises Unsupported when the
    spec is outside the encoded fragment, EncodingMismatch on an internal bug, and
    an "unknown" result with reason "interrupted" when Ctrl-C or SIGTERM stops it,
    even while the model is still being encoded."""
    start = time.monotonic()
    try:
        return _prove(model, k_max, timeout, infer)
    except (z3.Z3Exception, ctypes.ArgumentError):
        if not limits.signalled():
            raise
    except KeyboardInterrupt:
        pass
    except EncodingTimeout:  # the --timeout ran out while the model was still being encoded
        return ProveResult("unknown", 0, [g.name for g in model.invariants], seconds=time.monotonic() - start,
                           reason="timeout")
    # stopped before the first check (z3 canceled while encoding, or the signal itself)
    return ProveResult("unknown", 0, [g.name for g in model.invariants], seconds=time.monotonic() - start,
                       reason="interrupted")


def _prove(model: Model, k_max: int, timeout: float | None, infer: bool) -> ProveResult:
    start = time.monotonic()
    deadline = start + timeout if timeout else None
    enc = Symbolic(model, deadline)
    goals = list(model.invariants)
    out = ProveResult("unknown", 0, [g.name for g in goals])
    cands = message_candidates(enc) if infer else []
    out.candidates = len(cands)
    goal_cache: dict[str, object] = {}
    cand_cache: dict[tuple, object] = {}

    def P(f: Frame):
        if f.tag not in goal_cache:
            parts = [z3.Not(f.err)]
            for g in goals:
                v, e = enc.invariant(g.decl, f)
                parts += [z3.Not(e) if not _f(e) else TRUE, v]
            goal_cache[f.tag] = AND(*parts)
        return goal_cache[f.tag]

    def C(i: int, f: Frame):
        key = (i, f.tag)
        if key not in cand_cache:
            if deadline is not None and time.monotonic() > deadline:  # encoding candidates can take minutes
                raise _Timeout()
            cand_cache[key] = cands[i].fn(f)
        return cand_cache[key]

    def check(solver, *assumptions):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout()
            solver.set("timeout", max(1, int(left * 1000)))
        r = solver.check(*assumptions)
        if r == z3.unknown:
            raise _Timeout() if deadline is not None and time.monotonic() >= deadline - 0.05 else \
                _SolverUnknown(solver.reason_unknown())
        return r

    active = list(range(len(cands)))
    lits = [z3.Bool(f"cand!{i}") for i in range(len(cands))]
    base = new_solver()
    f = [enc.frame("s0")]
    base.add(f[0].domain)
    base.add(enc.is_init(f[0]))
    ind = new_solver()
    g = [enc.frame("h0")]
    ind.add(g[0].domain)
    try:
        t0 = time.monotonic()
        if _violated(base, P(f[0]), check):
            out.checks.append(Check("base", 0, "violated", time.monotonic() - t0))
            return _refuted(out, model, enc, base, f, start)
        base.add(P(f[0]))
        for k in range(1, k_max + 1):
            out.k = k
            # 1. base case: the candidates hold at depth k - 1 (checked before a successor
            # is required, so that states without one count too), the goals at depth k
            t0 = time.monotonic()
            active = _houdini(base, f[k - 1], active, C, [], check)
            # successor frames get no type constraints: their values are determined by the
            # predecessor, so constraining them could only hide an encoding bug
            f.append(enc.frame(f"s{k}"))
            base.add(enc.transition(f[k - 1], f[k]))
            if _violated(base, P(f[k]), check):
                out.checks.append(Check("base", k, "violated", time.monotonic() - t0))
                return _refuted(out, model, enc, base, f, start)
            base.add(P(f[k]))
            out.checks.append(Check("base", k, "ok", time.monotonic() - t0))
            # 2. induction step: k states satisfying P (and the candidates) -> the next one
            t0 = time.monotonic()
            h = g[k - 1]
            ind.add(P(h))
            for i in range(len(cands)):
                ind.add(z3.Implies(lits[i], C(i, h)))
            g.append(enc.frame(f"h{k}"))
            ind.add(enc.transition(h, g[k]))
            # simple paths only (sound: a shortest path to a violation repeats no state);
            # an error frame's other components mean nothing, so it is exempt
            for j in range(k):
                ind.add(z3.Or(g[k].err, z3.Not(enc.equal(g[j], g[k], with_err=False))))
            active = _houdini(ind, g[k], active, C, lits, check)
            ind.push()
            ind.add(z3.Not(P(g[k])))
            r = check(ind, *[lits[i] for i in active])
            if r == z3.unsat:
                ind.pop()
                out.checks.append(Check("induction", k, "ok", time.monotonic() - t0))
                out.verdict = "proved"
                out.inferred = [cands[i].text for i in active]
                out.seconds = time.monotonic() - start
                return out
            out.checks.append(Check("induction", k, "violated", time.monotonic() - t0))
            mdl = _small_model(ind, enc, g[0], [lits[i] for i in active], check)
            ind.pop()
            _cti(out, model, enc, g, mdl)
        out.reason = "not-inductive"
        out.inferred = [cands[i].text for i in active]
    except (_Timeout, EncodingTimeout):
        out.reason = "timeout"
        out.cti = None
    except _SolverUnknown as err:
        # z3 answers "canceled" when Ctrl-C (or limits.z3_interruptible) stopped it
        out.reason = "interrupted" if "cancel" in str(err) else f"solver-unknown: {err}"
        out.cti = None
    except KeyboardInterrupt:
        out.reason = "interrupted"
        out.cti = None
    except (z3.Z3Exception, ctypes.ArgumentError):
        # a signal canceled z3 in a call other than check() (push, an And being built)
        if not limits.signalled():
            raise
        out.reason = "interrupted"
        out.cti = None
    out.verdict = "unknown"
    out.seconds = time.monotonic() - start
    return out


class _SolverUnknown(Exception):
    pass


def _violated(solver, prop, check) -> bool:
    solver.push()
    solver.add(z3.Not(prop))
    r = check(solver)
    if r == z3.sat:
        return True  # the caller reads solver.model() before popping
    solver.pop()
    return False


def _small_model(solver, enc: Symbolic, first: Frame, assumptions, check):
    """The model of the last sat check, preferring one with few copies of each message
    in flight (with `delivery unordered` the counters are unbounded, and any
    counterexample to induction is as good as another to show)."""
    mdl = solver.model()
    if enc.mode != "unordered" or not first.net:
        return mdl
    for bound in (1, 3):
        solver.push()
        solver.add(*[x <= bound for x in first.net])
        try:
            if check(solver, *assumptions) == z3.sat:
                return solver.model()
        except _SolverUnknown:
            pass
        finally:
            solver.pop()
    return mdl


def _houdini(solver, frame: Frame, active: list[int], C, lits, check) -> list[int]:
    """Drop the candidates that can be false in `frame` (under the solver's facts and
    the remaining candidates' assumption literals) until none can."""
    active = list(active)
    while active:
        solver.push()
        solver.add(z3.Or([z3.Not(C(i, frame)) for i in active]))
        r = check(solver, *[lits[i] for i in active] if lits else [])
        if r == z3.unsat:
            solver.pop()
            return active
        mdl = solver.model()
        keep = [i for i in active if z3.is_true(mdl.eval(C(i, frame), model_completion=True))]
        solver.pop()
        assert len(keep) < len(active)
        active = keep
    return active


# ---- turning z3 models back into explicit states and steps --------------------------------

def explicit_path(model: Model, states: list[State], last_err: bool) -> list:
    """[(Step, State | None)] following `states` in the explicit model: each step is the
    first successor (in the model's order) reaching the next state."""
    steps = []
    for i, (cur, nxt) in enumerate(zip(states, states[1:])):
        err = last_err and i == len(states) - 2
        trs = model.successors(cur)
        if err:
            tr = next((t for t in trs if t.error is not None), None)
        else:
            tr = next((t for t in trs if t.state == nxt), None)
        if tr is None:
            raise EncodingMismatch(f"step {i + 1} of a z3 path has no counterpart in the explicit model")
        steps.append((tr.step, None if err else tr.state, tr.error))
    return steps


def _decode_path(enc: Symbolic, frames: list[Frame], mdl) -> tuple[list[State], bool]:
    states, err = [], False
    for i, fr in enumerate(frames):
        st, e = enc.decode_frame(fr, mdl)
        if e and i < len(frames) - 1:
            raise EncodingMismatch("a z3 path continues after a run-time error")
        states.append(st)
        err = e
    return states, err


def _refuted(out: ProveResult, model: Model, enc: Symbolic, solver, frames: list[Frame], start: float):
    from ..engine.invariants import check_state, runtime_violation

    mdl = solver.model()
    solver.pop()
    states, err = _decode_path(enc, frames, mdl)
    if states[0] != model.initial:
        raise EncodingMismatch("the z3 initial state differs from the model's")
    path = explicit_path(model, states, err)
    trace = [(step, st) for step, st, _ in path]
    last = path[-1][1] if path and not err else (states[-2] if err else states[-1])
    if err:
        violation = runtime_violation(path[-1][2])
    else:
        bad = check_state(model, last, False)
        if not bad:
            raise EncodingMismatch("z3 found a violation that the explicit model does not confirm")
        violation = bad[0]
    stats = Stats(distinct_states=0, transitions=0, depth=len(trace), seconds=time.monotonic() - start)
    out.result = Result("violated", stats, model.initial, trace=trace, violation=violation,
                        invariants=[i.name for i in model.invariants])
    out.verdict = "refuted"
    out.cti = None
    out.k = len(trace)
    out.seconds = time.monotonic() - start
    return out


def _cti(out: ProveResult, model: Model, enc: Symbolic, frames: list[Frame], mdl) -> None:
    states, err = _decode_path(enc, frames, mdl)
    path = explicit_path(model, states, err)
    out.cti = [(None, states[0])] + [(step, st) for step, st, _ in path]
    out.cti_error = path[-1][2].message if err else None
    out.cti_invariants = []
    if not err:
        bad = model.violated_invariants(states[-1], every=True)
        if not bad:
            raise EncodingMismatch("z3 found a counterexample to induction that the explicit model does not confirm")
        out.cti_invariants = [inv.name for inv, _ in bad]
    for st in states[:-1]:
        if model.violated_invariants(st):
            raise EncodingMismatch("a hypothesis state of the counterexample to induction violates an invariant")


# ---- message invariant templates ----------------------------------------------------------------

def _kindof(t):
    if isinstance(t, OptT):
        return _kindof(t.inner)
    if isinstance(t, NodeT):
        return "node"
    if isinstance(t, IntT):
        return "int"
    if isinstance(t, EnumT):
        return ("enum", t.name)
    if isinstance(t, BoolT):
        return "bool"
    return None


def message_candidates(enc: Symbolic) -> list[Candidate]:
    """Candidate invariants about the messages in flight (see the module docstring)."""
    c = enc.c
    out: list[Candidate] = []
    by_kind: dict[int, list[int]] = {}
    for j, m in enumerate(enc.messages):
        by_kind.setdefault(m[2], []).append(j)
    infos = {m.index: m for m in c.messages.values()}
    for kind, js in sorted(by_kind.items()):
        info = infos[kind]
        # message attributes: (name, kind of value, getter)
        attrs = [("a", "node", lambda m: m[0]), ("b", "node", lambda m: m[1])]
        for i, (fname, ft) in enumerate(info.fields):
            attrs.append((fname, _kindof(ft), lambda m, i=i: m[3][i]))
        head = f"{info.name}({', '.join(n for n, _ in info.fields)}) from a to b"

        def every(pred, js=js):
            def fn(f: Frame):
                parts = []
                for j in js:
                    p = pred(f, enc.messages[j])
                    if z3.is_true(p):
                        continue
                    parts.append(z3.Implies(enc.in_flight(f, j), p))
                return AND(*parts)
            return fn

        # T1: a tuple of the message's attributes is in a ghost set
        for gv in c.ghosts:
            if not isinstance(gv.type, SetT):
                continue
            elem = gv.type.elem
            items = list(elem.items) if isinstance(elem, TupleT) else [elem]
            choices = [[a for a in attrs if a[1] is not None and a[1] == _kindof(it)] for it in items]
            combos = list(itertools.islice(itertools.product(*choices), 64))
            for combo in combos:
                def pred(f, m, combo=combo, gi=gv.index, tup=isinstance(elem, TupleT)):
                    val = tuple(a[2](m) for a in combo) if tup else combo[0][2](m)
                    return f.ghosts[gi].members.get(val, FALSE)
                shown = ", ".join(a[0] for a in combo)
                out.append(Candidate(f"every {head} in flight has ({shown}) in {gv.name}"
                                     if isinstance(elem, TupleT) else
                                     f"every {head} in flight has {shown} in {gv.name}", every(pred)))
        # T2: the sender's (a) or receiver's (b) state: a bool variable, or an int
        # variable compared with an int field
        for side, getter in (("a", lambda m: m[0]), ("b", lambda m: m[1])):
            other = "b" if side == "a" else "a"
            for x in sorted({v.name for r in c.roles for v in r.vars if isinstance(v.type, BoolT)}):
                for positive in (True, False):
                    def pred(f, m, x=x, positive=positive, getter=getter):
                        n = getter(m)
                        v = c.node_roles[n].var(x)
                        if v is None or not isinstance(v.type, BoolT):
                            return TRUE
                        z = f.nodes[n][v.index].z
                        return z if positive else z3.Not(z)
                    out.append(Candidate(f"every {head} in flight has {'' if positive else 'not '}{side}.{x}",
                                         every(pred)))
            names = sorted({v.name for r in c.roles for v in r.vars if isinstance(v.type, IntT)})
            for fi, (fname, ft) in enumerate(info.fields):
                if not isinstance(ft, IntT):
                    continue
                for x in names:
                    for rel in (">=", "<="):
                        def pred(f, m, x=x, fi=fi, rel=rel, getter=getter):
                            n = getter(m)
                            v = c.node_roles[n].var(x)
                            if v is None or not isinstance(v.type, IntT):
                                return TRUE
                            z = f.nodes[n][v.index].z
                            return z >= m[3][fi] if rel == ">=" else z <= m[3][fi]
                        out.append(Candidate(f"every {head} in flight has {side}.{x} {rel} {fname}", every(pred)))
                    ys = sorted({v.name for r in c.roles for v in r.vars if _kindof(v.type) == "node"})
                    for y in ys:
                        for target, tget in ((other, (lambda m: m[1]) if side == "a" else (lambda m: m[0])),
                                             (side, getter)):
                            def pred(f, m, x=x, y=y, fi=fi, getter=getter, tget=tget):
                                n = getter(m)
                                vx, vy = c.node_roles[n].var(x), c.node_roles[n].var(y)
                                if vx is None or vy is None or not isinstance(vx.type, IntT):
                                    return TRUE
                                from .symbolic import eq_const
                                same = f.nodes[n][vx.index].z == m[3][fi]
                                return z3.Implies(same, eq_const(f.nodes[n][vy.index], tget(m)))
                            out.append(Candidate(f"every {head} in flight has "
                                                 f"({side}.{x} == {fname} => {side}.{y} == {target})", every(pred)))
        if len(out) > MAX_CANDIDATES:
            break
    return out[:MAX_CANDIDATES]


__all__ = ["prove", "ProveResult", "Unsupported", "EncodingMismatch", "DEFAULT_K"]


# ---- reports ----------------------------------------------------------------------------------

class _Msg:
    def __init__(self, message):
        self.message = message


def _net_lines(d, model: Model, state: State) -> list[str]:
    msgs = model.network.messages(state.net)
    out = []
    if msgs:
        counts: dict = {}
        for m in msgs:
            counts[m] = counts.get(m, 0) + 1
        shown = [f"{d.message(m)} {d.node(m[0])}->{d.node(m[1])}" + (f" x{n}" if n > 1 else "")
                 for m, n in counts.items()]
        out.append("in flight: " + ", ".join(shown))
    else:
        out.append("in flight: nothing")
    if state.cut:
        out.append(f"cut links: {d.links(state.cut)}")
    if model.budget_slot:
        out.append("fault budgets left: " + ", ".join(
            f"{d._fault_label(i)} {state.budgets[slot]}" for i, slot in sorted(model.budget_slot.items())))
    return out


def _net_change(d, model: Model, before: State, after: State) -> list[str]:
    a = model.network.messages(before.net)
    b = model.network.messages(after.net)
    out = []
    gone = list(a)
    for m in b:
        if m in gone:
            gone.remove(m)
    new = list(b)
    for m in a:
        if m in new:
            new.remove(m)
    if new:
        out.append("now in flight: " + ", ".join(f"{d.message(m)} {d.node(m[0])}->{d.node(m[1])}" for m in new))
    if gone:
        out.append("no longer in flight: " + ", ".join(f"{d.message(m)} {d.node(m[0])}->{d.node(m[1])}"
                                                        for m in gone))
    return out


def render_text(pr: ProveResult, model: Model, source, k_max: int) -> str:
    from ..lang.diagnostics import Diagnostic, render
    from ..report.explain import Explainer
    from ..report.text import Describer, _steps_text, fault_summary
    from ..report.text import render_text as render_result

    d = Describer(model)
    c = model.checked
    out = [f"modelcheck prove: {source.path} (spec {c.spec.name}, delivery {c.delivery})",
           f"goals: {', '.join(pr.goals) or 'none'}, and no run-time error or failed assert",
           f"faults: {fault_summary(model)}"]
    if c.properties:
        out.append(f"not checked by prove: temporal properties {', '.join(p.name for p in c.properties)}")
    out.append("")
    if pr.verdict == "proved":
        out.append(f"Proved: the goals hold in every reachable state ({pr.k}-inductive).")
        out.append(f"  base case: no violation within {pr.k} step{'s' if pr.k != 1 else ''} of the initial state")
        out.append("  induction step: " + ("every state satisfying the goals is followed only by states satisfying "
                                           "them" if pr.k == 1 else
                                           f"any {pr.k} consecutive states satisfying the goals are followed only "
                                           "by states satisfying them"))
        if pr.inferred:
            out.append(f"  message invariants inferred, proved with the goals and assumed ({len(pr.inferred)} of "
                       f"{pr.candidates} candidates):")
            out += [f"    {t}" for t in pr.inferred]
    elif pr.verdict == "refuted":
        out.append(f"Refuted: the base case (bounded model checking) found a violation after {pr.k} "
                   f"step{'s' if pr.k != 1 else ''}.")
        out.append("")
        out.append(render_result(pr.result, model, source, header=False))
    else:
        if pr.reason == "not-inductive" and pr.cti:
            k = len(pr.cti) - 1
            out.append(f"Unknown: no violation within {k} step{'s' if k != 1 else ''} of the initial state, but the "
                       + ("goals are not 1-inductive." if k == 1 else f"goals are not k-inductive for k = 1..{k}."))
            out.append("")
            out.append(f"Counterexample to induction (k = {k}): {k} state{'s' if k != 1 else ''} satisfying every goal"
                       + (" and the inferred message invariants" if pr.inferred else "")
                       + ", then a step to a state that violates one.")
            out.append("These states need not be reachable from the initial state.")
            out.append("")
            first = pr.cti[0][1]
            out.append("State 1")
            out += ["    " + line for line in d.state_lines(first) + _net_lines(d, model, first)]
            prev = first
            for i, (step, st) in enumerate(pr.cti[1:], 1):
                _steps_text(out, d, [(step, st)], prev, i, _Msg(pr.cti_error))
                if st is not None:
                    out += ["       " + line for line in _net_change(d, model, prev, st)]
                    prev = st
            out.append("")
            if pr.cti_error:
                out.append(f"The last step raises a run-time error: {pr.cti_error}")
            explainer = Explainer(model.compiler, source, model.render)
            for name in pr.cti_invariants:
                decl = next(i.decl for i in model.invariants if i.name == name)
                out.append(render(Diagnostic("", f"invariant '{name}' does not hold after the last step",
                                             decl.expr.span, severity="violated"), source))
                out.append("  why:")
                for depth, text in explainer.explain(decl.expr, model.global_ctx(prev)):
                    out.append("    " + "  " * depth + text)
            out.append("")
            out.append("hint: state 1 satisfies the goals but is probably unreachable. Add an invariant that is "
                       "false in it (a helper invariant: it is proved together with the others), or raise --k.")
        elif pr.reason == "timeout":
            out.append(f"Unknown: the --timeout ran out (last k tried: {pr.k}).")
        elif pr.reason == "interrupted":
            from ..limits import interrupted_text
            done = ", ".join(f"{c.what} k={c.k}: {c.outcome}" for c in pr.checks) or "no check finished"
            out.append(f"Unknown: {interrupted_text()} while trying k = {pr.k} ({done}).")
        else:
            out.append(f"Unknown: z3 could not decide ({pr.reason}).")
    out.append("")
    out.append(summary_line(pr))
    return "\n".join(out)


def summary_line(pr: ProveResult) -> str:
    verdict = {"proved": "PROVED", "refuted": "REFUTED", "unknown": "UNKNOWN"}[pr.verdict]
    extra = ""
    if pr.verdict == "unknown":
        extra = f" ({pr.reason.split(':')[0]})" if pr.reason else ""
    parts = [f"Result: {verdict}{extra}"]
    if pr.verdict == "refuted":
        parts.append(f"violation after {pr.k} step{'s' if pr.k != 1 else ''}")
    else:
        parts.append(f"k = {pr.k}")
    if pr.candidates and (pr.verdict == "proved" or pr.reason == "not-inductive"):
        parts.append(f"{len(pr.inferred)} of {pr.candidates} message invariants kept")
    parts.append(f"{pr.seconds:.2f} s")
    return " · ".join(parts)


def render_json(pr: ProveResult, model: Model, source, options: dict) -> dict:
    from ..report.text import Describer, step_identity
    from ..report.text import render_json as result_json

    d = Describer(model)
    doc = {
        "format": "modelcheck-prove",
        "version": 1,
        "spec": {"name": model.checked.spec.name, "file": source.path, "delivery": model.checked.delivery},
        "options": options,
        "goals": pr.goals,
        "verdict": pr.verdict,
        "k": pr.k,
        "reason": pr.reason,
        "seconds": round(pr.seconds, 3),
        "checks": [{"what": ch.what, "k": ch.k, "outcome": ch.outcome, "seconds": round(ch.seconds, 3)}
                   for ch in pr.checks],
        "inferred_message_invariants": pr.inferred,
        "counterexample": None,
        "counterexample_to_induction": None,
    }
    if pr.result is not None:
        doc["counterexample"] = result_json(pr.result, model, source, options)
    if pr.cti:
        steps = []
        for step, st in pr.cti[1:]:
            steps.append({**step_identity(d, step), "text": d.headline(step),
                          "state": d.state_json(st) if st is not None else None})
        doc["counterexample_to_induction"] = {
            "first": d.state_json(pr.cti[0][1]), "steps": steps,
            "violated": pr.cti_invariants, "error": pr.cti_error}
    return doc
