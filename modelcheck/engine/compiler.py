"""Checked AST -> executable functions.

Each expression becomes a function `f(ctx) -> value` (generated Python source,
see codegen.py for why that is safe) and each statement a closure
`s(ctx) -> None` built once from the validated AST. `model.py` assembles these
into the transition system; the explorer never sees syntax.
"""
from __future__ import annotations

from typing import Callable

from ..lang import syntax as S
from ..lang.checker import CheckedSpec, VarInfo
from .codegen import CodeGen
from ..consistency.monitor import READ, WRITE, Misuse, RegisterMonitor
from ..lang.diagnostics import Source
from ..lang.types import MapT, SeqT, Type, holds_no_bools
from ..lang.values import Renderer, SpecRuntimeError, map_get, map_set, ordered, ordered_no_bools, value_checker


class Disabled(Exception):
    """Raised by `require` (or `any` over an empty set): the step is not enabled.
    Its argument is the statement's span (`modelcheck replay` points at it)."""


class Ctx:
    """Everything a compiled closure may read or write while one step runs."""

    __slots__ = ("vars", "ghosts", "env", "self_id", "sender", "out", "nodes", "up",
                 "choices", "sizes", "pos", "chosen", "clock", "now", "ops")

    def __init__(self, vars=None, ghosts=None, env=None, self_id=None, sender=None, nodes=None, up=None,
                 choices=None, clock=None, now=None):
        self.vars = vars
        self.ghosts = ghosts
        self.env = env if env is not None else {}
        self.self_id = self_id
        self.sender = sender
        self.out = []
        self.nodes = nodes
        self.up = up
        self.choices = choices if choices is not None else []
        self.sizes = []
        self.pos = 0
        self.chosen = []
        self.clock = clock  # the acting node's clock reading (time block only)
        self.now = now  # true time, for invariants and properties (time block only)
        self.ops = []  # client operations invoked or completed by this step (Step.ops)


Fn = Callable[[Ctx], object]


class Compiler:
    def __init__(self, checked: CheckedSpec, source: Source):
        self.c = checked
        self.source = source
        self.render = Renderer(checked.node_names)
        self.role_nodes = {r.name: r.node_ids for r in checked.roles}
        self.codegen = CodeGen(checked, source, self.render)
        # per register, the monitor of its client history (modelcheck/consistency)
        self.monitors = self.codegen.monitors
        self.monitors[:] = [self._monitor(reg) for reg in checked.registers]

    def _monitor(self, reg) -> RegisterMonitor:
        """A register's monitor: its key domain in the canonical order of values (a
        role's node ids, an enum's members, a range ascending) and its initial value
        (a constant: the checker allows nothing else there)."""
        from .model import _values_of
        keys = tuple(_values_of(reg.key, self.c)) if reg.key is not None else (None,)
        init = self.expr(reg.decl.init)(Ctx(vars=[], ghosts=[]))
        return RegisterMonitor(reg.name, reg.key is not None, keys, init, frozenset(reg.checks))

    # ---- expressions -------------------------------------------------------------

    def expr(self, e: S.Expr) -> Fn:
        """A function computing `e` (generated Python, see codegen.py)."""
        return self.codegen.function(e)

    def domain(self, e: S.Expr) -> Fn:
        """The elements a binder ranges over, in canonical order: a set's elements
        sorted, a seq's in sequence, a map's keys."""
        return self.codegen.domain_function(e)

    # ---- statements --------------------------------------------------------------

    def block(self, stmts: list[S.Stmt]) -> Callable[[Ctx], None]:
        fns = [self.stmt(s) for s in stmts]
        if len(fns) == 1:
            return fns[0]

        def run(c):
            for f in fns:
                f(c)
        return run

    def stmt(self, s: S.Stmt) -> Callable[[Ctx], None]:  # noqa: C901
        if isinstance(s, S.Assign):
            return self._assign(s)
        if isinstance(s, S.Let):
            value, name = self.expr(s.value), s.name

            def let(c):
                c.env[name] = value(c)
            return let
        if isinstance(s, S.LocalVar):
            return self._local_var(s)
        if isinstance(s, S.LetAny):
            return self._let_any(s)
        if isinstance(s, S.If):
            branches = [(self.expr(cond), self.block(body)) for cond, body in s.branches]
            orelse = self.block(s.orelse) if s.orelse is not None else None

            def if_(c):
                for cond, body in branches:
                    if cond(c):
                        body(c)
                        return
                if orelse is not None:
                    orelse(c)
            return if_
        if isinstance(s, S.For):
            dom, name, body = self.domain(s.domain), s.var, self.block(s.body)

            def for_(c):
                for x in dom(c):
                    c.env[name] = x
                    body(c)
                c.env.pop(name, None)
            return for_
        if isinstance(s, S.Send):
            return self._send(s)
        if isinstance(s, S.Require):
            cond, span = self.expr(s.cond), s.span

            def require(c):
                if not cond(c):
                    raise Disabled(span)
            return require
        if isinstance(s, (S.Invoke, S.Complete)):
            return self._operation(s)
        if isinstance(s, S.Assert):
            cond = self.expr(s.cond)
            text = s.text or f"assertion failed: {self.source.slice(s.cond.span)}"

            def assert_(c):
                if not cond(c):
                    raise SpecRuntimeError(text, s.span, kind="assert")
            return assert_
        raise AssertionError(s)

    def _operation(self, s) -> Callable[[Ctx], None]:
        """`invoke` / `complete`: the register's monitor (a hidden ghost slot after the
        spec's ghosts) takes the event, and the step records it for reports."""
        reg = s.ref
        mon, slot, index = self.monitors[reg.index], len(self.c.ghosts) + reg.index, reg.index
        kind = WRITE if s.op == "write" else READ
        span, render = s.span, self.render
        fits = value_checker(reg.value, self.role_nodes)
        if isinstance(s, S.Invoke):
            args = [self.expr(a) for a in s.args]
            keyed = reg.key is not None

            def invoke(c):
                values = [a(c) for a in args]
                key = values[0] if keyed else None
                value = values[-1] if kind == WRITE else None
                if keyed and key not in mon.keys:
                    raise SpecRuntimeError(f"key {render.text(key, reg.key)} of '{reg.name}' is outside its "
                                           f"type {reg.key}", span)
                if kind == WRITE and fits is not None and not fits(value):
                    raise SpecRuntimeError(f"value {render.text(value, reg.value)} written to '{reg.name}' is "
                                           f"outside its type {reg.value}", span)
                try:
                    c.ghosts[slot] = mon.invoke(c.ghosts[slot], c.self_id, kind, mon.key_index(key), value)
                except Misuse as err:
                    raise SpecRuntimeError(f"invoke {reg.name}.{s.op}: {err}", span) from None
                c.ops.append(("invoke", index, c.self_id, kind, key, value))
            return invoke
        result = self.expr(s.result) if s.result is not None else None

        def complete(c):
            value = result(c) if result is not None else None
            if result is not None and fits is not None and not fits(value):
                raise SpecRuntimeError(f"result {render.text(value, reg.value)} of '{reg.name}.read' is outside "
                                       f"its type {reg.value}", span)
            state = c.ghosts[slot]
            try:
                c.ghosts[slot] = mon.complete(state, c.self_id, kind, value)
            except Misuse as err:
                raise SpecRuntimeError(f"complete {reg.name}.{s.op}: {err}", span) from None
            key = next(mon.keys[op[2]] for op in state[0] if op[0] == c.self_id)
            c.ops.append(("complete", index, c.self_id, kind, key, value))
        return complete

    def _local_var(self, s: S.LocalVar) -> Callable[[Ctx], None]:
        """`var x: T = e` in a block: a binding like a `let`'s, range-checked like a variable."""
        value, name, t = self.expr(s.value), s.name, s.ref.type
        fits, render = value_checker(t, self.role_nodes), self.render

        def local_var(c):
            v = value(c)
            if fits is not None and not fits(v):
                raise SpecRuntimeError(_range_message(name, v, t, render), s.span)
            c.env[name] = v
        return local_var

    def _let_any(self, s: S.LetAny) -> Callable[[Ctx], None]:
        dom, name, elem_t, span = self.expr(s.domain), s.name, s.domain.type.elem, s.span
        in_order = ordered_no_bools if holds_no_bools(elem_t) else ordered

        def let_any(c):
            options = in_order(dom(c))
            if not options:
                raise Disabled(span)
            pos = c.pos
            if pos < len(c.choices):
                k = c.choices[pos]
            else:
                k = 0
                c.choices.append(0)
            c.sizes.append(len(options))
            c.pos = pos + 1
            c.env[name] = options[k]
            c.chosen.append((name, options[k], elem_t))
        return let_any

    def _assign(self, s: S.Assign) -> Callable[[Ctx], None]:
        path: list[S.Expr] = []
        root = s.target
        while isinstance(root, S.Index):
            path.append(root)
            root = root.obj
        path.reverse()
        kind, info = root.ref
        info: VarInfo  # or a LocalVarInfo, whose index is its name in c.env
        i, name = info.index, info.name
        fits = value_checker(info.type, self.role_nodes)
        value = self.expr(s.value)
        keys = [(self.expr(p.index), p.obj.type, p.span) for p in path]
        op = s.op
        render, ty = self.render, info.type

        def combine(old, v):
            if op == "=":
                return v
            if op == "+=":
                return old + v
            if op == "-=":
                return old - v
            return old | v  # |=

        types = [(t, sp) for _, t, sp in keys]
        # `v[k1][k2] = x` changes one entry of a value that fits its type (every value
        # stored did), so only that entry and the map keys on its path need checking:
        # checking the whole map or seq each time dominated specs with large maps.
        path_types = [t for _, t, _ in keys]
        local = bool(keys) and all(isinstance(t, (MapT, SeqT)) for t in path_types)
        if local:
            last = path_types[-1]
            leaf_fits = _remembered(value_checker(last.value if isinstance(last, MapT) else last.elem,
                                                  self.role_nodes))
            key_fits = [value_checker(t.key, self.role_nodes) if isinstance(t, MapT) else None for t in path_types]
            local_check = leaf_fits is not None or any(k is not None for k in key_fits)

        def assign(c):
            store = c.ghosts if kind == "ghost" else c.env if kind == "localvar" else c.vars
            v = value(c)
            if not keys:
                new = combine(store[i], v)
                if fits is not None and not fits(new):
                    raise SpecRuntimeError(_range_message(name, new, ty, render), s.span)
            else:
                ks = [k(c) for k, _, _ in keys]
                new = _set_path(store[i], ks, types, v, op, combine, render)
                if not local:
                    if fits is not None and not fits(new):
                        raise SpecRuntimeError(_range_message(name, new, ty, render), s.span)
                elif local_check and not _entry_fits(new, ks, path_types, leaf_fits, key_fits):
                    raise SpecRuntimeError(_range_message(name, new, ty, render), s.span)
            store[i] = new
        return assign

    def _send(self, s: S.Send) -> Callable[[Ctx], None]:
        msg = self.c.messages[s.message]
        args = [self.expr(a) for a in s.args]
        checks = [(fname, ft, value_checker(ft, self.role_nodes)) for fname, ft in msg.fields]
        kind_index, render = msg.index, self.render
        to = self.expr(s.to) if s.to is not None else None
        mode = s.kind
        role_peers: dict[int, tuple[int, ...]] = {}
        for r in self.c.roles:
            for n in r.node_ids:
                role_peers[n] = tuple(m for m in r.node_ids if m != n)

        def payload(c):
            values = tuple(a(c) for a in args)
            for v, (fname, ft, fits) in zip(values, checks):
                if fits is not None and not fits(v):
                    raise SpecRuntimeError(
                        f"field '{fname}' of {msg.name} would be {render.text(v, ft)}, outside its type {ft}", s.span)
            return values

        if mode == "send":
            def send(c):
                dst = to(c)
                if dst is None:
                    raise SpecRuntimeError(f"cannot send {msg.name} to none", s.span)
                c.out.append((c.self_id, dst, kind_index, payload(c)))
            return send
        if mode == "reply":
            def reply(c):
                c.out.append((c.self_id, c.sender, kind_index, payload(c)))
            return reply

        def broadcast(c):
            p = payload(c)
            dsts = ordered(to(c)) if to is not None else role_peers[c.self_id]
            for dst in dsts:
                c.out.append((c.self_id, dst, kind_index, p))
        return broadcast


def _set_path(container, keys, types, value, op, combine, render: Renderer):
    """Return `container` with container[k0][k1]... updated (immutably).

    A plain `m[k] = v` may add a key; a compound `m[k] += v` needs the key.
    """
    key, (t, span) = keys[0], types[0]
    last = len(keys) == 1
    if isinstance(t, MapT):
        if last and op == "=":
            return map_set(container, key, value)
        old = map_get(container, key, span, render.text(key, t.key))
    else:
        if not 0 <= key < len(container):
            raise SpecRuntimeError(f"index {key} is out of range for a seq of length {len(container)}", span)
        old = container[key]
    new = combine(old, value) if last else _set_path(old, keys[1:], types[1:], value, op, combine, render)
    if isinstance(t, MapT):
        return map_set(container, key, new)
    return container[:key] + (new,) + container[key + 1:]


def _remembered(fits):
    """A range check that remembers its answers: the same entries (a log, a set of
    node ids) are stored in many states. Values at one place have one type, so equal
    values are the same value (no `True == 1` mix-up)."""
    if fits is None:
        return None
    known: dict = {}

    def check(v) -> bool:
        r = known.get(v)
        if r is None:
            if len(known) >= 10_000:
                known.clear()
            r = known[v] = fits(v)
        return r
    return check


def _entry_fits(value, keys, types, leaf_fits, key_fits) -> bool:
    """Whether the entry value[k1][k2]... fits its type, and every map key on its path."""
    for k, t, kf in zip(keys, types, key_fits):
        if kf is not None and not kf(k):
            return False
        value = map_get(value, k, None) if isinstance(t, MapT) else value[k]
    return leaf_fits is None or leaf_fits(value)


def _range_message(name: str, value, t: Type, render: Renderer) -> str:
    if isinstance(t, SeqT) and isinstance(value, tuple) and t.max is not None and len(value) > t.max:
        return f"'{name}' would hold {len(value)} elements, more than its maximum {t.max}"
    return f"'{name}' would become {render.text(value, t)}, outside its type {t}"
