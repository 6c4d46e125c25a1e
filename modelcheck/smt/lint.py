"""`modelcheck check` warnings: mistakes that type-check but make a spec check less
than its author thinks. Each warning has a code (W1xx, docs/diagnostics.md) and a
source position.

Two kinds of analysis:

- z3 over the declared types: a guard that no values of the declared types can
  satisfy (the handler or action never runs), an invariant that every assignment of
  the declared types satisfies (it checks nothing) or none does. Expressions outside
  the encoded fragment (ints, bools, enums, node ids, comparisons, arithmetic without
  division, `and/or/not/=>`, if-then-else, `forall`/`exists`/`count` over a role) are
  replaced by fresh unconstrained values, so a "never" or "always" verdict is sound:
  it holds for every value the unknown part could take.
- Syntactic: a message kind with a handler that nothing sends, one sent that no role
  handles, a variable written but never read, a fault budget larger than can be used.
- Message flow (smt/unbounded.py): a step that can send without bound (the network
  grows for ever, so the model is infinite), a `broadcast` without `to` that misses
  the role handling its message, a handler `require` that leaves a message in flight
  for ever.

Warnings never change what `verify` does; `check --strict` turns them into a failure.

The z3 checks are bounded, so `check` stays interactive on any spec: quantifiers are
expanded over every node, so nested ones grow as (nodes)^(depth); an expression
whose expansion would have more than MAX_INSTANCES sub-expressions is not encoded
(its size is computed before anything is built), each z3 call has a timeout
(SOLVER_TIMEOUT_MS) and all of them share one budget (TOTAL_SECONDS). A check that
is skipped for either reason gives a note (severity "note", never a warning): the
spec is not wrong, the lint just did not look.
"""
from __future__ import annotations

import itertools
import time

import z3

from . import solver as new_solver

from . import unbounded
from ..lang import operators
from ..lang import syntax as S
from ..lang.checker import CheckedSpec, RoleInfo, VarInfo
from ..lang.diagnostics import NO_SPAN, Diagnostic
from ..lang.types import BoolT, EnumT, IntT, NodeT

# Largest expression the z3 checks encode, counted in sub-expressions after every
# quantifier is expanded over its role's nodes (about 25 µs each to build: 20,000 is
# about half a second). `forall a in S: forall b in S: P` over S[100] is 10,000.
MAX_INSTANCES = 20_000
SOLVER_TIMEOUT_MS = 2000  # one z3 call
TOTAL_SECONDS = 3.0  # every z3 check of one `lint` call, encoding included


class _TooLarge(Exception):
    """The expression being encoded passed MAX_INSTANCES sub-expressions."""


class _OutOfTime(Exception):
    """The lint's overall time budget ran out while encoding."""


class Encoder:
    """Translate checked expressions to z3 terms, over-approximating what it cannot encode."""

    def __init__(self, checked: CheckedSpec, limit: int | None = None, deadline: float | None = None):
        self.c = checked
        self.fresh = itertools.count()
        self.side: list = []  # range constraints of every variable created
        self.vars: dict[str, object] = {}
        self.n_nodes = len(checked.node_names)
        self.limit = limit  # at most this many sub-expressions encoded (_TooLarge past it)
        self.deadline = deadline  # time.monotonic() past which encoding stops (_OutOfTime)
        self.instances = 0

    # ---- variables ----
    def var(self, key: str, t) -> object:
        if key not in self.vars:
            self.vars[key] = self._make(key, t)
        return self.vars[key]

    def unknown(self, t):
        return self._make(f"?{next(self.fresh)}", t)

    def _make(self, key: str, t):
        if isinstance(t, BoolT):
            return z3.Bool(key)
        v = z3.Int(key)
        lo_hi = self._range(t)
        if lo_hi is not None:
            self.side += [v >= lo_hi[0], v <= lo_hi[1]]
        return v

    def _range(self, t):
        if isinstance(t, IntT) and t.lo is not None and t.hi is not None:
            return t.lo, t.hi
        if isinstance(t, EnumT):
            return 0, len(t.members) - 1
        if isinstance(t, NodeT):
            if t.role is None:
                return 0, self.n_nodes - 1
            r = next(r for r in self.c.roles if r.name == t.role)
            return r.first, r.first + r.size - 1
        return None

    @staticmethod
    def encodable(t) -> bool:
        return isinstance(t, (BoolT, IntT, EnumT, NodeT))

    # ---- expressions ----
    def size(self, e: S.Expr) -> int:
        """How many sub-expressions `expr(e)` encodes, quantifiers expanded (the
        count `limit` applies to), computed without building anything."""
        if e is None:
            return 1
        if not self.encodable(e.type):
            return 1
        if isinstance(e, (S.Not, S.Neg)):
            return 1 + self.size(e.operand)
        if isinstance(e, S.Ite):
            return 1 + self.size(e.cond) + self.size(e.then) + self.size(e.other)
        if isinstance(e, S.BinOp):
            return 1 + self.size(e.left) + self.size(e.right)
        if isinstance(e, S.Field):
            return 1 + (0 if isinstance(e.obj, S.SelfRef) else self.size(e.obj))
        if isinstance(e, (S.Quant, S.Count)):
            dom = e.domain
            if not (isinstance(dom, S.Name) and dom.ref and dom.ref[0] == "role"):
                return 1
            body = e.body if isinstance(e, S.Quant) else e.cond
            return 1 + dom.ref[1].size * (self.size(body) if body is not None else 0)
        return 1

    def expr(self, e: S.Expr, env: dict, role: RoleInfo | None):
        """A z3 term for e; `env` maps bound names to z3 terms."""
        self.instances += 1
        if self.limit is not None and self.instances > self.limit:
            raise _TooLarge()
        if self.deadline is not None and self.instances % 512 == 0 and time.monotonic() > self.deadline:
            raise _OutOfTime()
        t = e.type
        if not self.encodable(t):
            return None
        out = self._expr(e, env, role)
        if out is None:
            return self.unknown(t)
        return out

    def _expr(self, e, env, role):  # noqa: C901 - one case per expression form
        g = lambda x: self.expr(x, env, role)  # noqa: E731
        if isinstance(e, S.IntLit):
            return z3.IntVal(int(e.value))
        if isinstance(e, S.BoolLit):
            return z3.BoolVal(bool(e.value))
        if isinstance(e, S.Name):
            kind, payload = e.ref if e.ref else (None, None)
            if e.id in env:
                return env[e.id]
            if kind in ("const", "enum"):
                return z3.IntVal(int(payload))
            if kind == "var" and role is not None:
                return self.var(f"{role.name}.self.{e.id}", e.type)
            if kind == "ghost":
                return self.var(f"ghost.{e.id}", e.type)
            if kind == "role" and isinstance(payload, RoleInfo) and payload.count is None:
                return z3.IntVal(payload.first)
            if kind == "local":
                return self.var(f"local.{e.id}", e.type)
            return None
        if isinstance(e, S.Field):
            obj = e.obj
            if isinstance(obj, S.SelfRef) and role is not None:
                return self.var(f"{role.name}.self.{e.name}", e.type)
            if not self.encodable(obj.type):
                return None
            node = self.expr(obj, env, None)
            node = z3.simplify(node) if node is not None else None
            if node is not None and z3.is_int_value(node):
                return self.var(f"node{node.as_long()}.{e.name}", e.type)
            return None
        if isinstance(e, (S.Not, S.Neg, S.BinOp)):
            # the operator's lint encoding (lang/operators.py); one it does not
            # encode is an unknown value
            op = operators.lookup(e)
            return None if isinstance(op.lint, operators.NotEncoded) else op.lint(z3, self, e, g)
        if isinstance(e, S.Ite):
            c, a, b = g(e.cond), g(e.then), g(e.other)
            return z3.If(c, a, b) if None not in (c, a, b) else None
        if isinstance(e, (S.Quant, S.Count)):
            dom = e.domain
            if not (isinstance(dom, S.Name) and dom.ref and dom.ref[0] == "role"):
                return None
            ids = list(dom.ref[1].node_ids)
            body = e.body if isinstance(e, S.Quant) else e.cond
            terms = []
            for i in ids:
                inner = dict(env)
                inner[e.var] = z3.IntVal(int(i))
                terms.append(self.expr(body, inner, role) if body is not None else z3.BoolVal(True))
            if isinstance(e, S.Count):
                return z3.Sum([z3.If(x, 1, 0) for x in terms]) if terms else z3.IntVal(0)
            return (z3.And if e.kind == "forall" else z3.Or)(terms) if terms else z3.BoolVal(e.kind == "forall")
        return None


class _Z3Checks:
    """Runs the z3 checks within their bounds (module docstring) and collects the
    notes for those it skips."""

    def __init__(self, checked: CheckedSpec, seconds: float):
        self.c = checked
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.notes: list[Diagnostic] = []
        self.skipped = 0  # checks not run because the overall budget ran out
        self.skipped_codes: set[str] = set()

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def encode(self, code: str, what: str, e: S.Expr, role: RoleInfo | None):
        """(encoder, term) for one check, or None when it is skipped (with a note)."""
        if self.out_of_time():
            self._skip(code)
            return None
        enc = Encoder(self.c, MAX_INSTANCES, self.deadline)
        n = enc.size(e)
        if n > MAX_INSTANCES:
            self._too_large(code, what, e, n)
            return None
        try:
            term = enc.expr(e, {}, role)
        except _TooLarge:  # size() undercounted: still stopped before building it all
            self._too_large(code, what, e, None)
            return None
        except _OutOfTime:
            self._skip(code)
            return None
        return enc, term

    def _too_large(self, code: str, what: str, e: S.Expr, n: int | None) -> None:
        size = f"{n:,} instances" if n is not None else f"more than {MAX_INSTANCES:,} instances"
        self.notes.append(Diagnostic(
            code, f"{code} not checked for {what}: too large to encode ({size}; limit {MAX_INSTANCES:,})", e.span,
            "nested quantifiers are expanded over every node; the spec is fine, the lint just did not look",
            severity="note"))

    def solve(self, enc: Encoder, goal):
        """z3's answer (sat, unsat or unknown), or None when the budget is used up."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.01:
            return None
        s = new_solver()
        s.set("timeout", max(1, int(min(SOLVER_TIMEOUT_MS, remaining * 1000))))
        s.add(*enc.side)
        s.add(goal)
        r = s.check()
        if r == z3.unknown and self.out_of_time():
            return None
        return r

    def undecided(self, code: str, what: str, span, skipped: bool) -> None:
        """A check whose z3 call(s) gave no answer: a note (timeout), or counted in
        `skipped` when the overall budget ended it."""
        if skipped:
            self._skip(code)
            return
        self.notes.append(Diagnostic(
            code, f"{code} not checked for {what}: z3 could not decide it within {SOLVER_TIMEOUT_MS:,} ms", span,
            None, severity="note"))

    def _skip(self, code: str) -> None:
        self.skipped += 1
        self.skipped_codes.add(code)

    def summary(self) -> list[Diagnostic]:
        if not self.skipped:
            return self.notes
        n, codes = self.skipped, sorted(self.skipped_codes)
        return self.notes + [Diagnostic(
            codes[0], f"{n} z3 check{'s' if n != 1 else ''} ({'/'.join(codes)}) not run: the lint's time budget of "
                    f"{self.seconds:g} s was used up", NO_SPAN, None, severity="note")]


def lint(checked: CheckedSpec, notes: list[Diagnostic] | None = None,
         seconds: float = TOTAL_SECONDS) -> list[Diagnostic]:
    """The warnings of a checked spec, in source order.

    Checks the lint skipped (too large to encode, z3 timeout, overall time budget
    `seconds` used up) give diagnostics of severity "note", appended to `notes` when
    given (`modelcheck check` prints them). They are never warnings: `check --strict`
    does not fail on them."""
    z = _Z3Checks(checked, seconds)
    out: list[Diagnostic] = []
    out += _dead_guards(checked, z)
    out += _vacuous_invariants(checked, z)
    out += _message_flow(checked)
    out += _unread_variables(checked)
    out += _budgets(checked)
    out += unbounded.unbounded_sends(checked, z, Encoder)
    out += unbounded.broadcast_scope(checked)
    out += unbounded.stuck_requires(checked, z, Encoder)
    if notes is not None:
        notes += z.summary()
    return sorted(out, key=lambda d: (d.span.line, d.span.column, d.code))


def unbounded_warnings(checked: CheckedSpec, seconds: float = 1.0) -> list[Diagnostic]:
    """W107 alone (steps that can send without bound), within `seconds` of z3: what a
    `verify` that stopped early shows in its header (report/text.py)."""
    z = _Z3Checks(checked, seconds)
    return sorted(unbounded.unbounded_sends(checked, z, Encoder), key=lambda d: (d.span.line, d.span.column))


def format_note(d: Diagnostic, path: str = "<spec>") -> str:
    """One line: `file:line:col: note: message` (`file: note: message` without a position)."""
    where = f"{path}:{d.span.line}:{d.span.column}" if d.span.line else path
    return f"{where}: {d.severity}: {d.message}"


def _dead_guards(c: CheckedSpec, z: _Z3Checks) -> list[Diagnostic]:
    out = []
    for r in c.roles:
        items = [("handler 'on " + h.name + "'", h.guard) for h in r.decl.handlers] + \
                [("action '" + a.name + "'", a.guard) for a in r.decl.actions]
        for what, guard in items:
            if guard is None:
                continue
            what = f"the guard of {what} of role {r.name}"
            encoded = z.encode("W101", what, guard, r)
            if encoded is None or encoded[1] is None:
                continue
            enc, g = encoded
            result = z.solve(enc, g)
            if result is None or result == z3.unknown:
                z.undecided("W101", what, guard.span, result is None)
                continue
            if result == z3.unsat:
                consts = sorted({x.id for x in S.walk(guard) if isinstance(x, S.Name) and x.ref
                                 and x.ref[0] == "const"})
                hint = ("no values of the declared types satisfy it; check the comparison and the variables' "
                        "ranges")
                if consts:
                    hint = ("it is dead with " + ", ".join(f"{n} = {c.consts[n]}" for n in consts)
                            + "; if that const switches a feature off, this is expected (try --const)")
                out.append(Diagnostic("W101", f"this guard can never hold: {what[len('the guard of '):]} never runs",
                                      guard.span, hint, severity="warning"))
    return out


def _vacuous_invariants(c: CheckedSpec, z: _Z3Checks) -> list[Diagnostic]:
    out = []
    for inv in c.invariants:
        what = f"invariant '{inv.name}'"
        encoded = z.encode("W102", what, inv.expr, None)
        if encoded is None or encoded[1] is None:
            continue
        enc, f = encoded
        always = z.solve(enc, z3.Not(f))
        if always == z3.unsat:
            out.append(Diagnostic("W102", f"invariant '{inv.name}' holds in every state of the declared types: "
                                          "it checks nothing", inv.expr.span,
                                  "it is true whatever the protocol does (a bound that cannot be exceeded?)",
                                  severity="warning"))
            continue
        never = z.solve(enc, f) if always is not None else None
        if never == z3.unsat:
            out.append(Diagnostic("W102", f"invariant '{inv.name}' can never hold", inv.expr.span,
                                  "it is false in every state, the initial one included", severity="warning"))
        elif never is None or z3.unknown in (always, never):
            z.undecided("W102", what, inv.expr.span, never is None)
    return out


def _message_flow(c: CheckedSpec) -> list[Diagnostic]:
    sent: dict[str, S.Send] = {}
    for r in c.roles:
        for x in S.walk(r.decl):
            if isinstance(x, S.Send):
                sent.setdefault(x.message, x)
    handled = {h.name for r in c.roles for h in r.decl.handlers}
    out = []
    for r in c.roles:
        for h in r.decl.handlers:
            if h.name not in sent:
                out.append(Diagnostic("W103", f"nothing sends '{h.name}': this handler of role {r.name} never runs",
                                      h.span, f"send {h.name}(...) somewhere, or remove the handler",
                                      severity="warning"))
    for name, s in sent.items():
        if name not in handled:
            out.append(Diagnostic("W104", f"'{name}' is sent but no role handles it: it stays in flight for ever",
                                  s.message_span if s.message_span.line else s.span,
                                  f"add 'on {name}' to the receiving role", severity="warning"))
    return out


def _unread_variables(c: CheckedSpec) -> list[Diagnostic]:
    """Variables assigned somewhere but read nowhere (not in a guard, body, invariant
    or property; an assignment's target does not count as a read)."""
    trees: list = [c.invariants, c.properties, c.measures, [g.init for g in c.ghosts]]
    for r in c.roles:
        trees.append(r.decl)
    nodes = [x for t in trees for x in S.walk(t)]
    targets: set[int] = set()  # the Name nodes that are assignment targets
    written: set[int] = set()
    for x in nodes:
        if isinstance(x, S.Assign):
            root = x.target
            while isinstance(root, S.Index):
                root = root.obj
            targets.add(id(root))
            if root.ref and root.ref[0] in ("var", "ghost"):
                written.add(id(root.ref[1]))
    read: set[int] = set()
    read_fields: set[str] = set()  # n.var reads: by name (the role of n may be dynamic)
    for x in nodes:
        if isinstance(x, S.Name) and id(x) not in targets and x.ref and x.ref[0] in ("var", "ghost"):
            read.add(id(x.ref[1]))
        elif isinstance(x, S.Field):
            read_fields.add(x.name)
    out = []
    for r in c.roles:
        for v in r.vars:
            if id(v) in written and id(v) not in read and v.name not in read_fields:
                out.append(_unread(v, f"variable '{v.name}' of role {r.name}"))
    for g in c.ghosts:
        if id(g) in written and id(g) not in read:
            out.append(_unread(g, f"ghost variable '{g.name}'"))
    return out


def _unread(v: VarInfo, what: str) -> Diagnostic:
    return Diagnostic("W105", f"{what} is written but never read", v.span,
                      "no guard, handler, action, invariant or property reads it: every value it takes multiplies "
                      "the state space for nothing; remove it or check it in an invariant", severity="warning")


def _budgets(c: CheckedSpec) -> list[Diagnostic]:
    out = []
    for faults in [c.faults] + list(c.scenarios.values()):
        for f in faults:
            if f.kind != "crash" or f.budget is None:
                continue
            restarts = any(g.kind == "restart" and (g.role is None or f.role is None or g.role == f.role)
                           for g in faults)
            n = sum(r.size for r in c.roles if f.role is None or r.name == f.role)
            if not restarts and f.budget > n:
                who = f"{f.role} node" if f.role else "node"
                out.append(Diagnostic("W106", f"'crash at most {f.budget}' can never be used up: there are only "
                                              f"{n} {who}{'s' if n != 1 else ''} and no restart",
                                      f.span, f"use 'at most {n}', or add 'restart'", severity="warning"))
    return out
