"""The abstract syntax tree of a .ha spec.

Plain dataclasses, each carrying the `Span` it came from so every later pass can
point at the user's source. The checker fills in `Expr.type`; nothing else
mutates the tree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import NO_SPAN, Span


# ---- type expressions --------------------------------------------------------

@dataclass
class TypeExpr:
    span: Span


@dataclass
class BoolTypeExpr(TypeExpr):
    pass


@dataclass
class NodeTypeExpr(TypeExpr):
    pass


@dataclass
class NamedTypeExpr(TypeExpr):
    name: str


@dataclass
class RangeTypeExpr(TypeExpr):
    lo: "Expr"
    hi: "Expr"


@dataclass
class SetTypeExpr(TypeExpr):
    elem: TypeExpr


@dataclass
class MapTypeExpr(TypeExpr):
    key: TypeExpr
    value: TypeExpr


@dataclass
class SeqTypeExpr(TypeExpr):
    elem: TypeExpr
    max: "Expr"


@dataclass
class TupleTypeExpr(TypeExpr):
    items: list[TypeExpr]


@dataclass
class OptionalTypeExpr(TypeExpr):
    inner: TypeExpr


# ---- expressions -------------------------------------------------------------

@dataclass
class Expr:
    span: Span
    # Filled in by the checker: the static type (a modelcheck.types.Type).
    type: Any = field(default=None, init=False, repr=False, compare=False)
    # Filled in by the checker on names: (kind, payload), see checker.Binding.
    ref: Any = field(default=None, init=False, repr=False, compare=False)


@dataclass
class IntLit(Expr):
    value: int


@dataclass
class BoolLit(Expr):
    value: bool


@dataclass
class NoneLit(Expr):
    pass


@dataclass
class SelfRef(Expr):
    pass


@dataclass
class Name(Expr):
    id: str


@dataclass
class Call(Expr):
    func: str
    args: list[Expr]
    func_span: Span = NO_SPAN


@dataclass
class Count(Expr):
    var: str
    domain: Expr
    cond: Expr | None


@dataclass
class Quant(Expr):
    kind: str  # "forall" | "exists"
    var: str
    domain: Expr
    body: Expr


@dataclass
class SetComp(Expr):
    elem: Expr
    var: str
    domain: Expr
    cond: Expr | None


@dataclass
class Ite(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass
class BinOp(Expr):
    op: str  # + - * / % == != < <= > >= and or => in notin has | & .. ++
    left: Expr
    right: Expr


@dataclass
class Not(Expr):
    operand: Expr


@dataclass
class Neg(Expr):
    operand: Expr


@dataclass
class Field(Expr):
    obj: Expr
    name: str
    name_span: Span = NO_SPAN


@dataclass
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass
class Slice(Expr):
    obj: Expr
    lo: Expr | None
    hi: Expr | None


@dataclass
class TupleLit(Expr):
    items: list[Expr]


@dataclass
class SeqLit(Expr):
    items: list[Expr]


@dataclass
class SetLit(Expr):
    items: list[Expr]


@dataclass
class MapLit(Expr):
    entries: list[tuple[Expr, Expr]]


@dataclass
class Temporal(Expr):
    op: str  # "eventually" | "always" | "leads_to"
    args: list[Expr]


# ---- statements --------------------------------------------------------------

@dataclass
class Stmt:
    span: Span


@dataclass
class Assign(Stmt):
    target: Expr  # Name or Index chain rooted at a Name
    op: str  # "=", "+=", "-=", "|="
    value: Expr


@dataclass
class Let(Stmt):
    name: str
    value: Expr
    name_span: Span = NO_SPAN


@dataclass
class LocalVar(Stmt):
    """`var NAME: TYPE = EXPR` inside a block: a mutable local, visible until the end
    of its block; not part of the state."""

    name: str
    type_expr: TypeExpr
    value: Expr
    name_span: Span = NO_SPAN
    # Filled in by the checker: the local's checker.LocalVarInfo (its declared type).
    ref: Any = field(default=None, init=False, repr=False, compare=False)


@dataclass
class LetAny(Stmt):
    name: str
    domain: Expr
    name_span: Span = NO_SPAN


@dataclass
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt] | None


@dataclass
class For(Stmt):
    var: str
    domain: Expr
    body: list[Stmt]


@dataclass
class Send(Stmt):
    kind: str  # "send" | "broadcast" | "reply"
    message: str
    args: list[Expr]
    to: Expr | None
    message_span: Span = NO_SPAN


@dataclass
class Require(Stmt):
    cond: Expr


@dataclass
class Assert(Stmt):
    cond: Expr
    text: str | None


@dataclass
class Invoke(Stmt):
    """`invoke REG.OP(args)`: this node, a client, starts an operation on a register."""

    register: str
    op: str  # "write" | "read" (others are refused by the checker)
    args: list[Expr]
    register_span: Span = NO_SPAN
    ref: Any = field(default=None, init=False, repr=False, compare=False)  # checker.RegisterInfo


@dataclass
class Complete(Stmt):
    """`complete REG.OP` / `complete REG.read -> RESULT`: the client's pending
    operation returns (a read with the value it returned)."""

    register: str
    op: str
    result: Expr | None
    register_span: Span = NO_SPAN
    ref: Any = field(default=None, init=False, repr=False, compare=False)


# ---- declarations ------------------------------------------------------------

@dataclass
class Decl:
    name: str
    span: Span  # the name's span: where "duplicate"/"unknown" errors point


@dataclass
class ConstDecl(Decl):
    value: Expr


@dataclass
class EnumDecl(Decl):
    members: list[tuple[str, Span]]


@dataclass
class FieldDecl(Decl):
    type_expr: TypeExpr


@dataclass
class MessageDecl(Decl):
    fields: list[FieldDecl]


@dataclass
class VarDecl(Decl):
    type_expr: TypeExpr
    init: Expr
    persistent: bool = False
    ghost: bool = False


@dataclass
class HandlerDecl(Decl):
    """`on MSG(params) from SENDER when GUARD { body }`; `name` is the message kind."""

    params: list[tuple[str, Span]]
    sender: tuple[str, Span] | None
    guard: Expr | None
    body: list[Stmt]


@dataclass
class ActionDecl(Decl):
    params: list[FieldDecl]
    guard: Expr | None
    body: list[Stmt]
    # Filled in by the checker: parameter name -> resolved type.
    param_types: dict = field(default_factory=dict)


@dataclass
class RoleDecl(Decl):
    count: Expr | None
    vars: list[VarDecl]
    handlers: list[HandlerDecl]
    actions: list[ActionDecl]
    restart: list[Stmt] | None
    restart_span: Span = NO_SPAN


@dataclass
class FaultDecl:
    # crash restart partition one_way heal loss duplicate, or a liveness assumption:
    # eventually_heal, eventually_restart (see docs/language.md, "Liveness")
    kind: str
    role: tuple[str, Span] | None
    budget: Expr | None
    span: Span
    duration: Expr | None = None  # pause: the longest pause, in ticks


@dataclass
class TimeDecl:
    """`time { max M  delivery within D  skew K }` (docs/language.md, Time)."""

    span: Span
    max: Expr | None = None
    within: Expr | None = None
    skew: Expr | None = None


@dataclass
class ScenarioDecl(Decl):
    faults: list[FaultDecl]


@dataclass
class RegisterDecl(Decl):
    """`register NAME: T = INIT` or `register NAME[K]: T = INIT` (a key-value map,
    every key starting at INIT): the object whose client history is checked."""

    key_type: TypeExpr | None
    type_expr: TypeExpr
    init: Expr


@dataclass
class PropertyDecl(Decl):
    """An `invariant` (kind "invariant"), a temporal `property` (kind "property") or a
    `measure` (kind "measure": an int over the state, reported as its range)."""

    kind: str
    expr: Expr


@dataclass
class Spec:
    name: str
    span: Span
    consts: list[ConstDecl] = field(default_factory=list)
    enums: list[EnumDecl] = field(default_factory=list)
    messages: list[MessageDecl] = field(default_factory=list)
    ghosts: list[VarDecl] = field(default_factory=list)
    roles: list[RoleDecl] = field(default_factory=list)
    delivery: str = "unordered"
    delivery_span: Span = NO_SPAN
    faults: list[FaultDecl] | None = None
    time: TimeDecl | None = None
    scenarios: list[ScenarioDecl] = field(default_factory=list)
    invariants: list[PropertyDecl] = field(default_factory=list)
    properties: list[PropertyDecl] = field(default_factory=list)
    registers: list[RegisterDecl] = field(default_factory=list)
    measures: list[PropertyDecl] = field(default_factory=list)


def walk(node):
    """Every syntax node under `node` (a node, or nested lists of them), each before the
    nodes inside it; list items in order. The checker's annotations (type, ref) and
    spans are not descended into."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
            continue
        if not hasattr(x, "__dataclass_fields__"):
            continue
        yield x
        for name in x.__dataclass_fields__:
            if name not in ("type", "ref", "span"):
                stack.append(getattr(x, name))


# ---- limits every engine can handle -----------------------------------------------

# Integer literals and const values must lie in -MAX_INT..MAX_INT (a signed 64-bit
# word): no finite model needs a larger bound, and Python's int/str conversion
# (4,300 digits) would otherwise fail on the way to a trace or to generated code.
MAX_INT = 2**63 - 1

# How deeply syntax may nest (expressions, statements and types together, counted
# from the declaration). Every pass over the tree (checker, code generator, the z3
# encodings, the explanation of a violation) recurses along it, and the generated
# Python for one expression may open up to 3 brackets per level, where CPython
# allows 200: 64 leaves both far from their limits and is far deeper than any spec.
MAX_NESTING = 64

# `and`/`or` chains up to this many terms keep the parser's left-nested shape (so
# explanations of short chains read as before); longer ones become a balanced tree
# of such chunks, so that a 2,000-term chain is 16 levels deep, not 2,000.
CHAIN_CHUNK = 8


def int_text(value: int) -> str:
    """`value` in decimal, or its size when it is too long to print (Python refuses
    to convert ints of more than 4,300 digits, and nobody reads 30 digits)."""
    if -10**30 < value < 10**30:
        return str(value)
    digits = int(value.bit_length() * 0.30103) + 1
    return f"{'-' if value < 0 else ''}a number of about {digits:,} digits"


def _children(x):
    """The direct syntax children of a node, with the fields the checker fills in
    (type, ref) and spans skipped; lists and tuples are looked through."""
    out = []
    stack = [getattr(x, n) for n in x.__dataclass_fields__ if n not in ("type", "ref", "span")]
    stack.reverse()
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        elif hasattr(v, "__dataclass_fields__"):
            out.append(v)
    return out


def _chain_terms(e: BinOp) -> list[Expr]:
    """The operands of a chain of one associative operator, left to right."""
    terms, stack = [], [e]
    while stack:
        x = stack.pop()
        if isinstance(x, BinOp) and x.op == e.op:
            stack.append(x.right)
            stack.append(x.left)
        else:
            terms.append(x)
    return terms


def _balanced(op: str, terms: list[Expr]) -> Expr:
    """A tree of `op` over terms with the same left-to-right order. `and` and `or`
    are associative and short-circuit left to right, so any bracketing evaluates
    the same terms in the same order: only the depth changes."""
    if len(terms) <= CHAIN_CHUNK:
        out = terms[0]
        for t in terms[1:]:
            out = BinOp(out.span.to(t.span), op, out, t)
        return out
    mid = len(terms) // 2
    left, right = _balanced(op, terms[:mid]), _balanced(op, terms[mid:])  # depth log2(n)
    return BinOp(left.span.to(right.span), op, left, right)


def _rebalance(x):
    """x itself, or the balanced form of x when it is a long `and`/`or` chain."""
    if isinstance(x, BinOp) and x.op in ("and", "or"):
        terms = _chain_terms(x)
        if len(terms) > CHAIN_CHUNK:
            return _balanced(x.op, terms)
    return x


def _rebalanced_value(v):
    if isinstance(v, list):
        v[:] = [_rebalanced_value(i) for i in v]
        return v
    if isinstance(v, tuple):
        return tuple(_rebalanced_value(i) for i in v)
    return _rebalance(v)


def balance_chains(spec: "Spec") -> None:
    """Rebuild every long `and`/`or` chain of the spec as a balanced tree, in place,
    without recursion (a chain of thousands of terms is nested that deeply)."""
    stack = [spec]
    while stack:
        x = stack.pop()
        for name in x.__dataclass_fields__:
            if name in ("type", "ref", "span"):
                continue
            v = getattr(x, name)
            if isinstance(v, (list, tuple, BinOp)):
                new = _rebalanced_value(v)
                if new is not v:
                    setattr(x, name, new)
        stack.extend(_children(x))


@dataclass
class TooDeep:
    """Where a spec nests past MAX_NESTING: the deepest node, its depth, and what
    kind of syntax crossed the limit (expression, statement or type)."""

    span: Span
    depth: int
    what: str


def _kind(x) -> str:
    if isinstance(x, Stmt):
        return "statements"
    if isinstance(x, TypeExpr):
        return "types"
    return "expressions"


def _counts(x) -> bool:
    return isinstance(x, (Expr, Stmt, TypeExpr))


def too_deep(spec: "Spec", limit: int = MAX_NESTING) -> TooDeep | None:
    """The deepest spot of the (first in the file) declaration that nests expressions,
    statements and types more than `limit` levels deep. Declarations themselves do
    not count. Walked with an explicit stack, so no nesting can exhaust Python's."""
    worst: list[TooDeep] = []
    for decl in _children(spec):
        found: TooDeep | None = None
        stack = [(decl, 0)]
        while stack:
            x, depth = stack.pop()
            depth += _counts(x)
            span = getattr(x, "span", None)  # children include plain values and Spans themselves
            if depth > limit and isinstance(span, Span) and (found is None or (-depth, span.line, span.column)
                                                             < (-found.depth, found.span.line, found.span.column)):
                found = TooDeep(span, depth, found.what if found else _kind(x))  # deepest, then first
            stack.extend((c, depth) for c in _children(x))
        if found is not None:
            worst.append(found)
    return min(worst, key=lambda f: (f.span.line, f.span.column), default=None)
