"""Checked AST -> executable closures.

Each expression becomes a function `f(ctx) -> value` and each statement a
function `s(ctx) -> None`, built once from the validated AST (no `eval`, no
generated source: nothing in a spec can run arbitrary Python). `model.py`
assembles these into the transition system; the explorer never sees syntax.
"""
from __future__ import annotations

from typing import Callable

from . import syntax as S
from .checker import CheckedSpec, RoleInfo, VarInfo
from .diagnostics import Source
from .types import MapT, SeqT, TupleT, Type
from .values import (Renderer, SpecRuntimeError, map_from, map_get, map_has, map_keys, map_set, ordered,
                     value_checker)


class Disabled(Exception):
    """Raised by `require` (or `any` over an empty set): the step is not enabled."""


class Ctx:
    """Everything a compiled closure may read or write while one step runs."""

    __slots__ = ("vars", "ghosts", "env", "self_id", "sender", "out", "nodes", "up",
                 "choices", "sizes", "pos", "chosen")

    def __init__(self, vars=None, ghosts=None, env=None, self_id=None, sender=None, nodes=None, up=None,
                 choices=None):
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


Fn = Callable[[Ctx], object]


class Compiler:
    def __init__(self, checked: CheckedSpec, source: Source):
        self.c = checked
        self.source = source
        self.render = Renderer(checked.node_names)
        self.role_nodes = {r.name: r.node_ids for r in checked.roles}
        # For `n.var` where n's role is only known at run time.
        self.var_index: list[dict[str, int]] = [
            {v.name: v.index for v in role.vars} for role in checked.node_roles]

    # ---- expressions -------------------------------------------------------------

    def expr(self, e: S.Expr) -> Fn:  # noqa: C901 - one case per expression form
        if isinstance(e, S.IntLit):
            v = e.value
            return lambda c: v
        if isinstance(e, S.BoolLit):
            v = e.value
            return lambda c: v
        if isinstance(e, S.NoneLit):
            return lambda c: None
        if isinstance(e, S.SelfRef):
            return lambda c: c.self_id
        if isinstance(e, S.Name):
            return self._name(e)
        if isinstance(e, S.Field):
            return self._field(e)
        if isinstance(e, S.Index):
            return self._index(e)
        if isinstance(e, S.Slice):
            obj = self.expr(e.obj)
            lo = self.expr(e.lo) if e.lo is not None else (lambda c: None)
            hi = self.expr(e.hi) if e.hi is not None else (lambda c: None)
            return lambda c: obj(c)[lo(c):hi(c)]
        if isinstance(e, S.Call):
            return self._call(e)
        if isinstance(e, S.Count):
            dom, name = self.domain(e.domain), e.var
            cond = self.expr(e.cond) if e.cond is not None else (lambda c: True)

            def count(c):
                n = 0
                for x in dom(c):
                    c.env[name] = x
                    if cond(c):
                        n += 1
                c.env.pop(name, None)
                return n
            return count
        if isinstance(e, S.Quant):
            dom, name, body = self.domain(e.domain), e.var, self.expr(e.body)
            want = e.kind == "exists"

            def quant(c):
                result = not want
                for x in dom(c):
                    c.env[name] = x
                    if bool(body(c)) == want:
                        result = want
                        break
                c.env.pop(name, None)
                return result
            return quant
        if isinstance(e, S.SetComp):
            dom, name, elem = self.domain(e.domain), e.var, self.expr(e.elem)
            cond = self.expr(e.cond) if e.cond is not None else (lambda c: True)

            def comp(c):
                out = set()
                for x in dom(c):
                    c.env[name] = x
                    if cond(c):
                        out.add(elem(c))
                c.env.pop(name, None)
                return frozenset(out)
            return comp
        if isinstance(e, S.Ite):
            cond, a, b = self.expr(e.cond), self.expr(e.then), self.expr(e.other)
            return lambda c: a(c) if cond(c) else b(c)
        if isinstance(e, S.Not):
            inner = self.expr(e.operand)
            return lambda c: not inner(c)
        if isinstance(e, S.Neg):
            inner = self.expr(e.operand)
            return lambda c: -inner(c)
        if isinstance(e, S.BinOp):
            return self._binop(e)
        if isinstance(e, S.TupleLit):
            items = [self.expr(i) for i in e.items]
            return lambda c: tuple(i(c) for i in items)
        if isinstance(e, S.SeqLit):
            items = [self.expr(i) for i in e.items]
            return lambda c: tuple(i(c) for i in items)
        if isinstance(e, S.SetLit):
            items = [self.expr(i) for i in e.items]
            return lambda c: frozenset(i(c) for i in items)
        if isinstance(e, S.MapLit):
            entries = [(self.expr(k), self.expr(v)) for k, v in e.entries]
            return lambda c: map_from((k(c), v(c)) for k, v in entries)
        if isinstance(e, S.Temporal):
            raise NotImplementedError("temporal properties are evaluated by the liveness checker")
        raise AssertionError(e)

    def domain(self, e: S.Expr) -> Fn:
        """The elements a binder ranges over, in canonical order: a set's elements
        sorted, a seq's in sequence, a map's keys."""
        if isinstance(e, S.Name) and e.ref[0] == "role":
            ids = list(e.ref[1].node_ids)
            return lambda c: ids
        f = self.expr(e)
        if isinstance(e.type, SeqT):
            return f
        if isinstance(e.type, MapT):
            return lambda c: map_keys(f(c))
        return lambda c: ordered(f(c))

    def _name(self, e: S.Name) -> Fn:
        kind, payload = e.ref
        if kind == "local":
            name = e.id
            return lambda c: c.env[name]
        if kind == "var":
            i = payload.index
            return lambda c: c.vars[i]
        if kind == "ghost":
            i = payload.index
            return lambda c: c.ghosts[i]
        if kind in ("const", "enum"):
            v = payload
            return lambda c: v
        role: RoleInfo = payload
        v = frozenset(role.node_ids) if role.count is not None else role.first
        return lambda c: v

    def _field(self, e: S.Field) -> Fn:
        if isinstance(e.obj, S.SelfRef):
            i = next(v.index for v in self._role_of(e.obj).vars if v.name == e.name)
            return lambda c: c.vars[i]
        obj, name, index = self.expr(e.obj), e.name, self.var_index
        if e.obj.type.role is not None:
            # The role is known statically, so is the variable's position.
            i = next(v.index for v in self._role_of(e.obj).vars if v.name == name)
            return lambda c: c.nodes[obj(c)][i]

        def field(c):
            n = obj(c)
            if n is None:
                raise SpecRuntimeError(f"'{self.source.slice(e.obj.span)}' is none, so it has no '{name}'", e.span)
            i = index[n].get(name)
            if i is None:
                raise SpecRuntimeError(f"{self.render.node(n)} has no variable '{name}'", e.span)
            return c.nodes[n][i]
        return field

    def _role_of(self, e: S.Expr) -> RoleInfo:
        return next(r for r in self.c.roles if r.name == e.type.role)

    def _index(self, e: S.Index) -> Fn:
        obj, idx = self.expr(e.obj), self.expr(e.index)
        if isinstance(e.obj, S.Name) and e.obj.ref[0] == "role":
            role: RoleInfo = e.obj.ref[1]
            first, size, rname = role.first, role.size, role.name

            def node(c):
                i = idx(c)
                if not 0 <= i < size:
                    raise SpecRuntimeError(f"{rname}[{i}] does not exist: {rname} has {size} node(s)", e.span)
                return first + i
            return node
        t = e.obj.type
        if isinstance(t, MapT):
            return lambda c: map_get(obj(c), idx(c), e.span)
        if isinstance(t, SeqT):
            def seq_at(c):
                s, i = obj(c), idx(c)
                if not 0 <= i < len(s):
                    raise SpecRuntimeError(f"index {i} is out of range for a seq of length {len(s)}", e.span)
                return s[i]
            return seq_at
        if isinstance(t, TupleT):
            k = e.index.value
            return lambda c: obj(c)[k]
        raise AssertionError(t)

    def _call(self, e: S.Call) -> Fn:
        args = [self.expr(a) for a in e.args]
        a0 = args[0]
        f = e.func
        if f == "len":
            return lambda c: len(a0(c))
        if f in ("min", "max"):
            pick = min if f == "min" else max

            def minmax(c):
                s = a0(c)
                if not s:
                    raise SpecRuntimeError(f"{f}() of an empty set", e.span)
                return pick(s)
            return minmax
        if f == "append":
            a1 = args[1]
            return lambda c: a0(c) + (a1(c),)
        if f == "last":
            def last(c):
                s = a0(c)
                if not s:
                    raise SpecRuntimeError("last() of an empty seq", e.span)
                return s[-1]
            return last
        if f == "keys":
            return lambda c: frozenset(k for k, _ in a0(c))
        if f == "crashed":
            return lambda c: not c.up[a0(c)]
        raise AssertionError(f)

    def _binop(self, e: S.BinOp) -> Fn:  # noqa: C901
        a, b, op = self.expr(e.left), self.expr(e.right), e.op
        # Operands of and/or/=> are bools (the checker guarantees it), so no bool() calls.
        if op == "and":
            return lambda c: a(c) and b(c)
        if op == "or":
            return lambda c: a(c) or b(c)
        if op == "=>":
            return lambda c: (not a(c)) or b(c)
        if op == "==":
            return lambda c: a(c) == b(c)
        if op == "!=":
            return lambda c: a(c) != b(c)
        if op == "<":
            return lambda c: a(c) < b(c)
        if op == "<=":
            return lambda c: a(c) <= b(c)
        if op == ">":
            return lambda c: a(c) > b(c)
        if op == ">=":
            return lambda c: a(c) >= b(c)
        if op in ("in", "not in"):
            if isinstance(e.right.type, MapT):
                member = lambda c: map_has(b(c), a(c))  # noqa: E731
            else:
                member = lambda c: a(c) in b(c)  # noqa: E731
            return member if op == "in" else (lambda c: not member(c))
        if op == "has":
            return lambda c: map_has(a(c), b(c))
        if op == "|":
            return lambda c: a(c) | b(c)
        if op == "&":
            return lambda c: a(c) & b(c)
        if op == "-":
            return lambda c: a(c) - b(c)
        if op == "+":
            return lambda c: a(c) + b(c)
        if op == "*":
            return lambda c: a(c) * b(c)
        if op in ("/", "%"):
            def divide(c):
                x, y = a(c), b(c)
                if y == 0:
                    raise SpecRuntimeError(f"division by zero in '{self.source.slice(e.span)}'", e.span)
                return x // y if op == "/" else x % y
            return divide
        raise AssertionError(op)

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
            cond = self.expr(s.cond)

            def require(c):
                if not cond(c):
                    raise Disabled()
            return require
        if isinstance(s, S.Assert):
            cond = self.expr(s.cond)
            text = s.text or f"assertion failed: {self.source.slice(s.cond.span)}"

            def assert_(c):
                if not cond(c):
                    raise SpecRuntimeError(text, s.span, kind="assert")
            return assert_
        raise AssertionError(s)

    def _let_any(self, s: S.LetAny) -> Callable[[Ctx], None]:
        dom, name, elem_t = self.expr(s.domain), s.name, s.domain.type.elem

        def let_any(c):
            options = ordered(dom(c))
            if not options:
                raise Disabled()
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
        info: VarInfo
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

        def assign(c):
            store = c.ghosts if kind == "ghost" else c.vars
            v = value(c)
            if not keys:
                new = combine(store[i], v)
            else:
                ks = [k(c) for k, _, _ in keys]
                new = _set_path(store[i], ks, [(t, sp) for _, t, sp in keys], v, op, combine)
            if fits is not None and not fits(new):
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


def _set_path(container, keys, types, value, op, combine):
    """Return `container` with container[k0][k1]... updated (immutably).

    A plain `m[k] = v` may add a key; a compound `m[k] += v` needs the key.
    """
    key, (t, span) = keys[0], types[0]
    last = len(keys) == 1
    if isinstance(t, MapT):
        if last and op == "=":
            return map_set(container, key, value)
        old = map_get(container, key, span)
    else:
        if not 0 <= key < len(container):
            raise SpecRuntimeError(f"index {key} is out of range for a seq of length {len(container)}", span)
        old = container[key]
    new = combine(old, value) if last else _set_path(old, keys[1:], types[1:], value, op, combine)
    if isinstance(t, MapT):
        return map_set(container, key, new)
    return container[:key] + (new,) + container[key + 1:]


def _range_message(name: str, value, t: Type, render: Renderer) -> str:
    if isinstance(t, SeqT) and isinstance(value, tuple) and t.max is not None and len(value) > t.max:
        return f"'{name}' would hold {len(value)} elements, more than its maximum {t.max}"
    return f"'{name}' would become {render.text(value, t)}, outside its type {t}"
