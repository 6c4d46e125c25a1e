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
    op: str  # + - * / % == != < <= > >= and or => in notin has | &
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
    """`time { max M  delivery within D  skew K }` (DESIGN.md 1.7)."""

    span: Span
    max: Expr | None = None
    within: Expr | None = None
    skew: Expr | None = None


@dataclass
class ScenarioDecl(Decl):
    faults: list[FaultDecl]


@dataclass
class PropertyDecl(Decl):
    """An `invariant` (kind "invariant") or a temporal `property` (kind "property")."""

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
