"""`modelcheck check` warnings about message flow that the type checker cannot see:
steps that send without bound (W107), broadcasts that miss the role that handles
the message (W108), and handler `require`s that leave a message in flight for ever
(W109). Codes and wording: docs/diagnostics.md.

Every state variable has a declared finite type (ranges, bounded seqs, sets and maps
over finite types), so node and ghost variables alone always make a finite model. What
can grow without end is the network: with `delivery unordered` every send adds one
copy to a multiset, with `delivery fifo` one entry to a queue. (`delivery set` keeps
one copy of each distinct message, and the possible messages are finite: a set
network is always finite.) So a model is infinite when some step can run again and
again, each time adding a message that is never taken out on that run.

W107 looks for the simplest such step, and only reports it when it can show it:

- an action whose guard still holds after the action has run, for every state of
  the declared types where it held (checked by z3, or syntactically when the guard
  reads nothing the action writes), whose body cannot be disabled (`require`,
  `assert`, `let x = any S`) or fail (a value leaving its range, a missing map key,
  a seq overflow, ...: a run-time error ends the search with a counterexample,
  which is a bound), and which sends at least one message on every run, to a role
  that handles it (messages nobody handles are dropped by verify's dead-message
  pruning, and W104 reports them);
- a handler that re-sends its own message kind to a node where it is enabled again
  for the new message (itself, or any node of its role when its guard reads no
  variable), and sends at least two messages on every run: each run consumes one
  message and adds at least two.

Anything the encoding does not cover (sets, maps, seqs, division, function calls,
loops that assign ranged variables...) makes the check give up on that step: it never
warns about a step it cannot analyse. The answer is over the declared types, not the
reachable states (like every lint check): "once this action can run, it can run for
ever".
"""
from __future__ import annotations

import z3

from ..lang import syntax as S
from ..lang.checker import CheckedSpec, RoleInfo
from ..lang.diagnostics import Diagnostic
from ..lang.types import BoolT, EnumT, IntT, NodeT
from ..network import MODES

# Functions whose call can raise a run-time error (last([]), min({}), a seq past its bound)
_FAILING_CALLS = {"last", "min", "max", "append"}


class _GiveUp(Exception):
    """The step uses something the analysis does not model: no claim is made."""


def _encodable(t) -> bool:
    return isinstance(t, (BoolT, IntT, EnumT, NodeT))


def _role_of(c: CheckedSpec, name: str) -> RoleInfo | None:
    return next((r for r in c.roles if r.name == name), None)


def _role_index(c: CheckedSpec, e: S.Expr) -> bool:
    """`Role[i]` with a literal index inside the role: cannot fail."""
    if not (isinstance(e, S.Index) and isinstance(e.obj, S.Name) and e.obj.ref and e.obj.ref[0] == "role"):
        return False
    r = e.obj.ref[1]
    return isinstance(e.index, S.IntLit) and r.count is not None and 0 <= int(e.index.value) < r.count


def may_fail(c: CheckedSpec, e: S.Expr | None) -> bool:
    """Whether evaluating `e` could raise a run-time error (conservatively: any index,
    slice, division, or call that can fail)."""
    if e is None:
        return False
    for x in S.walk(e):
        if isinstance(x, S.Index) and not _role_index(c, x):
            return True
        if isinstance(x, S.Slice):
            return True
        if isinstance(x, S.Call) and x.func in _FAILING_CALLS:
            return True
        if isinstance(x, S.BinOp) and x.op in ("/", "%"):
            return True
        if isinstance(x, S.Field) and not isinstance(x.obj, S.SelfRef):
            return True
    return False


def _var_key(role: RoleInfo, name: str) -> str:
    return f"{role.name}.self.{name}"


def _reads(e: S.Expr | None, role: RoleInfo) -> set[str]:
    """The keys of the node and ghost variables `e` reads."""
    out: set[str] = set()
    if e is None:
        return out
    for x in S.walk(e):
        if isinstance(x, S.Name) and x.ref and x.ref[0] == "var":
            out.add(_var_key(role, x.id))
        elif isinstance(x, S.Name) and x.ref and x.ref[0] == "ghost":
            out.add(f"ghost.{x.id}")
        elif isinstance(x, S.Field) and isinstance(x.obj, S.SelfRef):
            out.add(_var_key(role, x.name))
    return out


def _make_encoder(lint_encoder_cls):
    """The lint's Encoder, reading the current value of each variable a body has
    assigned (`cur`) and `self` as a node of the role."""

    class BodyEncoder(lint_encoder_cls):
        def __init__(self, checked, role, limit, deadline):
            super().__init__(checked, limit, deadline)
            self.role = role
            self.cur: dict[str, object] = {}

        def _expr(self, e, env, role):
            if isinstance(e, S.Name) and e.id not in env and e.ref and e.ref[0] in ("var", "ghost"):
                key = _var_key(self.role, e.id) if e.ref[0] == "var" else f"ghost.{e.id}"
                if key in self.cur:
                    return self.cur[key]
            if isinstance(e, S.Field) and isinstance(e.obj, S.SelfRef):
                key = _var_key(self.role, e.name)
                if key in self.cur:
                    return self.cur[key]
            if isinstance(e, S.SelfRef):
                return self.var("self", NodeT(self.role.name))
            return super()._expr(e, env, role)

    return BodyEncoder


class _Send:
    """One send a body makes on every run that reaches it."""

    def __init__(self, stmt: S.Send, path, args, count: int, top: bool):
        self.stmt = stmt
        self.path = path  # z3: the body reaches it
        self.args = args  # z3 terms of the payload (None: not encoded)
        self.count = count  # messages it adds: guaranteed on every run when top
        self.top = top  # at the body's top level (not inside if / for)


class _Run:
    """Symbolic execution of one handler or action body over the lint's encoding:
    what it assigns, what it must not violate (obligations), what it sends."""

    def __init__(self, c: CheckedSpec, role: RoleInfo, enc, handler: bool):
        self.c, self.role, self.enc, self.handler = c, role, enc, handler
        self.obligations: list = []  # z3 Bools that must hold for the run to complete
        self.sends: list[_Send] = []
        self.written: set[str] = set()
        self.types: dict = {}  # the type of each written variable, by key
        self.env: dict = {}

    def e(self, x: S.Expr):
        if may_fail(self.c, x):
            raise _GiveUp()
        return self.enc.expr(x, self.env, self.role)

    def oblige(self, path, cond) -> None:
        if cond is None:
            raise _GiveUp()
        self.obligations.append(z3.Implies(path, cond))

    def fits(self, t, v):
        """z3: value v (encoded) lies in type t; None when t is not encodable."""
        if isinstance(t, IntT):
            if t.lo is None or t.hi is None:
                return z3.BoolVal(True)
            return z3.And(v >= t.lo, v <= t.hi)
        if isinstance(t, NodeT) and t.role is not None:
            r = _role_of(self.c, t.role)
            return z3.And(v >= r.first, v <= r.first + r.size - 1)
        if isinstance(t, (BoolT, EnumT, NodeT)):
            return z3.BoolVal(True)
        return None

    def store(self, path, t, value: S.Expr, v) -> None:
        """Oblige that storing `value` (encoded as v) in type t cannot fail."""
        if _encodable(t):
            if v is None:
                raise _GiveUp()
            self.oblige(path, self.fits(t, v))
        elif value.type != t or any(isinstance(x, (S.IntLit, S.BinOp, S.Neg, S.Call, S.SetComp))
                                    and not (isinstance(x, S.BinOp) and x.op in ("|", "&", "-")
                                             and not isinstance(x.type, IntT))
                                    for x in S.walk(value)):
            raise _GiveUp()  # a value of another type (a node stored as a Server...) is checked at run time

    def run(self, stmts: list[S.Stmt], path, top: bool) -> None:
        for s in stmts:
            self.stmt(s, path, top)

    def stmt(self, s: S.Stmt, path, top: bool) -> None:  # noqa: C901 - one case per statement
        enc = self.enc
        if isinstance(s, S.Assign):
            root = s.target
            if not isinstance(root, S.Name) or not root.ref or root.ref[0] not in ("var", "ghost"):
                raise _GiveUp()
            kind, info = root.ref
            key = _var_key(self.role, root.id) if kind == "var" else f"ghost.{root.id}"
            self.written.add(key)
            t = info.type
            self.types[key] = t
            if _encodable(t):
                v = self.e(s.value)
                if v is None:
                    raise _GiveUp()
                old = enc.cur.get(key)
                if old is None:
                    old = enc.var(key, t)
                new = v if s.op == "=" else (old + v if s.op == "+=" else old - v) if s.op in ("+=", "-=") else None
                if new is None:
                    raise _GiveUp()
                self.store(path, t, s.value, new)
                enc.cur[key] = new
            else:
                if may_fail(self.c, s.value):
                    raise _GiveUp()
                self.store(path, t, s.value, None)
                enc.cur[key] = enc.unknown(t)  # not encoded: some new value
        elif isinstance(s, S.Let):
            v = self.e(s.value)
            if v is not None:
                self.env[s.name] = v
        elif isinstance(s, S.LetAny):
            dom = s.domain
            if not (isinstance(dom, S.Name) and dom.ref and dom.ref[0] == "role"):
                raise _GiveUp()  # an empty set would disable the step
            self.env[s.name] = enc.unknown(NodeT(dom.ref[1].name))
        elif isinstance(s, S.If):
            rest = path
            branches = [(c, b) for c, b in s.branches] + [(None, s.orelse or [])]
            before = dict(enc.cur)
            outs = []
            for cond, body in branches:
                if cond is None:
                    taken = rest
                else:
                    cv = self.e(cond)
                    if cv is None:
                        raise _GiveUp()
                    taken = z3.And(rest, cv)
                    rest = z3.And(rest, z3.Not(cv))
                enc.cur = dict(before)
                self.run(body, taken, False)
                outs.append((taken, enc.cur))
            enc.cur = dict(before)
            for k in {k for _, cur in outs for k in cur}:
                vals = [cur.get(k, before.get(k)) for _, cur in outs]
                vals = [v if v is not None else enc.var(k, self.types[k]) for v in vals]
                acc = vals[-1]
                for (taken, _), v in zip(reversed(outs[:-1]), reversed(vals[:-1])):
                    if v is not acc:
                        acc = z3.If(taken, v, acc)
                enc.cur[k] = acc
        elif isinstance(s, S.For):
            for x in S.walk(s.body):
                if isinstance(x, (S.Require, S.Assert, S.LetAny)):
                    raise _GiveUp()
                if isinstance(x, S.Assign):
                    root = x.target
                    if not isinstance(root, S.Name) or not root.ref or _encodable(root.ref[1].type):
                        raise _GiveUp()
                if isinstance(x, S.Expr) and may_fail(self.c, x):
                    raise _GiveUp()
            if may_fail(self.c, s.domain):
                raise _GiveUp()
            for x in S.walk(s.body):
                if isinstance(x, S.Assign):
                    self.store(path, x.target.ref[1].type, x.value, None)
                    key = (_var_key(self.role, x.target.id) if x.target.ref[0] == "var"
                           else f"ghost.{x.target.id}")
                    self.written.add(key)
                    self.types[key] = x.target.ref[1].type
                    enc.cur[key] = enc.unknown(self.types[key])
                elif isinstance(x, S.Send):
                    self.sends.append(_Send(x, path, None, 0, False))
        elif isinstance(s, S.Send):
            self.send(s, path, top)
        elif isinstance(s, (S.Require, S.Assert)):
            self.oblige(path, self.e(s.cond))
        else:
            raise _GiveUp()

    def send(self, s: S.Send, path, top: bool) -> None:
        msg = self.c.messages[s.message]
        args = []
        for a, (_, ft) in zip(s.args, msg.fields):
            v = self.e(a)
            self.store(path, ft, a, v)
            args.append(v)
        count = 0
        if s.kind == "send":
            t = s.to.type
            if not isinstance(t, NodeT) or (may_fail(self.c, s.to) and not _role_index(self.c, s.to)):
                raise _GiveUp()  # an optional destination may be none (a run-time error)
            count = 1
        elif s.kind == "reply":
            count = 1
        elif s.to is None:
            count = self.role.size - 1
        elif isinstance(s.to, S.Name) and s.to.ref and s.to.ref[0] == "role":
            count = s.to.ref[1].size
        elif may_fail(self.c, s.to):
            raise _GiveUp()
        self.sends.append(_Send(s, path, args, count, top))


def _handled_by(c: CheckedSpec) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in c.roles:
        for h in r.decl.handlers:
            out.setdefault(h.name, set()).add(r.name)
    return out


def _reaches_handler(c: CheckedSpec, role: RoleInfo, s: S.Send, handled: dict[str, set[str]]) -> bool:
    """Whether the messages of send `s` go to a role that handles them (messages nobody
    handles are dropped by verify's dead-message pruning)."""
    roles = handled.get(s.message, set())
    if s.kind == "broadcast" and s.to is None:
        return role.name in roles
    dest = s.to.type if s.kind == "send" else None
    if isinstance(dest, NodeT) and dest.role is not None:
        return dest.role in roles
    if s.kind == "broadcast" and isinstance(s.to, S.Name) and s.to.ref and s.to.ref[0] == "role":
        return s.to.ref[1].name in roles
    return bool(roles)


def unbounded_sends(c: CheckedSpec, z, encoder_cls) -> list[Diagnostic]:
    """W107 (module docstring). `z` is the lint's budgeted z3 runner (lint._Z3Checks)
    and `encoder_cls` its Encoder."""
    mode = MODES[c.delivery]
    if not mode.consumes:  # a message set is finite: re-sending adds nothing
        return []
    handled = _handled_by(c)
    BodyEncoder = _make_encoder(encoder_cls)
    out = []
    for r in c.roles:
        for a in r.decl.actions:
            d = _action(c, r, a, handled, z, BodyEncoder)
            if d is not None:
                out.append(d)
        for h in r.decl.handlers:
            d = _handler(c, r, h, handled, z, BodyEncoder)
            if d is not None:
                out.append(d)
    return out


def _prove(z, enc, assumptions: list, goals: list) -> bool:
    """z3 shows: the assumptions imply every goal, for all values of the declared types."""
    if z.out_of_time():  # like every W107 question left open: no claim, no note
        return False
    goal = z3.And(*goals) if goals else z3.BoolVal(True)
    result = z.solve(enc, z3.And(*assumptions, z3.Not(goal)) if assumptions else z3.Not(goal))
    return result == z3.unsat


def _possible(z, enc, g) -> bool:
    """z3 finds values of the declared types that satisfy g (a dead guard is W101's)."""
    return not z.out_of_time() and z.solve(enc, g) == z3.sat


def _delivery_words(c: CheckedSpec) -> str:
    return ("with 'delivery fifo' each send adds an entry to a queue" if c.delivery == "fifo"
            else "with 'delivery unordered' each send adds one more copy in flight")


def _action(c, r: RoleInfo, a: S.ActionDecl, handled, z, BodyEncoder) -> Diagnostic | None:
    from .lint import MAX_INSTANCES, _OutOfTime, _TooLarge
    if not any(isinstance(x, S.Send) for x in S.walk(a.body)) or may_fail(c, a.guard):
        return None
    enc = BodyEncoder(c, r, MAX_INSTANCES, z.deadline)
    try:
        g = enc.expr(a.guard, {}, r) if a.guard is not None else z3.BoolVal(True)
        run = _Run(c, r, enc, handler=False)
        run.run(a.body, z3.BoolVal(True), True)
        sends = [s for s in run.sends if s.top and s.count > 0 and _reaches_handler(c, r, s.stmt, handled)]
        if not sends:
            return None
        syntactic = not (_reads(a.guard, r) & run.written)
        if syntactic:
            g_after = g
        else:
            g_after = enc.expr(a.guard, {}, r)
    except (_GiveUp, _TooLarge, _OutOfTime):
        return None
    if g is None or g_after is None:
        return None
    if not _possible(z, enc, g) or not _prove(z, enc, [g], run.obligations + [g_after]):
        return None
    kinds = list(dict.fromkeys(f"'{s.stmt.message}'" for s in sends))
    why = ("its guard reads nothing the action changes" if syntactic
           else "its guard still holds after it runs, whatever the state")
    return Diagnostic(
        "W107", f"action '{a.name}' of role {r.name} can run for ever, sending {' and '.join(kinds)} each time: "
                f"the messages in flight grow without bound",
        a.span,
        f"{why}, and {_delivery_words(c)}, so the state space is infinite (verify stops only at --max-states, "
        "--timeout or the memory limit). Bound it: a guard the action falsifies (`when not sent`), a bounded "
        "counter, or `delivery set`", severity="warning")


def _handler(c, r: RoleInfo, h: S.HandlerDecl, handled, z, BodyEncoder) -> Diagnostic | None:
    from .lint import MAX_INSTANCES, _OutOfTime, _TooLarge
    own = [x for x in S.walk(h.body) if isinstance(x, S.Send) and x.message == h.name]
    if not own or may_fail(c, h.guard):
        return None
    params = [p for p, _ in h.params]
    sender = h.sender[0] if h.sender else None
    enc = BodyEncoder(c, r, MAX_INSTANCES, z.deadline)
    try:
        g = enc.expr(h.guard, {}, r) if h.guard is not None else z3.BoolVal(True)
        run = _Run(c, r, enc, handler=True)
        run.run(h.body, z3.BoolVal(True), True)
        sends = [s for s in run.sends if s.top and s.count > 0 and _reaches_handler(c, r, s.stmt, handled)]
        if sum(s.count for s in sends) < 2:
            return None
        reads_vars = bool(_reads(h.guard, r))
        goals = []
        again = None
        for s in sends:
            if s.stmt.message != h.name or any(v is None for v in s.args):
                continue
            to_self = s.stmt.kind == "send" and isinstance(s.stmt.to, S.SelfRef)
            to_role = ((s.stmt.kind == "broadcast" and s.stmt.to is None)
                       or (s.stmt.kind == "broadcast" and isinstance(s.stmt.to, S.Name) and s.stmt.to.ref
                           and s.stmt.to.ref[0] == "role" and s.stmt.to.ref[1].name == r.name))
            if not (to_self or (to_role and not reads_vars)):
                continue
            env = {p: v for p, v in zip(params, s.args) if p is not None and p != "_"}
            if sender is not None and sender != "_":
                env[sender] = enc.var("self", NodeT(r.name))
            # the receiver's variables: its own after the run (to self), or not read
            g_new = enc.expr(h.guard, env, r) if h.guard is not None else z3.BoolVal(True)
            if g_new is None:
                continue
            again = s
            goals = [g_new]
            break
        if again is None:
            return None
    except (_GiveUp, _TooLarge, _OutOfTime):
        return None
    if g is None or not _possible(z, enc, g) or not _prove(z, enc, [g], run.obligations + goals):
        return None
    total = sum(s.count for s in sends)
    return Diagnostic(
        "W107", f"handler 'on {h.name}' of role {r.name} can run for ever: each run consumes one '{h.name}' and "
                f"sends {total} messages, one of them a '{h.name}' it accepts again: the messages in flight grow "
                "without bound",
        h.span,
        f"{_delivery_words(c)}, so the state space is infinite (verify stops only at --max-states, --timeout or "
        "the memory limit). Bound it with a variable the handler changes in its guard, or use `delivery set`",
        severity="warning")


# ---- W108: broadcast without `to` -----------------------------------------------------------

def broadcast_scope(c: CheckedSpec) -> list[Diagnostic]:
    """W108: `broadcast M` (no `to`) reaches only the other nodes of the sender's role;
    when that role has no handler for M but another role has, the broadcast misses it."""
    handled = _handled_by(c)
    out = []
    for r in c.roles:
        for x in S.walk(r.decl):
            if not (isinstance(x, S.Send) and x.kind == "broadcast" and x.to is None):
                continue
            roles = handled.get(x.message, set())
            if not roles or r.name in roles:
                continue  # nobody handles it: W104
            others = sorted(roles, key=lambda n: next(i for i, q in enumerate(c.roles) if q.name == n))
            what = (f"which has no handler for '{x.message}' ({', '.join(others)} handles it)" if r.size > 1
                    else f"and it has no other node: {', '.join(others)}, which handles '{x.message}', never gets it")
            out.append(Diagnostic(
                "W108", f"'broadcast {x.message}' without 'to' reaches only the other nodes of role {r.name}, {what}",
                x.message_span if x.message_span.line else x.span,
                f"write 'broadcast {x.message}(...) to {others[0]}' to reach the nodes of {others[0]}",
                severity="warning"))
    return out


# ---- W109: a handler's require that rejects a message for ever ---------------------------------

def stuck_requires(c: CheckedSpec, z, encoder_cls) -> list[Diagnostic]:
    """W109: in a handler, a top-level `require` that reads only the message (its fields
    and sender), lets computed from them and consts, and that some send of the spec
    makes false (z3, over the sender's declared types, on the path to the send): that
    message is never consumed. Only where delivery consumes (a message set keeps every
    message anyway) and the role has no other handler for the kind."""
    if not MODES[c.delivery].consumes:
        return []
    BodyEncoder = _make_encoder(encoder_cls)
    sites = None  # (role, send site, encoder) of every send the executor can model
    out = []
    for r in c.roles:
        for h in r.decl.handlers:
            if sum(1 for q in r.decl.handlers if q.name == h.name) != 1:
                continue
            bound = {p for p, _ in h.params if p not in (None, "_")}
            if h.sender and h.sender[0] != "_":
                bound.add(h.sender[0])
            lets: list[S.Let] = []
            for s in h.body:
                if isinstance(s, S.Let):
                    if _payload_only(s.value, bound):
                        bound.add(s.name)
                        lets.append(s)
                    continue
                if isinstance(s, (S.LetAny, S.For)):
                    break
                if not isinstance(s, S.Require) or not _payload_only(s.cond, bound) or may_fail(c, s.cond):
                    continue
                if sites is None:
                    sites = _send_sites(c, z, BodyEncoder)
                if _rejects_some(c, z, h, lets, s, sites, r):
                    out.append(Diagnostic(
                        "W109", f"this require can reject a '{h.name}' for ever: it reads only the message, so a "
                                f"'{h.name}' it rejects is never consumed by 'on {h.name}' of role {r.name} and stays "
                                "in flight", s.cond.span,
                        "a false require means the step does not exist, so the message is not consumed: it stays "
                        "in flight (unless verify's dead-message pruning drops it) and, with fifo, blocks the "
                        "messages behind it. To drop such messages, test with `if`; to make them wait for the "
                        "node's state, use the `when` guard",
                        severity="warning"))
    return out


def _payload_only(e: S.Expr, bound: set[str]) -> bool:
    """Whether `e` reads nothing but the names in `bound` (the message's fields and
    sender, lets of them), consts, enum members and role names."""
    for x in S.walk(e):
        if isinstance(x, (S.SelfRef, S.Quant, S.Count, S.SetComp, S.Call, S.Field)):
            return False
        if isinstance(x, S.Name):
            kind = x.ref[0] if x.ref else None
            if kind == "local" and x.id in bound:
                continue
            if kind not in ("const", "enum", "role"):
                return False
    return True


def _send_sites(c: CheckedSpec, z, BodyEncoder) -> list:
    """Every send of the spec with the path to it and its payload, per step body the
    executor can model (a body it cannot model contributes nothing)."""
    from .lint import MAX_INSTANCES, _OutOfTime, _TooLarge
    out = []
    for r in c.roles:
        bodies = [(a.guard, a.body) for a in r.decl.actions] + [(h.guard, h.body) for h in r.decl.handlers]
        if r.decl.restart:
            bodies.append((None, r.decl.restart))
        for guard, body in bodies:
            if not any(isinstance(x, S.Send) for x in S.walk(body)):
                continue
            enc = BodyEncoder(c, r, MAX_INSTANCES, z.deadline)
            try:
                g = enc.expr(guard, {}, r) if guard is not None else z3.BoolVal(True)
                run = _Run(c, r, enc, handler=True)
                run.run(body, z3.BoolVal(True), True)
            except (_GiveUp, _TooLarge, _OutOfTime):
                continue
            if g is None:
                g = z3.BoolVal(True)
            for s in run.sends:
                if s.args is not None:
                    out.append((r, s, enc, g, run.obligations))
    return out


def _rejects_some(c, z, h: S.HandlerDecl, lets, req: S.Require, sites, role: RoleInfo) -> bool:
    from .lint import _OutOfTime, _TooLarge
    params = [p for p, _ in h.params]
    for r, s, enc, g, obligations in sites:
        if s.stmt.message != h.name or not _may_reach(c, r, s.stmt, role):
            continue
        if any(v is None for v in s.args):
            continue
        env = {p: v for p, v in zip(params, s.args) if p not in (None, "_")}
        if h.sender and h.sender[0] != "_":
            env[h.sender[0]] = enc.var("self", NodeT(r.name))
        try:
            cond = None
            for let in lets:
                v = enc.expr(let.value, env, None)
                if v is None:  # not encoded: the require cannot be followed through it
                    break
                env[let.name] = v
            else:
                cond = enc.expr(req.cond, env, None)
        except (_TooLarge, _OutOfTime):  # no claim
            continue
        if cond is None:
            continue
        # the send happens (its path, its guard, no run-time error before it) and the require is false
        result = z.solve(enc, z3.And(g, s.path, *obligations, z3.Not(cond)))
        if result == z3.sat:
            return True
    return False


def _may_reach(c: CheckedSpec, sender: RoleInfo, s: S.Send, role: RoleInfo) -> bool:
    """Whether send `s` (by a node of `sender`) can go to a node of `role`."""
    if s.kind == "broadcast" and s.to is None:
        return sender.name == role.name and sender.size > 1
    if s.kind == "send":
        t = s.to.type
        inner = getattr(t, "inner", t)
        return not (isinstance(inner, NodeT) and inner.role is not None and inner.role != role.name)
    return True
