"""Expressions -> Python source -> one compiled function per expression.

Why generate code: an invariant like `forall a in S: forall b in S: P` becomes a
single Python expression with nested `all(...)` generators instead of a tree of
closures, several times faster on the explorer's hottest path.

Why it is safe: the generated text contains only (1) fixed templates written
here and in lang/operators.py (each operator's code), (2) integer literals
produced by `int()`, (3) identifiers that the grammar restricts to
`[A-Za-z_][A-Za-z0-9_]*`, always behind a `l_` prefix or inside `repr()`, and
(4) indexes into tables built here. Nothing from a spec reaches
the generated text as free-form text, and the functions run with no builtins
but the few listed in `CodeGen.namespace`.

What it reads: generation records, per generated function, which parts of the
global state its code reads beyond the acting node, its ghosts and its bindings
(`GLOBAL_READS`), at the very places it emits such a read. The model memoises a
handler's outcomes only when it reads none (Model._reads_global).
"""
from __future__ import annotations

import re
from typing import Callable

from ..lang import operators
from ..lang import syntax as S
from ..lang.checker import CheckedSpec, RoleInfo
from ..lang.diagnostics import Source
from ..lang.types import MapT, SeqT, SetT, TupleT, holds_no_bools
from ..consistency.monitor import CHECKS, RegisterMonitor
from ..lang.values import Renderer, SpecRuntimeError, map_from, map_has, map_keys, ordered, ordered_no_bools

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# What generated code can read beyond its own node, ghosts and bindings: another
# node's variables ("nodes": `n.var`), whether a node is up ("up": crashed()), the
# acting node's clock ("clock") and true time ("now").
GLOBAL_READS = ("nodes", "up", "clock", "now")


class CodeGen:
    """Compiles checked expressions to `f(ctx) -> value` functions."""

    def __init__(self, checked: CheckedSpec, source: Source, render: Renderer):
        self.c = checked
        self.source = source
        self.render = render
        self.var_index = [{v.name: v.index for v in role.vars} for role in checked.node_roles]
        self.spans: list = []  # spans of expressions that may raise, referenced by index
        self.key_types: dict = {}  # span index -> key type, to name a missing map key
        # Every generated source, in order, and beside each the GLOBAL_READS its code
        # makes: the model asks a handler's whether it reads anything beyond its own
        # node (see Model._reads_global).
        self.sources: list[str] = []
        self.source_reads: list[frozenset[str]] = []
        self._reads: set[str] = set()  # of the function being generated
        # Beside each source, finer: the parts of a state its code reads ("ghosts",
        # ("role", name) for the variables of a role's nodes, "nodes" for any node's,
        # "up", "now", "clock"). An invariant is memoised by those parts alone
        # (invariants.packed_invariants): most invariants read far less than a state.
        self.source_parts: list[frozenset] = []
        self._parts: set = set()
        # per register, the monitor of its client history (modelcheck/consistency): its
        # state is a hidden ghost slot after the spec's ghosts
        # (filled in by the Compiler, which evaluates their initial values)
        self.monitors: list[RegisterMonitor] = []
        # Everything generated code can name: its only "builtins".
        self.namespace = {
            "__builtins__": {}, "all": all, "any": any, "sum": sum, "len": len, "min": min, "max": max,
            "frozenset": frozenset, "_gen": self, "_ord": ordered, "_ordnb": ordered_no_bools, "_mkeys": map_keys,
            "_mfrom": map_from,
            "_mhas": map_has, "_mget": self.mget, "_sget": self.sget, "_rnode": self.rnode,
            "_minmax": self.minmax, "_last": self.last, "_divmod": self.divmod, "_range": self.range_set,
            "_rangeit": self.range_iter, "range": range,
        }

    def function(self, e: S.Expr) -> Callable:
        self._reads, self._parts = set(), set()
        src = "lambda c: " + self.gen(e, frozenset())
        self._record(src)
        return eval(compile(src, f"<{self.source.path}>", "eval"), self.namespace)  # noqa: S307 - see module doc

    def domain_function(self, e: S.Expr) -> Callable:
        self._reads, self._parts = set(), set()
        src = "lambda c: " + self.domain(e, frozenset())
        self._record(src)
        return eval(compile(src, f"<{self.source.path}>", "eval"), self.namespace)  # noqa: S307

    def _record(self, src: str) -> None:
        self.sources.append(src)
        self.source_reads.append(frozenset(self._reads))
        self.source_parts.append(frozenset(self._parts))

    def _read(self, what: str) -> None:
        """Note that the code being generated reads `what` (one of GLOBAL_READS)."""
        assert what in GLOBAL_READS, what
        self._reads.add(what)
        self._parts.add(what)

    # ---- helpers ----

    def _span(self, e: S.Expr) -> int:
        self.spans.append(e.span)
        return len(self.spans) - 1

    @staticmethod
    def _local(name: str) -> str:
        assert _IDENT.match(name), name
        return "l_" + name

    def domain(self, e: S.Expr, bound: frozenset) -> str:
        """Source for the elements a binder ranges over, in canonical order."""
        if isinstance(e, S.Name) and e.ref[0] == "role":
            return repr(tuple(int(i) for i in e.ref[1].node_ids))
        if isinstance(e, S.BinOp) and e.op == "..":  # ascending already: no set to build and sort
            return f"_rangeit({self.gen(e.left, bound)}, {self.gen(e.right, bound)}, {self._span(e)})"
        if isinstance(e, S.Call) and e.func == "indices":
            return f"range(len({self.gen(e.args[0], bound)}))"
        inner = self.gen(e, bound)
        if isinstance(e.type, SeqT):
            return inner
        if isinstance(e.type, MapT):
            return f"_mkeys({inner})"
        if isinstance(e.type, SetT) and holds_no_bools(e.type.elem):
            return f"_ordnb({inner})"
        return f"_ord({inner})"

    def _binder(self, var: str, dom: S.Expr, bound: frozenset) -> tuple[str, str, frozenset]:
        return self._local(var), self.domain(dom, bound), bound | {var}

    # ---- expressions ----

    def gen(self, e: S.Expr, bound: frozenset) -> str:  # noqa: C901 - one case per expression form
        g = self.gen
        if isinstance(e, S.IntLit):
            return repr(int(e.value))
        if isinstance(e, S.BoolLit):
            return "True" if e.value else "False"
        if isinstance(e, S.NoneLit):
            return "None"
        if isinstance(e, S.SelfRef):
            return "c.self_id"
        form = self._FORMS.get(type(e))  # names, fields, indexing: a method each
        if form is not None:
            return form(self, e, bound)
        if isinstance(e, S.Slice):
            lo = g(e.lo, bound) if e.lo is not None else "None"
            hi = g(e.hi, bound) if e.hi is not None else "None"
            return f"({g(e.obj, bound)})[{lo}:{hi}]"
        if isinstance(e, S.Call):
            return self._call(e, bound)
        if isinstance(e, S.Count):
            x, dom, inner = self._binder(e.var, e.domain, bound)
            cond = g(e.cond, inner) if e.cond is not None else "True"
            return f"sum(1 for {x} in {dom} if {cond})"
        if isinstance(e, S.Quant):
            x, dom, inner = self._binder(e.var, e.domain, bound)
            fn = "all" if e.kind == "forall" else "any"
            return f"{fn}({g(e.body, inner)} for {x} in {dom})"
        if isinstance(e, S.SetComp):
            x, dom, inner = self._binder(e.var, e.domain, bound)
            cond = g(e.cond, inner) if e.cond is not None else "True"
            return f"frozenset({g(e.elem, inner)} for {x} in {dom} if {cond})"
        if isinstance(e, S.Ite):
            return f"({g(e.then, bound)} if {g(e.cond, bound)} else {g(e.other, bound)})"
        if isinstance(e, (S.Not, S.Neg, S.BinOp)):
            return self._operator(e, bound)
        if isinstance(e, (S.TupleLit, S.SeqLit)):
            return "(" + "".join(g(i, bound) + ", " for i in e.items) + ")"
        if isinstance(e, S.SetLit):
            return "frozenset((" + "".join(g(i, bound) + ", " for i in e.items) + "))"
        if isinstance(e, S.MapLit):
            pairs = "".join(f"({g(k, bound)}, {g(v, bound)}), " for k, v in e.entries)
            return f"_mfrom(({pairs}))"
        raise AssertionError(e)

    def _name(self, e: S.Name, bound: frozenset) -> str:
        kind, payload = e.ref
        if kind == "local":
            return self._local(e.id) if e.id in bound else f"c.env[{e.id!r}]"
        if kind == "localvar":  # a `var` local: assignable, so always read from the bindings
            assert _IDENT.match(e.id)
            return f"c.env[{e.id!r}]"
        if kind == "var":
            return f"c.vars[{int(payload.index)}]"
        if kind == "ghost":
            self._parts.add("ghosts")
            return f"c.ghosts[{int(payload.index)}]"
        if kind in ("const", "enum"):
            return repr(int(payload))
        if kind == "clock":
            self._read("clock")
            return "c.clock"
        if kind == "now":
            self._read("now")
            return "c.now"
        role: RoleInfo = payload
        if role.count is None:
            return repr(int(role.first))
        return "frozenset(" + repr(tuple(int(i) for i in role.node_ids)) + ")"

    def _field(self, e: S.Field, bound: frozenset) -> str:
        if isinstance(e.obj, S.SelfRef):
            role = next(r for r in self.c.roles if r.name == e.obj.type.role)
            return f"c.vars[{int(role.var(e.name).index)}]"
        obj = self.gen(e.obj, bound)
        if e.obj.type.role is not None:
            role = next(r for r in self.c.roles if r.name == e.obj.type.role)
            self._reads.add("nodes")
            self._parts.add(("role", role.name))  # only this role's nodes
            return f"c.nodes[{obj}][{int(role.var(e.name).index)}]"
        assert _IDENT.match(e.name)
        self._read("nodes")
        return f"_gen.dynamic_field(c, {obj}, {e.name!r}, {self._span(e)})"

    def dynamic_field(self, c, n, name: str, k: int):
        """`n.var` where n's role is only known at run time (n has type `node`)."""
        span = self.spans[k]
        if n is None:
            raise SpecRuntimeError(f"'{self.source.slice(span)}': the node is none", span)
        i = self.var_index[n].get(name)
        if i is None:
            raise SpecRuntimeError(f"{self.render.node(n)} has no variable '{name}'", span)
        return c.nodes[n][i]

    def _index(self, e: S.Index, bound: frozenset) -> str:
        obj, idx = self.gen(e.obj, bound), self.gen(e.index, bound)
        if isinstance(e.obj, S.Name) and e.obj.ref[0] == "role":
            role: RoleInfo = e.obj.ref[1]
            assert _IDENT.match(role.name)
            return f"_rnode({idx}, {int(role.first)}, {int(role.size)}, {role.name!r}, {self._span(e)})"
        t = e.obj.type
        if isinstance(t, MapT):
            k = self._span(e)
            self.key_types[k] = t.key
            return f"_mget({obj}, {idx}, {k})"
        if isinstance(t, SeqT):
            return f"_sget({obj}, {idx}, {self._span(e)})"
        if isinstance(t, TupleT):
            return f"({obj})[{int(e.index.value)}]"
        raise AssertionError(t)


    _FORMS = {S.Name: _name, S.Field: _field, S.Index: _index}
    def _call(self, e: S.Call, bound: frozenset) -> str:
        f = e.func
        if f in CHECKS:  # a consistency check: reads the register's monitor, not a value
            reg = next(r for r in self.c.registers if r.name == e.args[0].id)
            slot = len(self.c.ghosts) + int(reg.index)
            self._parts.add("ghosts")
            return f"_gen.monitors[{int(reg.index)}].holds(c.ghosts[{slot}], {f!r})"
        args = [self.gen(a, bound) for a in e.args]
        if f == "len":
            return f"len({args[0]})"
        if f in ("min", "max"):
            return f"_minmax({'min' if f == 'min' else 'max'}, {args[0]}, {self._span(e)})"
        if f == "append":
            return f"({args[0]} + ({args[1]},))"
        if f == "last":
            return f"_last({args[0]}, {self._span(e)})"
        if f == "keys":
            return f"frozenset(_mkeys({args[0]}))"
        if f == "crashed":
            self._read("up")
            return f"(not c.up[{args[0]}])"
        if f == "index":
            role = e.args[0].type.role
            if role is not None:
                first = next(r.first for r in self.c.roles if r.name == role)
                return f"({args[0]} - {int(first)})"
            return f"_gen.node_index({args[0]}, {self._span(e)})"
        if f == "indices":
            return f"frozenset(range(len({args[0]})))"
        raise AssertionError(f)

    def _operator(self, e: S.Expr, bound: frozenset) -> str:
        """Operands left to right, then the operator's code (lang/operators.py)."""
        return operators.lookup(e).python_source(self, e, *(self.gen(x, bound) for x in operators.operands(e)))

    # ---- run-time helpers for generated code (errors carry the expression's span) ----

    def mget(self, m, key, k: int):
        for mk, v in m:
            if mk == key:
                return v
        raise SpecRuntimeError(f"missing map key {self.render.text(key, self.key_types[k])}", self.spans[k])

    def sget(self, s, i, k: int):
        if not 0 <= i < len(s):
            raise SpecRuntimeError(f"index {i} is out of range for a seq of length {len(s)}", self.spans[k])
        return s[i]

    def rnode(self, i, first: int, size: int, role: str, k: int):
        if not 0 <= i < size:
            raise SpecRuntimeError(f"{role}[{i}] does not exist: {role} has {size} node(s)", self.spans[k])
        return first + i

    def minmax(self, pick, s, k: int):
        if not s:
            raise SpecRuntimeError(f"{pick.__name__}() of an empty set", self.spans[k])
        return pick(s)

    def last(self, s, k: int):
        if not s:
            raise SpecRuntimeError("last() of an empty seq", self.spans[k])
        return s[-1]

    def node_index(self, n, k: int):
        """index(n) for n of type `node`: its position in its own role."""
        if n is None:
            raise SpecRuntimeError(f"'{self.source.slice(self.spans[k])}': the node is none", self.spans[k])
        return n - self.c.node_roles[n].first

    def range_set(self, lo, hi, k: int) -> frozenset:
        return frozenset(self.range_iter(lo, hi, k))

    def range_iter(self, lo, hi, k: int) -> range:
        if hi - lo + 1 > operators.MAX_RANGE:
            raise SpecRuntimeError(f"the range {lo}..{hi} has {hi - lo + 1:,} elements; a range may have at most "
                                   f"{operators.MAX_RANGE:,}", self.spans[k])
        return range(lo, hi + 1)

    def divmod(self, a, b, op: str, k: int):
        if b == 0:
            raise SpecRuntimeError(f"division by zero in '{self.source.slice(self.spans[k])}'", self.spans[k])
        return operators.BINARY[op].fold(a, b)

