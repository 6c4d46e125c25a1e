"""A symbolic (z3) encoding of a compiled model, for `modelcheck prove` (k-induction).

The explicit model (model.py) computes successors of one concrete state at a time.
This module describes the same transition system as formulas over a *frame*, a
vector of z3 variables holding one global state:

    node variables    per node, per variable, in the layout of its declared type
    up                one Bool per node that some crash line can take down (else true)
    cut               one Bool per directed link, when a partition/one_way line exists
    net               per possible message (src, dst, kind, payload) of the finite
                      message universe: a Bool (`delivery set`) or a counter >= 0
                      (`delivery unordered`, an exact multiset: counts are unbounded)
    ghosts            per ghost variable, like node variables
    budgets           the remaining budget of each bounded fault line
    err               the state reached by a step that raised a run-time error or a
                      failed assert (the explicit model's transition to `None`)

Layouts of declared types: bool -> Bool; ranges, enums and node ids -> Int with range
constraints; `T?` -> a Bool "is some" plus T (canonical value when none); tuples ->
their items; `set<T>` over a finite T -> one Bool per element of T.

`transition(pre, post)` is a disjunction over *step instances*, exactly the steps
`Model.successors` enumerates: each action per node per parameter combination, each
handler per node per possible message, each fault line per node / split / link /
message. A selector variable picks the instance; every component of `post` is an
if-then-else chain over the instances that change it. Statement bodies are executed
symbolically: assignments update symbolic values, `if` merges branches, `for`
unrolls over the (finite) domain, `let x = any S` becomes a fresh choice variable,
`require` and failed range checks / asserts / run-time errors are tracked as
conditions ("the step is disabled" / "the step raises"), with the same evaluation
order (short-circuit `and`/`or`, `all`/`any` stopping early) as the generated Python.

Anything outside the encoded fragment raises `Unsupported` with the construct and
its source span, before any solving: time blocks, fifo delivery, maps and seqs, sets
of sets or set-valued message fields, and universes too large to enumerate.
"""
from __future__ import annotations

import itertools
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import z3
from z3 import z3core

from ..faults import KINDS
from ..network import MODES
from ..lang import operators
from ..lang import syntax as S
from ..lang.checker import RoleInfo
from ..lang.diagnostics import NO_SPAN, Span
from ..engine.model import Model, State
from ..lang.types import BoolT, EnumT, IntT, MapT, NodeT, OptT, SeqT, SetT, TupleT, Type
from ..lang.values import sort_key

MAX_UNIVERSE = 4096  # elements of one finite type (set elements, payloads of one kind)
MAX_MESSAGES = 20000  # possible messages in flight, all kinds together

TRUE = z3.BoolVal(True)
FALSE = z3.BoolVal(False)

# This module as the operator table's z3 hooks receive it: they build with its AND,
# OR, NOT, Sc, eq, member, ... (lang/operators.py; lang does not import smt or z3).
_SYMBOLIC = sys.modules[__name__]


class Unsupported(Exception):
    """The spec uses something `prove` does not encode (no verdict is given)."""

    def __init__(self, what: str, span: Span | None = None):
        super().__init__(what)
        self.what = what
        self.span = span or NO_SPAN


# ---- small Boolean helpers that keep constant folding cheap ------------------------------

# z3 keeps one copy of every term (hash-consing), so a term is the constant true
# exactly when its AST is TRUE's: comparing the two pointers costs about 0.2 µs, where
# z3.is_true's API calls cost about 11 (and the analyses ask it hundreds of thousands
# of times: 2.6 s of Raft's 21 s start-up). A value that is no z3 term is neither.
_TRUE_AST = TRUE.ast.value
_FALSE_AST = FALSE.ast.value


def _t(x) -> bool:
    try:
        return x.ast.value == _TRUE_AST
    except AttributeError:
        return False


def _f(x) -> bool:
    try:
        return x.ast.value == _FALSE_AST
    except AttributeError:
        return False


def _junction(xs, absorbs, absorbing, ignores, neutral, combine):
    """AND/OR with constants folded: an absorbing operand decides, neutral ones drop."""
    out = []
    for x in xs:
        if absorbs(x):
            return absorbing
        if not ignores(x):
            out.append(x)
    if not out:
        return neutral
    return out[0] if len(out) == 1 else combine(out)


def _connective(mk, general):
    """z3.And or z3.Or, the same term built with one API call where every operand is
    a Boolean term already: z3's own functions coerce each operand (its sort, a cast,
    an equality of sorts: about 20 µs an operand through ctypes), which was a fifth
    of the dead-message analysis of Raft."""
    def combine(xs):
        ctx = xs[0].ctx
        for x in xs:
            if x.__class__ is not z3.BoolRef or x.ctx is not ctx:
                return general(xs)
        return z3.BoolRef(mk(ctx.ref(), len(xs), (z3.Ast * len(xs))(*[x.ast for x in xs])), ctx)
    return combine


_AND = _connective(z3core.Z3_mk_and, z3.And)
_OR = _connective(z3core.Z3_mk_or, z3.Or)


def AND(*xs):
    return _junction(xs, _f, FALSE, _t, TRUE, _AND)


def OR(*xs):
    return _junction(xs, _t, TRUE, _f, FALSE, _OR)


def NOT(x):
    if _t(x):
        return FALSE
    if _f(x):
        return TRUE
    if x.__class__ is z3.BoolRef:  # (as _connective: no coercion needed)
        return z3.BoolRef(z3core.Z3_mk_not(x.ctx.ref(), x.ast), x.ctx)
    return z3.Not(x)


def ITE(c, a, b):
    if _t(c) or a is b:
        return a
    if _f(c):
        return b
    return z3.If(c, a, b)


# ---- symbolic values ---------------------------------------------------------------------

class Sc:
    """A scalar: a z3 Bool (bool) or Int (ints, enum members, node ids)."""

    __slots__ = ("z",)

    def __init__(self, z):
        self.z = z


class Op:
    """An optional value: `some` is false for none (then `val` is None or irrelevant)."""

    __slots__ = ("some", "val")

    def __init__(self, some, val):
        self.some = some
        self.val = val


class Tu:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)


class St:
    """A finite set: concrete element (a Python value, as in explicit states) -> membership."""

    __slots__ = ("members",)

    def __init__(self, members: dict):
        self.members = members


NONE_V = Op(FALSE, None)
_NOT_CONCRETE = object()


def lift(v):
    """A concrete run-time value (see types.py) as a symbolic value."""
    if v is None:
        return NONE_V
    if isinstance(v, bool):
        return Sc(z3.BoolVal(v))
    if isinstance(v, int):
        return Sc(z3.IntVal(v))
    if isinstance(v, tuple):
        return Tu(lift(x) for x in v)
    if isinstance(v, frozenset):
        return St({x: TRUE for x in sorted(v, key=sort_key)})
    raise TypeError(v)


def concrete(sv):
    """The Python value of a symbolic value that is constant, else _NOT_CONCRETE."""
    if isinstance(sv, Sc):
        z = sv.z if z3.is_const(sv.z) else z3.simplify(sv.z)
        if _t(z):
            return True
        if _f(z):
            return False
        if z3.is_int_value(z):
            return z.as_long()
        return _NOT_CONCRETE
    if isinstance(sv, Op):
        s = concrete(Sc(sv.some))
        if s is _NOT_CONCRETE:
            return s
        if not s:
            return None
        return concrete(sv.val)
    if isinstance(sv, Tu):
        items = [concrete(x) for x in sv.items]
        return _NOT_CONCRETE if any(x is _NOT_CONCRETE for x in items) else tuple(items)
    if isinstance(sv, St):
        out = []
        for k, m in sv.members.items():
            c = concrete(Sc(m))
            if c is _NOT_CONCRETE:
                return c
            if c:
                out.append(k)
        return frozenset(out)
    raise TypeError(sv)


def _as_opt(v):
    return v if isinstance(v, Op) else Op(TRUE, v)


def eq(a, b):
    """z3 Bool: the two values are equal (Python `==` on the run-time values)."""
    if isinstance(a, Op) or isinstance(b, Op):
        a, b = _as_opt(a), _as_opt(b)
        both_none = AND(NOT(a.some), NOT(b.some))
        if a.val is None or b.val is None:
            return both_none
        return OR(both_none, AND(a.some, b.some, eq(a.val, b.val)))
    if isinstance(a, Sc):
        if z3.is_int_value(a.z) and z3.is_int_value(b.z):
            return z3.BoolVal(a.z.as_long() == b.z.as_long())
        return a.z == b.z
    if isinstance(a, Tu):
        return AND(*[eq(x, y) for x, y in zip(a.items, b.items)])
    if isinstance(a, St):
        keys = list(dict.fromkeys(list(a.members) + list(b.members)))
        return AND(*[_iff(a.members.get(k, FALSE), b.members.get(k, FALSE)) for k in keys])
    raise TypeError(a)


def _iff(x, y):
    if x is y:
        return TRUE
    if _t(x):
        return y
    if _t(y):
        return x
    if _f(x):
        return NOT(y)
    if _f(y):
        return NOT(x)
    return x == y


def eq_const(a, v):
    """`a == v` for a concrete value v (cheap when a is concrete too)."""
    if isinstance(a, Sc) and isinstance(v, (bool, int)):
        if z3.is_int_value(a.z):
            return z3.BoolVal(a.z.as_long() == v and not isinstance(v, bool))
        if _t(a.z) or _f(a.z):
            return z3.BoolVal(_t(a.z) == v)
        return a.z == (z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v))
    if isinstance(a, St) and isinstance(v, frozenset):
        return AND(*[_iff(m, z3.BoolVal(k in v)) for k, m in a.members.items()],
                   *[FALSE for k in v if k not in a.members])
    return eq(a, lift(v))


def merge(c, a, b):
    """if c then a else b."""
    if a is b or _t(c):
        return a
    if _f(c):
        return b
    if isinstance(a, Op) or isinstance(b, Op):
        a, b = _as_opt(a), _as_opt(b)
        if a.val is None:
            val = b.val
        elif b.val is None:
            val = a.val
        else:
            val = merge(c, a.val, b.val)
        return Op(ITE(c, a.some, b.some), val)
    if isinstance(a, Sc):
        return Sc(ITE(c, a.z, b.z))
    if isinstance(a, Tu):
        return Tu(merge(c, x, y) for x, y in zip(a.items, b.items))
    if isinstance(a, St):
        keys = list(dict.fromkeys(list(a.members) + list(b.members)))
        keys.sort(key=sort_key)
        return St({k: ITE(c, a.members.get(k, FALSE), b.members.get(k, FALSE)) for k in keys})
    raise TypeError(a)


def member(x, s: St):
    v = concrete(x)
    if v is not _NOT_CONCRETE:
        try:
            return s.members.get(v, FALSE)
        except TypeError:  # unhashable never happens for run-time values
            pass
    return OR(*[AND(m, eq_const(x, k)) for k, m in s.members.items()])


def slots(sv) -> list:
    """The z3 terms of a value in its storage layout, in a fixed order."""
    if isinstance(sv, Sc):
        return [sv.z]
    if isinstance(sv, Op):
        return [sv.some] + slots(sv.val)
    if isinstance(sv, Tu):
        return [z for x in sv.items for z in slots(x)]
    if isinstance(sv, St):
        return list(sv.members.values())
    raise TypeError(sv)


def _set_sorted(members: dict) -> St:
    return St({k: members[k] for k in sorted(members, key=sort_key)})


# ---- frames -------------------------------------------------------------------------------

@dataclass
class Frame:
    """One global state as z3 terms (see the module docstring)."""

    tag: str
    nodes: list  # per node: list of symbolic values, one per variable
    up: list  # per node: z3 Bool
    cut: dict  # (a, b) -> z3 Bool, a != b
    net: list  # per message of the universe: Bool (set) or Int (unordered)
    ghosts: list
    budgets: list
    err: object
    domain: list = field(default_factory=list)  # type constraints of the fresh variables

    def terms(self) -> list:
        out = [z for vals in self.nodes for v in vals for z in slots(v)]
        out += list(self.up) + [self.cut[k] for k in sorted(self.cut)] + list(self.net)
        out += [z for g in self.ghosts for z in slots(g)] + list(self.budgets) + [self.err]
        return out


@dataclass
class Inst:
    """One step instance: when it completes (ok), when it raises (err), what it changes."""

    label: str
    ok: object = FALSE
    err: object = FALSE
    nodes: dict = field(default_factory=dict)  # (n, var index) -> value
    ghosts: dict = field(default_factory=dict)
    up: dict = field(default_factory=dict)
    cut: dict = field(default_factory=dict)
    net: dict = field(default_factory=dict)
    budgets: dict = field(default_factory=dict)


class _Exec:
    """The symbolic state of one step's body while it runs."""

    def __init__(self, vars, ghosts, env, self_id, sender, alive, sends, choices):
        self.vars = vars
        self.ghosts = ghosts
        self.env = env
        self.self_id = self_id
        self.sender = sender
        self.alive = alive
        self.err = FALSE
        self.sends = sends
        self.choices = choices
        self.frame = None  # invariants only

    def fork(self, alive) -> "_Exec":
        return _Exec(list(self.vars), list(self.ghosts), dict(self.env), self.self_id, self.sender, alive,
                     self.sends, self.choices)

    def fail(self, cond) -> None:
        """The step raises when `cond` holds here."""
        if _f(cond):
            return
        self.err = OR(self.err, AND(self.alive, cond))
        self.alive = AND(self.alive, NOT(cond))


class _Global:
    """Evaluation context of invariants: every node's variables, the ghosts, up/down."""

    def __init__(self, frame: Frame, env=None):
        self.frame = frame
        self.vars = None
        self.ghosts = frame.ghosts
        self.env = env or {}
        self.self_id = None
        self.sender = None


class EncodingTimeout(Exception):
    """The deadline given to `Symbolic` passed while terms were still being built
    (a large model's encoding can take longer than any solver call)."""


class Symbolic:
    """The z3 encoding of one `Model` (its faults, its selected invariants)."""

    def __init__(self, model: Model, deadline: float | None = None):
        self.deadline = deadline  # time.monotonic() value: ev() stops with EncodingTimeout past it
        self._ticks = 0
        self.model = model
        self.c = c = model.checked
        self.n_nodes = model.n_nodes
        self.roles = {r.name: r for r in c.roles}
        self._fresh = itertools.count()
        if c.time is not None:
            raise Unsupported("a time block (bounded time, clocks, delivery bounds)", c.time.span)
        if c.registers:  # the history monitors (modelcheck/consistency) have no z3 encoding
            raise Unsupported(f"client operations and consistency checks (register '{c.registers[0].name}')",
                              c.registers[0].decl.span)
        if not MODES[c.delivery].z3_encoded:
            raise Unsupported(f"'delivery {c.delivery}' (only 'set' and 'unordered' are encoded)",
                              c.spec.delivery_span)
        self.mode = c.delivery
        for r in c.roles:
            for v in r.vars:
                self.universe_check(v.type, v.span)
        for g in c.ghosts:
            self.universe_check(g.type, g.span)
        self._build_messages()
        self.faults = model.faults
        live = [f for f in self.faults if f.budget != 0]
        self.can_crash = [any(f.kind == "crash" and (f.role is None or f.role == c.node_roles[n].name) for f in live)
                          for n in range(self.n_nodes)]
        self.has_cut = any(KINDS[f.kind].adds_cuts for f in live)
        self.links = [(a, b) for a in range(self.n_nodes) for b in range(self.n_nodes) if a != b]
        self.init = self.const_frame(model.initial)
        self.invariant_cache: dict = {}

    # ---- types and universes ---------------------------------------------------------------

    def universe(self, t: Type, span=None) -> list:
        """Every value of a finite type, in canonical (sort_key) order."""
        if isinstance(t, BoolT):
            return [False, True]
        if isinstance(t, IntT):
            if t.lo is None:
                raise Unsupported("an unbounded integer where a finite set of values is needed "
                                  "(a set of computed integers?)", span)
            if t.hi - t.lo + 1 > MAX_UNIVERSE:  # before building it: 0..2^63 is a valid range
                raise Unsupported(f"the type {t} has {t.hi - t.lo + 1:,} values, too many to encode", span)
            return list(range(t.lo, t.hi + 1))
        if isinstance(t, EnumT):
            return list(range(len(t.members)))
        if isinstance(t, NodeT):
            if t.role is None:
                return list(range(self.n_nodes))
            return list(self.roles[t.role].node_ids)
        if isinstance(t, OptT):
            return [None] + self.universe(t.inner, span)
        if isinstance(t, TupleT):
            parts = [self.universe(i, span) for i in t.items]
            size = 1
            for p in parts:
                size *= len(p)
            if size > MAX_UNIVERSE:
                raise Unsupported(f"the type {t} has {size:,} values, too many to encode "
                                  f"(limit {MAX_UNIVERSE:,})", span)
            return sorted(itertools.product(*parts), key=sort_key)
        if isinstance(t, (MapT, SeqT)):
            raise Unsupported(f"the type {t} (maps and seqs are not encoded)", span)
        if isinstance(t, SetT):
            raise Unsupported(f"a set of sets or a set-valued field ({t})", span)
        raise Unsupported(f"values of type {t}", span)

    def universe_check(self, t: Type, span) -> None:
        if isinstance(t, SetT):
            u = self.universe(t.elem, span)
        elif isinstance(t, OptT):
            self.universe_check(t.inner, span)
            return
        elif isinstance(t, TupleT):
            for i in t.items:
                self.universe_check(i, span)
            return
        else:
            u = self.universe(t, span)
        if len(u) > MAX_UNIVERSE:
            raise Unsupported(f"the type {t} has {len(u):,} values, too many to encode", span)

    def fresh(self, t: Type, name: str, domain: list):
        """Fresh z3 variables in the layout of declared type t (range constraints to `domain`)."""
        if isinstance(t, BoolT):
            return Sc(z3.Bool(name))
        if isinstance(t, (IntT, EnumT, NodeT)):
            u = self.universe(t)
            x = z3.Int(name)
            domain += [x >= u[0], x <= u[-1]]
            return Sc(x)
        if isinstance(t, OptT):
            some = z3.Bool(name + "?")
            val = self.fresh(t.inner, name + "!", domain)
            domain.append(z3.Or(some, eq_const(val, self.universe(t.inner)[0])))
            return Op(some, val)
        if isinstance(t, TupleT):
            return Tu(self.fresh(i, f"{name}.{k}", domain) for k, i in enumerate(t.items))
        if isinstance(t, SetT):
            return St({u: z3.Bool(f"{name}[{u!r}]") for u in self.universe(t.elem)})
        raise Unsupported(f"values of type {t}")

    def const(self, t: Type, v):
        """A concrete value of declared type t, in t's layout."""
        if isinstance(t, OptT):
            if v is None:
                return Op(FALSE, self.const(t.inner, self.universe(t.inner)[0]))
            return Op(TRUE, self.const(t.inner, v))
        if isinstance(t, TupleT):
            return Tu(self.const(i, x) for i, x in zip(t.items, v))
        if isinstance(t, SetT):
            return St({u: z3.BoolVal(u in v) for u in self.universe(t.elem)})
        return lift(v)

    def store(self, t: Type, sv, span=None):
        """(sv in t's layout, condition under which it fits t): the range check of an
        assignment or a message field."""
        if isinstance(t, BoolT) or isinstance(t, EnumT):
            return sv, TRUE
        if isinstance(t, IntT):
            if t.lo is None:
                return sv, TRUE
            z = sv.z
            if z3.is_int_value(z):
                return sv, z3.BoolVal(t.lo <= z.as_long() <= t.hi)
            return sv, z3.And(z >= t.lo, z <= t.hi)
        if isinstance(t, NodeT):
            if t.role is None:
                return sv, TRUE
            ids = self.roles[t.role].node_ids
            z = sv.z
            if z3.is_int_value(z):
                return sv, z3.BoolVal(z.as_long() in ids)
            return sv, z3.And(z >= ids.start, z <= ids.stop - 1)
        if isinstance(t, OptT):
            o = _as_opt(sv)
            default = self.const(t.inner, self.universe(t.inner)[0])
            if o.val is None:
                return Op(FALSE, default), TRUE
            inner, fits = self.store(t.inner, o.val, span)
            return Op(o.some, merge(o.some, inner, default)), OR(NOT(o.some), fits)
        if isinstance(t, TupleT):
            parts = [self.store(i, x, span) for i, x in zip(t.items, sv.items)]
            return Tu(p for p, _ in parts), AND(*[f for _, f in parts])
        if isinstance(t, SetT):
            u = self.universe(t.elem, span)
            members = {x: sv.members.get(x, FALSE) for x in u}
            inside = set(u)
            outside = [m for k, m in sv.members.items() if k not in inside]
            return St(members), NOT(OR(*outside))
        raise Unsupported(f"values of type {t}", span)

    def decode(self, t: Type, sv, mdl):
        if isinstance(t, BoolT):
            return z3.is_true(mdl.eval(sv.z, model_completion=True))
        if isinstance(t, (IntT, EnumT, NodeT)):
            return mdl.eval(sv.z, model_completion=True).as_long()
        if isinstance(t, OptT):
            if not z3.is_true(mdl.eval(sv.some, model_completion=True)):
                return None
            return self.decode(t.inner, sv.val, mdl)
        if isinstance(t, TupleT):
            return tuple(self.decode(i, x, mdl) for i, x in zip(t.items, sv.items))
        if isinstance(t, SetT):
            return frozenset(k for k, m in sv.members.items() if z3.is_true(mdl.eval(m, model_completion=True)))
        raise TypeError(t)

    # ---- the message universe ------------------------------------------------------------------

    def _build_messages(self) -> None:
        c = self.c
        senders: dict[str, set] = {}
        for r in c.roles:
            for x in S.walk(r.decl):
                if isinstance(x, S.Send):
                    senders.setdefault(x.message, set()).add(r.name)
        msgs = []
        for m in sorted(c.messages.values(), key=lambda m: m.index):
            roles = senders.get(m.name, set())
            if not roles:
                continue
            payloads = [()]
            for fname, ft in m.fields:
                span = next((f.span for f in c.spec.messages[m.index].fields if f.name == fname), m.span)
                u = self.universe(ft, span)
                payloads = [p + (x,) for p in payloads for x in u]
                if len(payloads) > MAX_UNIVERSE:
                    raise Unsupported(f"message {m.name} has more than {MAX_UNIVERSE:,} possible payloads", m.span)
            srcs = [n for n in range(self.n_nodes) if c.node_roles[n].name in roles]
            for src in srcs:
                for dst in range(self.n_nodes):
                    for p in payloads:
                        msgs.append((src, dst, m.index, p))
            if len(msgs) > MAX_MESSAGES:
                raise Unsupported(f"more than {MAX_MESSAGES:,} possible messages in flight", m.span)
        self.messages = msgs
        self.msg_index = {m: i for i, m in enumerate(msgs)}
        self.by_dst_kind: dict = {}
        self.by_src_kind: dict = {}
        for i, m in enumerate(msgs):
            self.by_dst_kind.setdefault((m[1], m[2]), []).append(i)
            self.by_src_kind.setdefault((m[0], m[2]), []).append(i)
        self.fields = {m.index: m.fields for m in c.messages.values()}

    def in_flight(self, f: Frame, j: int):
        x = f.net[j]
        return x if self.mode == "set" else x >= 1

    # ---- frames ----------------------------------------------------------------------------------

    def frame(self, tag: str) -> Frame:
        c = self.c
        dom: list = []
        nodes = []
        for n, role in enumerate(c.node_roles):
            nodes.append([self.fresh(v.type, f"{tag}.{c.node_names[n]}.{v.name}", dom) for v in role.vars])
        up = [z3.Bool(f"{tag}.up.{c.node_names[n]}") if self.can_crash[n] else TRUE for n in range(self.n_nodes)]
        cut = {(a, b): (z3.Bool(f"{tag}.cut.{a}.{b}") if self.has_cut else FALSE) for a, b in self.links}
        if self.mode == "set":
            net = [z3.Bool(f"{tag}.net.{j}") for j in range(len(self.messages))]
        else:
            net = [z3.Int(f"{tag}.net.{j}") for j in range(len(self.messages))]
            dom += [x >= 0 for x in net]
        ghosts = [self.fresh(g.type, f"{tag}.ghost.{g.name}", dom) for g in c.ghosts]
        budgets = []
        for i, f in enumerate(self.faults):
            if f.budget is not None:
                b = z3.Int(f"{tag}.budget.{i}")
                dom += [b >= 0, b <= f.budget]
                budgets.append(b)
        err = z3.Bool(f"{tag}.err")
        fr = Frame(tag, nodes, up, cut, net, ghosts, budgets, err, dom)
        # A node that is down has its volatile variables at their initial values: the
        # crash reset them and a down node takes no step (true in every reachable state).
        for n, role in enumerate(c.node_roles):
            if self.can_crash[n]:
                vol = [AND(*[eq(fr.nodes[n][v.index], self.init.nodes[n][v.index])]) for v in role.vars
                       if not v.persistent]
                if vol:
                    dom.append(z3.Implies(z3.Not(up[n]), AND(*vol)))
        # With only bounded crash lines, every down node was taken down by a crash that
        # spent one unit of budget (a restart brings one back): #down <= budget spent.
        crash_lines = [i for i, f in enumerate(self.faults) if f.kind == "crash" and f.budget != 0]
        if crash_lines and all(self.faults[i].budget is not None for i in crash_lines):
            spent = [self.faults[i].budget - budgets[self.model.budget_slot[i]] for i in crash_lines]
            down = [z3.If(up[n], 0, 1) for n in range(self.n_nodes) if self.can_crash[n]]
            dom.append(z3.Sum(down) <= z3.Sum(spent))
        return fr

    def const_frame(self, state: State, err: bool = False) -> Frame:
        """The frame of one concrete state (terms are constants)."""
        c = self.c
        nodes = [[self.const(v.type, state.nodes[n][v.index]) for v in role.vars]
                 for n, role in enumerate(c.node_roles)]
        up = [z3.BoolVal(u) for u in state.up]
        cut = {(a, b): z3.BoolVal((a, b) in state.cut) for a, b in self.links}
        msgs = self.model.network.messages(state.net)
        missing = [m for m in msgs if m not in self.msg_index]
        if missing:
            raise ValueError(f"message {missing[0]} is outside the encoded universe")
        if self.mode == "set":
            present = set(msgs)
            net = [z3.BoolVal(m in present) for m in self.messages]
        else:
            counts = Counter(msgs)
            net = [z3.IntVal(counts.get(m, 0)) for m in self.messages]
        ghosts = [self.const(g.type, state.ghosts[g.index]) for g in c.ghosts]
        budgets = [z3.IntVal(b) for b in state.budgets]
        return Frame("const", nodes, up, cut, net, ghosts, budgets, z3.BoolVal(err))

    def equal(self, a: Frame, b: Frame, with_err: bool = True):
        ta, tb = a.terms(), b.terms()
        if not with_err:
            ta, tb = ta[:-1], tb[:-1]
        return AND(*[_iff(x, y) if x.sort() == z3.BoolSort() else (x == y) for x, y in zip(ta, tb)])

    def is_init(self, f: Frame):
        return self.equal(f, self.init)

    def decode_frame(self, f: Frame, mdl) -> tuple[State, bool]:
        c = self.c
        nodes = tuple(tuple(self.decode(v.type, f.nodes[n][v.index], mdl) for v in role.vars)
                      for n, role in enumerate(c.node_roles))
        up = tuple(z3.is_true(mdl.eval(u, model_completion=True)) for u in f.up)
        cut = frozenset(k for k, x in f.cut.items() if z3.is_true(mdl.eval(x, model_completion=True)))
        msgs = []
        for j, x in enumerate(f.net):
            v = mdl.eval(x, model_completion=True)
            if self.mode == "set":
                if z3.is_true(v):
                    msgs.append(self.messages[j])
            else:
                msgs += [self.messages[j]] * v.as_long()
        net = self.model.network.send(self.model.network.empty, msgs)
        ghosts = tuple(self.decode(g.type, f.ghosts[g.index], mdl) for g in c.ghosts)
        budgets = tuple(mdl.eval(b, model_completion=True).as_long() for b in f.budgets)
        err = z3.is_true(mdl.eval(f.err, model_completion=True))
        return State(nodes, up, net, cut, ghosts, budgets, ()), err

    # ---- invariants --------------------------------------------------------------------------

    def invariant(self, decl: S.PropertyDecl, f: Frame):
        """(holds, raises): the invariant's value and whether evaluating it raises."""
        v, e = self.ev(decl.expr, _Global(f))
        return v.z, e

    # ---- expressions -------------------------------------------------------------------------

    def _where(self, cond, cx):
        """A `where` clause's value and error (no clause: true)."""
        return (Sc(TRUE), FALSE) if cond is None else self.ev(cond, cx)

    def ev(self, e: S.Expr, cx):  # noqa: C901 - one case per expression form
        """(value, raises) of expression e in context cx (_Exec or _Global)."""
        if self.deadline is not None:
            self._ticks += 1
            if not self._ticks % 256 and time.monotonic() > self.deadline:
                raise EncodingTimeout()
        if isinstance(e, S.IntLit):
            return Sc(z3.IntVal(int(e.value))), FALSE
        if isinstance(e, S.BoolLit):
            return Sc(z3.BoolVal(bool(e.value))), FALSE
        if isinstance(e, S.NoneLit):
            return NONE_V, FALSE
        if isinstance(e, S.SelfRef):
            return Sc(z3.IntVal(cx.self_id)), FALSE
        if isinstance(e, S.Name):
            return self._name(e, cx), FALSE
        if isinstance(e, S.Field):
            return self._field(e, cx)
        if isinstance(e, S.Index):
            return self._index(e, cx)
        if isinstance(e, S.Call):
            return self._call(e, cx)
        if isinstance(e, S.Count):
            items, err = self.items(e.domain, cx)
            terms = []
            for k, m in items:
                cx.env[e.var] = lift(k)
                c, ce = self._where(e.cond, cx)
                err = OR(err, AND(m, ce))
                terms.append(AND(m, c.z))
            cx.env.pop(e.var, None)
            return Sc(_sum(terms)), err
        if isinstance(e, S.Quant):
            items, err = self.items(e.domain, cx)
            forall = e.kind == "forall"
            reach = TRUE  # evaluation gets to this element (all/any did not stop earlier)
            parts = []
            for k, m in items:
                cx.env[e.var] = lift(k)
                b, be = self.ev(e.body, cx)
                here = AND(reach, m)
                err = OR(err, AND(here, be))
                if forall:
                    parts.append(z3.Implies(m, b.z) if not _t(m) else b.z)
                    reach = AND(reach, OR(NOT(m), b.z))
                else:
                    parts.append(AND(m, b.z))
                    reach = AND(reach, OR(NOT(m), NOT(b.z)))
            cx.env.pop(e.var, None)
            return Sc(AND(*parts) if forall else OR(*parts)), err
        if isinstance(e, S.SetComp):
            items, err = self.items(e.domain, cx)
            members: dict = {}
            for k, m in items:
                cx.env[e.var] = lift(k)
                c, ce = self._where(e.cond, cx)
                err = OR(err, AND(m, ce))
                take = AND(m, c.z)
                if _f(take):
                    continue
                x, xe = self.ev(e.elem, cx)
                err = OR(err, AND(take, xe))
                for u, cond in self._values_of(x, e.elem.type, e.elem.span):
                    members[u] = OR(members.get(u, FALSE), AND(take, cond))
            cx.env.pop(e.var, None)
            return _set_sorted(members), err
        if isinstance(e, S.Ite):
            c, ce = self.ev(e.cond, cx)
            a, ae = self.ev(e.then, cx)
            b, be = self.ev(e.other, cx)
            return merge(c.z, a, b), OR(ce, AND(NOT(ce), OR(AND(c.z, ae), AND(NOT(c.z), be))))
        if isinstance(e, (S.Not, S.Neg, S.BinOp)):
            return self._operator(e, cx)
        if isinstance(e, S.TupleLit):
            parts = [self.ev(i, cx) for i in e.items]
            return Tu(p for p, _ in parts), OR(*[x for _, x in parts])
        if isinstance(e, S.SetLit):
            members = {}
            err = FALSE
            for item in e.items:
                x, xe = self.ev(item, cx)
                err = OR(err, xe)
                for u, cond in self._values_of(x, item.type, item.span):
                    members[u] = OR(members.get(u, FALSE), cond)
            return _set_sorted(members), err
        if isinstance(e, S.SeqLit):
            raise Unsupported("a seq literal (seqs are not encoded)", e.span)
        if isinstance(e, S.MapLit):
            raise Unsupported("a map literal (maps are not encoded)", e.span)
        if isinstance(e, S.Slice):
            raise Unsupported("a seq slice (seqs are not encoded)", e.span)
        raise Unsupported(f"this expression ({type(e).__name__})", e.span)

    def _values_of(self, x, t: Type, span):
        """[(concrete value, condition)] covering the values a symbolic value can take."""
        v = concrete(x)
        if v is not _NOT_CONCRETE:
            return [(v, TRUE)]
        if isinstance(t, IntT) and t.lo is None:
            raise Unsupported("a set built from a computed integer (its possible values are not known); "
                              "store the value in a variable of a range type first", span)
        return [(u, eq_const(x, u)) for u in self.universe(t, span)]

    def items(self, dom: S.Expr, cx):
        """([(element, membership)], raises): what a binder ranges over, in canonical order."""
        if isinstance(dom, S.Name) and dom.ref and dom.ref[0] == "role":
            return [(i, TRUE) for i in dom.ref[1].node_ids], FALSE
        if isinstance(dom.type, (SeqT, MapT)):
            raise Unsupported(f"ranging over a {'seq' if isinstance(dom.type, SeqT) else 'map'}", dom.span)
        s, err = self.ev(dom, cx)
        if not isinstance(s, St):
            raise Unsupported("ranging over this collection", dom.span)
        return [(k, m) for k, m in s.members.items() if not _f(m)], err

    def _name(self, e: S.Name, cx):
        kind, payload = e.ref
        if kind in ("local", "localvar"):
            return cx.env[e.id]
        if kind == "var":
            return cx.vars[payload.index]
        if kind == "ghost":
            return cx.ghosts[payload.index]
        if kind in ("const", "enum"):
            return Sc(z3.IntVal(int(payload)))
        if kind == "role":
            role: RoleInfo = payload
            if role.count is None:
                return Sc(z3.IntVal(role.first))
            return St({i: TRUE for i in role.node_ids})
        raise Unsupported(f"'{e.id}' (time is not encoded)", e.span)

    def _node_values(self, node, ids, pick):
        """A value read from one of several nodes: if node == ids[0] then pick(ids[0]) else ..."""
        v = concrete(node)
        if v is not _NOT_CONCRETE:
            # a constant index out of the role (Server[-4]): the read raises (the caller's
            # error term says so) and its value is never used
            return pick(v if v in ids else ids[0])
        acc = pick(ids[-1])
        for i in reversed(ids[:-1]):
            acc = merge(eq_const(node, i), pick(i), acc)
        return acc

    def _field(self, e: S.Field, cx):
        if isinstance(e.obj, S.SelfRef):
            role = self.roles[e.obj.type.role]
            return cx.vars[role.var(e.name).index], FALSE
        node, err = self.ev(e.obj, cx)
        frame: Frame = cx.frame
        t = e.obj.type
        if t.role is not None:
            role = self.roles[t.role]
            idx = role.var(e.name).index
            ids = list(role.node_ids)
            return self._node_values(node, ids, lambda i: frame.nodes[i][idx]), err
        # `n.var` with n of type `node`: nodes of a role without that variable raise
        have = [i for i in range(self.n_nodes) if self.c.node_roles[i].var(e.name) is not None]
        lacking = [i for i in range(self.n_nodes) if i not in have]
        v = concrete(node)
        if v is not _NOT_CONCRETE and v not in have:
            i = have[0]
            return frame.nodes[i][self.c.node_roles[i].var(e.name).index], TRUE
        val = self._node_values(node, have, lambda i: frame.nodes[i][self.c.node_roles[i].var(e.name).index])
        bad = OR(*[eq_const(node, i) for i in lacking])
        return val, OR(err, bad)

    def _index(self, e: S.Index, cx):
        if isinstance(e.obj, S.Name) and e.obj.ref and e.obj.ref[0] == "role":
            role: RoleInfo = e.obj.ref[1]
            i, err = self.ev(e.index, cx)
            inside = AND(i.z >= 0, i.z < role.size) if not z3.is_int_value(i.z) else \
                z3.BoolVal(0 <= i.z.as_long() < role.size)
            return Sc(i.z + role.first if not z3.is_int_value(i.z) else z3.IntVal(i.z.as_long() + role.first)), \
                OR(err, NOT(inside))
        t = e.obj.type
        if isinstance(t, TupleT):
            obj, err = self.ev(e.obj, cx)
            return obj.items[int(e.index.value)], err
        what = "a map" if isinstance(t, MapT) else "a seq"
        raise Unsupported(f"indexing {what} (maps and seqs are not encoded)", e.span)

    def _call(self, e: S.Call, cx):
        f = e.func
        if f == "len":
            s, err = self.ev(e.args[0], cx)
            if not isinstance(s, St):
                raise Unsupported("len() of a seq or map", e.span)
            return Sc(_sum(list(s.members.values()))), err
        if f in ("min", "max"):
            s, err = self.ev(e.args[0], cx)
            keys = list(s.members.items())
            if f == "max":
                keys.reverse()
            empty = NOT(OR(*[m for _, m in keys]))
            acc = z3.IntVal(0)
            for k, m in reversed(keys):
                acc = ITE(m, z3.IntVal(k), acc)
            return Sc(acc), OR(err, empty)
        if f == "crashed":
            node, err = self.ev(e.args[0], cx)
            up = cx.frame.up
            return Sc(self._node_values(node, list(range(self.n_nodes)), lambda i: Sc(NOT(up[i]))).z), err
        if f == "index":
            node, err = self.ev(e.args[0], cx)
            role = e.args[0].type.role
            if role is not None:
                first = self.roles[role].first
                v = concrete(node)
                return Sc(z3.IntVal(v - first) if v is not _NOT_CONCRETE else node.z - first), err
            firsts = [self.c.node_roles[i].first for i in range(self.n_nodes)]
            return self._node_values(node, list(range(self.n_nodes)), lambda i: Sc(z3.IntVal(i - firsts[i]))), err
        raise Unsupported(f"{f}() (seqs and maps are not encoded)", e.span)

    def _operator(self, e: S.Expr, cx):
        """An operator, encoded by its entry in lang/operators.py. The operands are
        encoded left to right; an operator (or use of one) that prove does not encode
        is refused once the left operand is encoded, so an unsupported construct in
        that operand is the one reported, as the generated Python would meet it first."""
        op = operators.lookup(e)
        if op.arity == 1:
            a, ae = self.ev(e.operand, cx)
            why = op.z3_refusal(e)
            if why is not None:
                raise Unsupported(why, e.span)
            return op.z3(_SYMBOLIC, e, a, ae)
        a, ae = self.ev(e.left, cx)
        why = op.z3_refusal(e)
        if why is not None:
            raise Unsupported(why, e.span)
        b, be = self.ev(e.right, cx)
        return op.z3(_SYMBOLIC, e, a, ae, b, be)

    # ---- statements --------------------------------------------------------------------------

    def run(self, stmts: list[S.Stmt], x: _Exec) -> None:
        before = set(x.env)
        for s in stmts:
            if _f(x.alive):
                break
            self.stmt(s, x)
        for name in set(x.env) - before:  # the block's locals end with it (a loop body runs on x itself)
            del x.env[name]

    def stmt(self, s: S.Stmt, x: _Exec) -> None:  # noqa: C901
        if isinstance(s, S.Assign):
            root = s.target
            if isinstance(root, S.Index):
                raise Unsupported("assignment into a map or seq element (maps and seqs are not encoded)", s.span)
            kind, info = root.ref
            v, ve = self.ev(s.value, x)
            x.fail(ve)
            store = x.ghosts if kind == "ghost" else x.env if kind == "localvar" else x.vars
            old = store[info.index]
            if s.op == "=":
                new = v
            elif isinstance(info.type, SetT):
                keys = list(dict.fromkeys(list(old.members) + list(v.members)))
                if s.op == "|=":
                    new = _set_sorted({k: OR(old.members.get(k, FALSE), v.members.get(k, FALSE)) for k in keys})
                else:  # -=
                    new = St({k: AND(m, NOT(v.members.get(k, FALSE))) for k, m in old.members.items()})
            elif s.op == "+=":
                new = Sc(old.z + v.z)
            else:
                new = Sc(old.z - v.z)
            stored, fits = self.store(info.type, new, s.span)
            x.fail(NOT(fits))
            store[info.index] = stored
        elif isinstance(s, S.Let):
            v, ve = self.ev(s.value, x)
            x.fail(ve)
            x.env[s.name] = v
        elif isinstance(s, S.LocalVar):
            v, ve = self.ev(s.value, x)
            x.fail(ve)
            stored, fits = self.store(s.ref.type, v, s.span)
            x.fail(NOT(fits))
            x.env[s.name] = stored
        elif isinstance(s, S.LetAny):
            items, err = self.items(s.domain, x)
            x.fail(err)
            if not items:
                x.alive = FALSE
                return
            k = z3.Int(f"{x.tag}.any{next(self._fresh)}")
            x.choices.append(k)
            x.alive = AND(x.alive, OR(*[AND(k == i, m) for i, (_, m) in enumerate(items)]))
            acc = lift(items[-1][0])
            for i in range(len(items) - 2, -1, -1):
                acc = merge(k == i, lift(items[i][0]), acc)
            x.env[s.name] = acc
        elif isinstance(s, S.If):
            rest = x.alive
            outcomes = []
            for cond, body in s.branches:
                c, ce = self.ev(cond, x)
                x.err = OR(x.err, AND(rest, ce))
                rest = AND(rest, NOT(ce))
                outcomes.append((AND(rest, c.z), body))
                rest = AND(rest, NOT(c.z))
            outcomes.append((rest, s.orelse or []))
            self._branches(x, outcomes)
        elif isinstance(s, S.For):
            items, err = self.items(s.domain, x)
            x.fail(err)
            for k, m in items:
                if _t(m):
                    x.env[s.var] = lift(k)
                    self.run(s.body, x)
                else:
                    saved = x.env.get(s.var)
                    x.env[s.var] = lift(k)
                    self._branches(x, [(AND(x.alive, m), s.body), (AND(x.alive, NOT(m)), [])])
                    if saved is not None:
                        x.env[s.var] = saved
            x.env.pop(s.var, None)
        elif isinstance(s, S.Send):
            self._send(s, x)
        elif isinstance(s, S.Require):
            c, ce = self.ev(s.cond, x)
            x.fail(ce)
            x.alive = AND(x.alive, c.z)
        elif isinstance(s, S.Assert):
            c, ce = self.ev(s.cond, x)
            x.fail(ce)
            x.fail(NOT(c.z))
        else:
            raise Unsupported(f"this statement ({type(s).__name__})", s.span)

    def _branches(self, x: _Exec, outcomes: list) -> None:
        """Run mutually exclusive branches [(taken, body)] from x and merge them into x."""
        results = []
        for taken, body in outcomes:
            y = x.fork(taken)
            y.tag = x.tag
            if not _f(taken):
                self.run(body, y)
            results.append((taken, y))
        x.err = OR(x.err, *[y.err for _, y in results])
        x.alive = OR(*[y.alive for _, y in results])
        for attr in ("vars", "ghosts", "env"):  # env: `var` locals declared before the branches
            cur = getattr(x, attr)
            for i in (list(cur) if attr == "env" else range(len(cur))):
                vals = [getattr(y, attr)[i] for _, y in results]
                if all(v is cur[i] for v in vals):
                    continue
                acc = vals[-1]
                for (taken, _), v in zip(reversed(results[:-1]), reversed(vals[:-1])):
                    acc = merge(taken, v, acc)
                cur[i] = acc

    def _send(self, s: S.Send, x: _Exec) -> None:
        msg = self.c.messages[s.message]
        dsts = []
        if s.kind == "send":
            d, de = self.ev(s.to, x)
            x.fail(de)
            if isinstance(d, Op):
                x.fail(NOT(d.some))
                d = d.val if d.val is not None else Sc(z3.IntVal(0))
            dsts.append((d, TRUE))
        elif s.kind == "reply":
            dsts.append((lift(x.sender), TRUE))
        payload = []
        for a, (fname, ft) in zip(s.args, msg.fields):
            v, ve = self.ev(a, x)
            x.fail(ve)
            payload.append((v, ft))
        stored = []
        for v, ft in payload:
            sv, fits = self.store(ft, v, s.span)
            x.fail(NOT(fits))
            stored.append(sv)
        if s.kind == "broadcast":
            if s.to is None:
                role = self.c.node_roles[x.self_id]
                dsts = [(lift(m), TRUE) for m in role.node_ids if m != x.self_id]
            else:
                items, err = self.items(s.to, x)
                x.fail(err)
                dsts = [(lift(k), m) for k, m in items]
        for d, m in dsts:
            x.sends.append((AND(x.alive, m), d, msg.index, tuple(stored)))

    # ---- the transition relation -------------------------------------------------------------

    def instances(self, pre: Frame, tag: str) -> list[Inst]:
        """Every step instance from frame `pre`, in the explicit model's order."""
        c = self.c
        out: list[Inst] = []
        for n in range(self.n_nodes):
            role = c.node_roles[n]
            hs = self.model.handlers_by_kind[role.name]
            for kind in sorted(hs):
                for j in self.by_dst_kind.get((n, kind), ()):
                    src, _, _, payload = self.messages[j]
                    for h in hs[kind]:
                        env = {p: lift(v) for p, v in zip(h.params, payload) if p is not None}
                        if h.sender:
                            env[h.sender] = lift(src)
                        link = NOT(pre.cut[(src, n)]) if src != n else TRUE
                        en = AND(pre.up[n], self.in_flight(pre, j), link)
                        after = {j: pre.net[j] - 1} if self.mode == "unordered" else {}
                        out.append(self._node_step(pre, n, en, h.decl.guard, h.decl.body, env, src, after,
                                                   f"{tag}:{c.node_names[n]} on {h.decl.name} #{j}", tag))
            for a in self.model.actions[role.name]:
                for combo in a.combos:
                    env = {name: lift(v) for (name, _, _), v in zip(a.params, combo)}
                    out.append(self._node_step(pre, n, pre.up[n], a.decl.guard, a.decl.body, env, None, {},
                                               f"{tag}:{c.node_names[n]} does {a.decl.name}{combo}", tag))
        slot = 0
        for i, f in enumerate(self.faults):
            b = None
            if f.budget is not None:
                b = slot
                slot += 1
            out += self._fault(pre, f, b, tag)
        return out

    def _node_step(self, pre: Frame, n: int, en, guard, body, env, sender, net_after, label, tag) -> Inst:
        x = _Exec(list(pre.nodes[n]), list(pre.ghosts), env, n, sender, en, [], [])
        x.tag = tag
        if guard is not None and not _f(x.alive):
            g, ge = self.ev(guard, x)
            x.fail(ge)
            x.alive = AND(x.alive, g.z)
        if not _f(x.alive):
            self.run(body or [], x)
        return self._finish(pre, n, x, net_after, label)

    def _finish(self, pre: Frame, n: int, x: _Exec, net_after: dict, label: str) -> Inst:
        inst = Inst(label, ok=x.alive, err=x.err)
        for i, v in enumerate(x.vars):
            if v is not pre.nodes[n][i]:
                inst.nodes[(n, i)] = v
        for i, v in enumerate(x.ghosts):
            if v is not pre.ghosts[i]:
                inst.ghosts[i] = v
        net = dict(net_after)
        for cond, dst, kind, payload in x.sends:
            if _f(cond):
                continue
            d = concrete(dst)
            p = tuple(concrete(v) for v in payload)
            if d is not _NOT_CONCRETE and all(v is not _NOT_CONCRETE for v in p):
                js = [self.msg_index[(n, d, kind, p)]] if (n, d, kind, p) in self.msg_index else []
                hits = [(j, cond) for j in js]
            else:
                hits = []
                for j in self.by_src_kind.get((n, kind), ()):
                    m = self.messages[j]
                    h = AND(cond, eq_const(dst, m[1]), *[eq_const(v, u) for v, u in zip(payload, m[3])])
                    if not _f(h):
                        hits.append((j, h))
            for j, h in hits:
                base = net.get(j, pre.net[j])
                if self.mode == "set":
                    net[j] = OR(base, h)
                else:
                    net[j] = base + (1 if _t(h) else z3.If(h, 1, 0))
        inst.net = net
        return inst

    def _fault(self, pre: Frame, f, slot, tag) -> list[Inst]:
        """The step instances of one fault line: its kind encodes them (modelcheck/faults)."""
        has = TRUE if slot is None else pre.budgets[slot] > 0
        spent = {} if slot is None else {slot: pre.budgets[slot] - 1}
        return KINDS[f.kind].encode(self, pre, f, has, spent, tag)

    def fault_members(self, f) -> list[int]:
        """The nodes a node fault line applies to: those of its role, or all."""
        return [n for n in range(self.n_nodes) if f.role is None or self.c.node_roles[n].name == f.role]

    def transition(self, pre: Frame, post: Frame, tag: str | None = None) -> list:
        """Constraints: `post` is a successor of `pre` (post.err: the step raised)."""
        tag = tag or f"{pre.tag}>{post.tag}"
        insts = [i for i in self.instances(pre, tag) if not (_f(i.ok) and _f(i.err))]
        sel = z3.Int(f"{tag}.sel")
        cons = [sel >= 0, sel < max(len(insts), 1)]
        if not insts:
            return [FALSE]
        cons.append(z3.Or([AND(sel == i, OR(inst.ok, inst.err)) for i, inst in enumerate(insts)]))
        cons.append(post.err == OR(*[AND(sel == i, inst.err) for i, inst in enumerate(insts) if not _f(inst.err)]))

        def chain(pre_val, post_val, changes):
            if isinstance(pre_val, (Sc, Op, Tu, St)):
                ps, qs = slots(pre_val), slots(post_val)
                cols = [(i, slots(v)) for i, v in changes]
                for k, (p, q) in enumerate(zip(ps, qs)):
                    acc = p
                    for i, vs in reversed(cols):
                        acc = ITE(sel == i, vs[k], acc)
                    cons.append(_iff(q, acc) if q.sort() == z3.BoolSort() else q == acc)
            else:
                acc = pre_val
                for i, v in reversed(changes):
                    acc = ITE(sel == i, v, acc)
                if post_val is pre_val:
                    return
                cons.append(_iff(post_val, acc) if post_val.sort() == z3.BoolSort() else post_val == acc)

        for n in range(self.n_nodes):
            for v in range(len(pre.nodes[n])):
                chain(pre.nodes[n][v], post.nodes[n][v], [(i, t.nodes[(n, v)]) for i, t in enumerate(insts)
                                                          if (n, v) in t.nodes])
            chain(pre.up[n], post.up[n], [(i, t.up[n]) for i, t in enumerate(insts) if n in t.up])
        for k in self.links:
            chain(pre.cut[k], post.cut[k], [(i, t.cut[k]) for i, t in enumerate(insts) if k in t.cut])
        for j in range(len(self.messages)):
            chain(pre.net[j], post.net[j], [(i, t.net[j]) for i, t in enumerate(insts) if j in t.net])
        for g in range(len(pre.ghosts)):
            chain(pre.ghosts[g], post.ghosts[g], [(i, t.ghosts[g]) for i, t in enumerate(insts) if g in t.ghosts])
        for b in range(len(pre.budgets)):
            chain(pre.budgets[b], post.budgets[b], [(i, t.budgets[b]) for i, t in enumerate(insts)
                                                    if b in t.budgets])
        return cons


def _sum(bools: list):
    terms = [z3.If(b, 1, 0) for b in bools if not _f(b)]
    if not terms:
        return z3.IntVal(0)
    return z3.Sum(terms) if len(terms) > 1 else terms[0]




__all__ = ["Symbolic", "Frame", "Unsupported", "SetT"]
