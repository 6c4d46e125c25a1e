"""Name resolution and type checking: AST -> `CheckedSpec`.

Runs after parsing and before compilation. Every semantic error is collected
(not just the first) with a span and, where possible, a "did you mean" hint.
On success it returns the facts the compiler needs: const values (after
`--const` overrides), the node list, variable layouts, message kinds, fault
lines with their budgets. It also annotates the AST in place: every `Expr`
gets `.type`, and every `Name` gets `.ref`, saying what the name denotes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..faults import KINDS
from ..network import MODES
from . import operators
from . import syntax as S
from .diagnostics import Diagnostic, Span, SpecError, did_you_mean
from .types import (ANY, BOOL, INT, NONE, AnyT, BoolT, EnumT, IntT, MapT, NodeT, OptT, SeqT,
                    SetT, TupleT, Type, assignable, collection_elem, join)


@dataclass
class VarInfo:
    name: str
    type: Type
    init: S.Expr
    persistent: bool
    index: int  # position in the node's (or the ghost) variable tuple
    span: Span


@dataclass
class MessageInfo:
    name: str
    index: int
    fields: list[tuple[str, Type]]
    span: Span


@dataclass
class LocalVarInfo:
    """A mutable local (`var NAME: TYPE = EXPR` in a block). Its value lives in the
    step's bindings, keyed by its name (`index`), never in the state."""

    name: str
    type: Type
    span: Span

    @property
    def index(self) -> str:
        return self.name


@dataclass
class RoleInfo:
    name: str
    count: int | None  # None: a single node named like the role
    first: int  # global index of the role's first node
    decl: S.RoleDecl
    vars: list[VarInfo] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.count or 1

    @property
    def node_ids(self) -> range:
        return range(self.first, self.first + self.size)

    def var(self, name: str) -> VarInfo | None:
        return next((v for v in self.vars if v.name == name), None)


@dataclass
class FaultInfo:
    kind: str
    role: str | None
    budget: int | None
    span: Span
    duration: int | None = None  # pause: the longest pause, in ticks


@dataclass
class RegisterInfo:
    """A `register` declaration, checked: client operations on it are recorded and
    checked (modelcheck/consistency). `checks`: the consistency checks the spec's
    invariants name on it; the monitor keeps only what those need."""

    name: str
    index: int
    key: Type | None  # None: a single register; else the key type of a key-value map
    value: Type
    decl: S.RegisterDecl
    checks: set = field(default_factory=set)
    clients: set = field(default_factory=set)  # roles whose code invokes or completes operations on it


@dataclass
class TimeInfo:
    """The `time` block, evaluated: true time runs 0..max; a message on an intact link
    to an up, unpaused node must be delivered within `within` ticks (None: no bound);
    each node's clock is off true time by a fixed offset in -skew..skew."""

    max: int
    within: int | None
    skew: int
    span: Span


@dataclass
class CheckedSpec:
    spec: S.Spec
    consts: dict[str, int]
    enums: dict[str, EnumT]
    roles: list[RoleInfo]
    node_names: list[str]
    node_roles: list[RoleInfo]
    messages: dict[str, MessageInfo]
    ghosts: list[VarInfo]
    faults: list[FaultInfo]
    scenarios: dict[str, list[FaultInfo]]
    invariants: list[S.PropertyDecl]
    properties: list[S.PropertyDecl]
    delivery: str
    time: TimeInfo | None = None
    registers: list[RegisterInfo] = field(default_factory=list)
    measures: list[S.PropertyDecl] = field(default_factory=list)  # int expressions reported as ranges


@dataclass
class Binding:
    kind: str  # local | localvar | var | ghost | const | enum | role | clock | now
    type: Type
    # var/ghost: VarInfo; localvar: LocalVarInfo; const/enum: int; role: RoleInfo; local: the Span
    # that binds it (for an editor's go-to-definition)
    payload: object = None


BUILTINS = {"len", "min", "max", "append", "last", "keys", "crashed", "index", "indices"}
# Consistency checks of a register's history: invariants only (docs/language.md,
# Client operations and consistency).
from ..consistency.monitor import CHECKS as CONSISTENCY_CHECKS  # noqa: E402
OPERATIONS = {"write", "read"}
ARITY = {"len": 1, "min": 1, "max": 1, "append": 2, "last": 1, "keys": 1, "crashed": 1, "index": 1, "indices": 1}
MAX_NODES = 256  # every node is a tuple in every state; past this, a count is surely a typo
# An action explores one step per combination of parameter values; past this many the
# model is almost certainly a mistake (a range like 0..1000000), so it is an error.
MAX_ACTION_COMBINATIONS = 10_000


class Checker:
    def __init__(self, spec: S.Spec, overrides: dict[str, int]):
        self.spec = spec
        self.overrides = dict(overrides)
        self.errors: list[Diagnostic] = []
        self.consts: dict[str, int] = {}
        self.enums: dict[str, EnumT] = {}
        self.enum_members: dict[str, tuple[EnumT, int]] = {}
        self.roles: dict[str, RoleInfo] = {}
        self.messages: dict[str, MessageInfo] = {}
        self.ghosts: dict[str, VarInfo] = {}
        # context of the expression or statement being checked
        self.role: RoleInfo | None = None
        self.scopes: list[dict[str, Binding]] = []
        self.in_handler = False
        self.ghost_update = False
        self.const_only = False
        self.global_ctx = False
        self.init_ctx = False
        self.global_names: dict[str, Span] = {}
        self.registers: dict[str, RegisterInfo] = {}
        self.in_invariant = False

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.errors.append(Diagnostic(code, message, span, hint))

    # ---- top level ----------------------------------------------------------------

    def run(self) -> CheckedSpec:
        spec = self.spec
        self._declare_names()
        self._eval_consts()
        self._declare_enums()
        for m in spec.messages:
            self._declare_message(m)
        self._declare_roles()
        self.time = self._check_time(spec)
        for g in spec.ghosts:
            self._declare_ghost(g)
        for reg in spec.registers:
            self._declare_register(reg)
        for r in self.roles.values():
            self._declare_vars(r)
        for r in self.roles.values():
            self._check_role_bodies(r)
        faults = self._check_faults(spec.faults or [])
        scenarios = {}
        for sc in spec.scenarios:
            if sc.name in scenarios:
                self.error("E102", f"duplicate scenario '{sc.name}'", sc.span)
            scenarios[sc.name] = self._check_faults(sc.faults)
        seen: dict[str, Span] = {}
        for p in spec.invariants + spec.properties + spec.measures:
            if p.name in seen:
                self.error("E102", f"duplicate property name '{p.name}'", p.span,
                           f"first declared at line {seen[p.name].line}")
            seen[p.name] = p.span
            self._check_property(p)
        if self.errors:
            raise SpecError(sorted(self.errors, key=lambda d: (d.span.line, d.span.column)))
        node_roles = [r for r in self.roles.values() for _ in r.node_ids]
        node_names = [f"{r.name}[{i}]" if r.count is not None else r.name
                      for r in self.roles.values() for i in range(r.size)]
        return CheckedSpec(spec, self.consts, self.enums, list(self.roles.values()), node_names,
                           node_roles, self.messages, list(self.ghosts.values()), faults, scenarios,
                           spec.invariants, spec.properties, spec.delivery, self.time,
                           list(self.registers.values()), spec.measures)

    def _declare_names(self) -> None:
        """Duplicate detection across the one global namespace of values and types."""
        seen: dict[str, Span] = {}

        def declare(name: str, span: Span, what: str) -> None:
            if name in seen:
                self.error("E102", f"duplicate declaration of '{name}'", span,
                           f"'{name}' is already declared at line {seen[name].line}; {what} names must be unique")
            else:
                seen[name] = span

        spec = self.spec
        for c in spec.consts:
            declare(c.name, c.span, "const")
        for e in spec.enums:
            declare(e.name, e.span, "enum")
            for m, sp in e.members:
                declare(m, sp, "enum member")
        for r in spec.roles:
            declare(r.name, r.span, "role")
        for g in spec.ghosts:
            declare(g.name, g.span, "ghost variable")
        for reg in spec.registers:
            declare(reg.name, reg.span, "register")
        mseen: dict[str, Span] = {}
        for m in spec.messages:
            if m.name in mseen:
                self.error("E102", f"duplicate message kind '{m.name}'", m.span,
                           f"first declared at line {mseen[m.name].line}")
            mseen[m.name] = m.span
        self.global_names = seen
        for name in self.overrides:
            if name not in {c.name for c in spec.consts}:
                hint = did_you_mean(name, [c.name for c in spec.consts])
                raise SpecError([Diagnostic(
                    "E103", f"--const {name}: the spec declares no const '{name}'", Span(0, 0, 0, 0),
                    f"did you mean '{hint}'?" if hint else
                    "declared consts: " + (", ".join(c.name for c in spec.consts) or "none"))])

    def _eval_consts(self) -> None:
        for c in self.spec.consts:
            if c.name in self.overrides:
                value = self.overrides[c.name]
                if not -S.MAX_INT <= value <= S.MAX_INT:
                    self.error("E206", f"--const {c.name}={S.int_text(value)} is out of range", c.span,
                               f"the value given with --const must be between -{S.MAX_INT:,} and {S.MAX_INT:,} "
                               "(2^63 - 1): a number that large cannot bound a finite model")
                    continue
                self.consts[c.name] = value
                continue
            value = self.const_int(c.value, "const value")
            if value is not None:
                self.consts[c.name] = value

    def const_int(self, expr: S.Expr, what: str) -> int | None:
        """Evaluate a compile-time integer expression (consts and literals only)."""
        try:
            return self._const_eval(expr)
        except _OutOfRange as err:
            self.error("E206", f"{what} is out of range: {S.int_text(err.value)}", err.span,
                       f"constants must lie between -{S.MAX_INT:,} and {S.MAX_INT:,} (2^63 - 1): "
                       "a number that large cannot bound a finite model")
            return None
        except _NotConst as err:
            if err.unknown:
                self.error("E101", f"unknown name '{err.unknown}' in {what}" + (f" (did you mean '{err.hint}'?)" if err.hint else ""),
                           err.span, "only consts and integer literals may appear here")
            else:
                self.error("E205", f"{what} must be a constant integer expression", err.span,
                           err.hint or "use integer literals, consts and + - * / %")
            return None

    def try_const(self, expr: S.Expr) -> int | None:
        """The value of `expr` if it is a constant integer expression, else None (no error)."""
        try:
            return self._const_eval(expr)
        except (_OutOfRange, _NotConst):
            return None

    def _const_eval(self, e: S.Expr) -> int:
        """The value of a constant expression; every intermediate result is bounded
        (`_OutOfRange`), so `N * N * N ...` cannot build numbers of millions of digits."""
        value = self._const_step(e)
        if not -S.MAX_INT <= value <= S.MAX_INT:
            raise _OutOfRange(e.span, value)
        return value

    def _const_step(self, e: S.Expr) -> int:
        if isinstance(e, S.IntLit):
            return e.value
        if isinstance(e, S.Name):
            if e.id in self.consts:
                return self.consts[e.id]
            if e.id in {c.name for c in self.spec.consts}:
                raise _NotConst(e.span, f"const '{e.id}' is used before it is declared, or its value is invalid")
            if e.id not in self.global_names and not any(v.name == e.id for r in self.spec.roles for v in r.vars):
                raise _NotConst(e.span, did_you_mean(e.id, self.consts), unknown=e.id)
            raise _NotConst(e.span, f"'{e.id}' is not a const: bounds, counts and budgets are fixed before exploring")
        op = operators.lookup(e)
        if op is not None and op.fold is not None:  # + - * / % and unary -
            args = [self._const_eval(x) for x in operators.operands(e)]
            try:
                return op.fold(*args)
            except ZeroDivisionError:
                raise _NotConst(e.span, "division by zero in a constant expression") from None
        raise _NotConst(e.span, None)

    def _declare_enums(self) -> None:
        for e in self.spec.enums:
            t = EnumT(e.name, tuple(m for m, _ in e.members))
            self.enums[e.name] = t
            for i, (m, _) in enumerate(e.members):
                self.enum_members[m] = (t, i)

    def _declare_message(self, m: S.MessageDecl) -> None:
        fields = []
        names: set[str] = set()
        for f in m.fields:
            if f.name in names:
                self.error("E102", f"message '{m.name}' has two fields named '{f.name}'", f.span)
            names.add(f.name)
            fields.append((f.name, self.resolve_type(f.type_expr)))
        self.messages[m.name] = MessageInfo(m.name, len(self.messages), fields, m.span)

    def _declare_roles(self) -> None:
        first = 0
        for r in self.spec.roles:
            if r.name in self.roles:
                continue  # reported as a duplicate declaration
            count = None
            if r.count is not None:
                count = self.const_int(r.count, "a role's node count")
                if count is not None and count < 1:
                    self.error("E206", f"role '{r.name}' must have at least one node, not {count}",
                               r.count.span, "the count in Role[COUNT] must be >= 1")
                    count = 1
                if count is None:
                    count = 1
            if first + (count or 1) > MAX_NODES:
                self.error("E206", f"role '{r.name}' would bring the spec to {first + (count or 1):,} nodes",
                           r.count.span if r.count is not None else r.span,
                           f"modelcheck supports up to {MAX_NODES} nodes in all; model checking needs small instances")
                count = 1
            info = RoleInfo(r.name, count, first, r)
            self.roles[r.name] = info
            first += info.size

    def _declare_ghost(self, g: S.VarDecl) -> None:
        t = self.resolve_type(g.type_expr)
        info = VarInfo(g.name, t, g.init, True, len(self.ghosts), g.span)
        self.ghosts[g.name] = info
        self.global_ctx = True
        self.role = None
        self._check_init(g, t)
        self.global_ctx = False

    def _declare_register(self, reg: S.RegisterDecl) -> None:
        key = self.resolve_type(reg.key_type) if reg.key_type is not None else None
        t = self.resolve_type(reg.type_expr)
        if key is not None and not _finite_param(key):
            self.error("E204", f"the key type of register '{reg.name}' must be a finite scalar type, not {key}",
                       reg.key_type.span, "use a range, bool, an enum or a role: each key is checked on its own")
        if not _finite_param(t) or isinstance(t, OptT):
            self.error("E204", f"the value type of register '{reg.name}' must be a finite scalar type without "
                               f"'?', not {t}", reg.type_expr.span, "use a range, bool, an enum or a role")
        self.registers[reg.name] = RegisterInfo(reg.name, len(self.registers), key, t, reg)
        self.role = None
        self._check_init(reg, t)

    def _operation(self, s) -> RegisterInfo | None:
        """The register an `invoke` / `complete` names, and its operation, checked."""
        reg = self.registers.get(s.register)
        if reg is None:
            guess = did_you_mean(s.register, self.registers)
            self.error("E101", f"unknown register '{s.register}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                       s.register_span, "declare it at the top level: register NAME: TYPE = INITIAL")
            return None
        if s.op not in OPERATIONS:
            self.error("E101", f"unknown operation '{s.op}' on register '{reg.name}'", s.span,
                       "a register's operations are write and read")
            return None
        s.ref = reg
        reg.clients.add(self.role.name)
        return reg

    def _invoke(self, s: S.Invoke) -> None:
        reg = self._operation(s)
        if reg is None:
            for a in s.args:
                self.expr(a)
            return
        want = ([reg.key] if reg.key is not None else []) + ([reg.value] if s.op == "write" else [])
        names = (["KEY"] if reg.key is not None else []) + (["VALUE"] if s.op == "write" else [])
        if len(s.args) != len(want):
            self.error("E203", f"{reg.name}.{s.op} takes {len(want)} argument(s), but {len(s.args)} were given",
                       s.span, f"write: invoke {reg.name}.{s.op}(" + ", ".join(names) + ")")
            for a in s.args:
                self.expr(a)
            return
        for a, t, what in zip(s.args, want, names):
            self.expect(a, t, f"the {what.lower()} of {reg.name}.{s.op}")

    def _complete(self, s: S.Complete) -> None:
        reg = self._operation(s)
        if reg is None:
            if s.result is not None:
                self.expr(s.result)
            return
        if s.op == "write" and s.result is not None:
            self.error("E203", f"a write on '{reg.name}' returns no result", s.result.span,
                       f"write: complete {reg.name}.write")
            self.expr(s.result)
        elif s.op == "read" and s.result is None:
            self.error("E203", f"a read on '{reg.name}' completes with the value it returned", s.span,
                       f"write: complete {reg.name}.read -> VALUE")
        elif s.result is not None:
            self.expect(s.result, reg.value, f"the result of {reg.name}.read")

    def _consistency(self, e: S.Call) -> Type:
        """`linearizable(REG)` and the other checks: whether the history of REG's
        operations so far satisfies the check. Invariants only."""
        if not self.in_invariant:
            self.error("E214", f"{e.func}() may be used only in an invariant", e.span,
                       "it reads the recorded history of client operations, which only the observer sees")
        if len(e.args) != 1 or not isinstance(e.args[0], S.Name) or e.args[0].id not in self.registers:
            hint = ("declare one: register NAME: TYPE = INITIAL" if not self.registers else
                    "registers: " + ", ".join(self.registers))
            self.error("E201", f"{e.func}() takes the name of a register", e.span, hint)
            return BOOL
        arg = e.args[0]
        arg.type = BOOL  # not a value: the generated code reads the register's monitor
        if e.func in CONSISTENCY_CHECKS and self.in_invariant:
            self.registers[arg.id].checks.add(e.func)
        return BOOL

    def _declare_vars(self, r: RoleInfo) -> None:
        self.role = r
        for v in r.decl.vars:
            if r.var(v.name):
                self.error("E102", f"role '{r.name}' declares variable '{v.name}' twice", v.span,
                           f"first declared at line {r.var(v.name).span.line}")
                continue
            if v.name in self.global_names:
                self.error("E102", f"variable '{v.name}' has the same name as a global declaration", v.span,
                           f"'{v.name}' is declared at line {self.global_names[v.name].line}; rename one")
                continue
            t = self.resolve_type(v.type_expr)
            r.vars.append(VarInfo(v.name, t, v.init, v.persistent, len(r.vars), v.span))
        for info in r.vars:
            decl = next(v for v in r.decl.vars if v.name == info.name and v.span == info.span)
            self._check_init(decl, info.type, vars_visible=False)
        self.role = None

    def _check_init(self, decl: S.VarDecl, t: Type, vars_visible: bool = False) -> None:
        """Initial values may use consts, enum members, node ids and `self`, not other variables."""
        self.scopes = [{}]
        self.init_ctx = True
        actual = self.expr(decl.init)
        self.init_ctx = False
        if not assignable(actual, t):
            self.error("E201", f"initial value of '{decl.name}' has type {actual}, but the variable is declared {t}",
                       decl.init.span)

    # ---- types ----------------------------------------------------------------------

    def resolve_type(self, te: S.TypeExpr) -> Type:
        if isinstance(te, S.BoolTypeExpr):
            return BOOL
        if isinstance(te, S.NodeTypeExpr):
            return NodeT(None)
        if isinstance(te, S.NamedTypeExpr):
            if te.name in self.enums:
                return self.enums[te.name]
            if te.name in {r.name for r in self.spec.roles}:
                return NodeT(te.name)
            if te.name == "int":
                self.error("E204", "unbounded 'int' is not a type here", te.span,
                           "every value in the state must be finite: write a range such as 0..3")
                return INT
            names = list(self.enums) + [r.name for r in self.spec.roles] + ["bool", "node"]
            guess = did_you_mean(te.name, names)
            self.error("E101", f"unknown type '{te.name}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                       te.span, "types are bool, LO..HI, an enum, a role name, node, set<T>, map<K, V>, "
                                "seq<T, MAX>, (T1, T2) and T?")
            return ANY
        if isinstance(te, S.RangeTypeExpr):
            lo = self.const_int(te.lo, "a range bound")
            hi = self.const_int(te.hi, "a range bound")
            if lo is None or hi is None:
                return INT
            if lo > hi:
                self.error("E206", f"empty range {lo}..{hi}", te.span, "the lower bound must not exceed the upper bound")
            return IntT(lo, hi)
        if isinstance(te, S.SetTypeExpr):
            return SetT(self.resolve_type(te.elem))
        if isinstance(te, S.MapTypeExpr):
            return MapT(self.resolve_type(te.key), self.resolve_type(te.value))
        if isinstance(te, S.SeqTypeExpr):
            m = self.const_int(te.max, "a seq's maximum length")
            if m is not None and m < 0:
                self.error("E206", f"a seq's maximum length must be >= 0, not {m}", te.max.span)
            return SeqT(self.resolve_type(te.elem), m)
        if isinstance(te, S.TupleTypeExpr):
            return TupleT(tuple(self.resolve_type(t) for t in te.items))
        if isinstance(te, S.OptionalTypeExpr):
            inner = self.resolve_type(te.inner)
            return inner if isinstance(inner, OptT) else OptT(inner)
        raise AssertionError(te)

    # ---- roles ----------------------------------------------------------------------

    def _check_role_bodies(self, r: RoleInfo) -> None:
        self.role = r
        for h in r.decl.handlers:
            self._check_handler(r, h)
        seen: dict[str, Span] = {}
        for a in r.decl.actions:
            if a.name in seen:
                self.error("E102", f"role '{r.name}' declares action '{a.name}' twice", a.span,
                           f"first declared at line {seen[a.name].line}")
            seen[a.name] = a.span
            self.scopes = [{}]
            for p in a.params:
                t = self.resolve_type(p.type_expr)
                if not _finite_param(t):
                    self.error("E204", f"action parameter '{p.name}' must have a finite scalar type, not {t}", p.span,
                               "use a range, bool, an enum or a role; one step is explored per value")
                self.bind(p.name, Binding("local", t), p.span)
                a.param_types[p.name] = t
            combos = 1
            for t in a.param_types.values():
                combos = min(combos * _domain_size(t), 2**64)  # bounded: only compared and shown
            if combos > MAX_ACTION_COMBINATIONS:
                shown = f"{combos:,}" if combos < 2**64 else "more than 2^64"
                self.error("E206", f"action '{a.name}' has {shown} combinations of parameter values", a.span,
                           f"each is a separate step in every state; keep it under {MAX_ACTION_COMBINATIONS:,} "
                           "(narrow the ranges)")
            if a.guard is not None:
                self.expect(a.guard, BOOL, "an action's 'when' guard")
            self.block(a.body)
        if r.decl.restart is not None:
            self.scopes = [{}]
            self.block(r.decl.restart)
        self.role = None

    def _check_handler(self, r: RoleInfo, h: S.HandlerDecl) -> None:
        self.scopes = [{}]
        msg = self.messages.get(h.name)
        if msg is None:
            guess = did_you_mean(h.name, self.messages)
            self.error("E101", f"unknown message kind '{h.name}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                       h.span, "declare it with: message " + h.name + "(...)")
        elif len(h.params) != len(msg.fields):
            self.error("E203", f"handler for '{h.name}' binds {len(h.params)} field(s), but the message has "
                               f"{len(msg.fields)}", h.span,
                       f"message {h.name}(" + ", ".join(f"{n}: {t}" for n, t in msg.fields) + ")")
        for i, (p, sp) in enumerate(h.params):
            if p == "_":
                continue
            t = msg.fields[i][1] if msg and i < len(msg.fields) else ANY
            self.bind(p, Binding("local", t), sp)
        if h.sender is not None and h.sender[0] != "_":
            self.bind(h.sender[0], Binding("local", NodeT(None)), h.sender[1])
        if h.guard is not None:
            self.expect(h.guard, BOOL, "a handler's 'when' guard")
        self.in_handler = True
        self.block(h.body)
        self.in_handler = False

    def bind(self, name: str, b: Binding, span: Span) -> None:
        if any(name in sc for sc in self.scopes):
            self.error("E102", f"'{name}' is already defined in this scope", span, "pick another name")
        elif self.role is not None and self.role.var(name):
            self.error("E102", f"'{name}' is already a variable of role '{self.role.name}'", span,
                       "pick another name for the local")
        elif name in self.global_names:
            self.error("E102", f"'{name}' is already a global name", span,
                       f"it is declared at line {self.global_names[name].line}; pick another name")
        if b.kind == "local" and b.payload is None:
            b = Binding(b.kind, b.type, span)
        self.scopes[-1][name] = b

    # ---- statements -----------------------------------------------------------------

    def block(self, stmts: list[S.Stmt]) -> None:
        self.scopes.append({})
        for s in stmts:
            self.stmt(s)
        self.scopes.pop()

    def stmt(self, s: S.Stmt) -> None:
        if isinstance(s, S.Assign):
            self._assign(s)
        elif isinstance(s, S.Let):
            t = self.expr(s.value)
            self.bind(s.name, Binding("local", t), s.name_span)
        elif isinstance(s, S.LocalVar):
            t = self.resolve_type(s.type_expr)
            actual = self.expr(s.value)
            if not assignable(actual, t):
                self.error("E201", f"initial value of local '{s.name}' has type {actual}, but it is declared {t}",
                           s.value.span)
            s.ref = LocalVarInfo(s.name, t, s.name_span)
            self.bind(s.name, Binding("localvar", t, s.ref), s.name_span)
        elif isinstance(s, S.LetAny):
            t = self.expr(s.domain)
            elem = collection_elem(t) if isinstance(t, SetT) else None
            if elem is None and not isinstance(t, AnyT):
                self.error("E201", f"'any' chooses from a set, but this is {t}", s.domain.span)
            self.bind(s.name, Binding("local", elem or ANY), s.name_span)
        elif isinstance(s, S.If):
            for cond, body in s.branches:
                self.expect(cond, BOOL, "an if condition")
                self.block(body)
            if s.orelse is not None:
                self.block(s.orelse)
        elif isinstance(s, S.For):
            t = self.expr(s.domain)
            elem = collection_elem(t)
            if elem is None and not isinstance(t, AnyT):
                self.error("E201", f"'for' iterates over a set, seq or map, but this is {t}", s.domain.span)
            self.scopes.append({})
            self.bind(s.var, Binding("local", elem or ANY), s.domain.span)
            self.block(s.body)
            self.scopes.pop()
        elif isinstance(s, S.Send):
            self._send(s)
        elif isinstance(s, S.Require):
            self.expect(s.cond, BOOL, "'require'")
        elif isinstance(s, S.Assert):
            self.expect(s.cond, BOOL, "'assert'")
        elif isinstance(s, S.Invoke):
            self._invoke(s)
        elif isinstance(s, S.Complete):
            self._complete(s)
        else:
            raise AssertionError(s)

    def _assign(self, s: S.Assign) -> None:
        root = s.target
        while isinstance(root, S.Index):
            root = root.obj
        assert isinstance(root, S.Name)
        b = self.lookup(root.id)
        if b is None:
            self._unknown_name(root)
            self.expr(s.value)
            return
        if b.kind not in ("var", "ghost", "localvar"):
            what = {"local": "a local name (let, parameter or loop variable)", "const": "a const",
                    "enum": "an enum member", "role": "a role", "clock": "the node's clock (time passes by itself)",
                    "now": "true time"}[b.kind]
            hint = "only the node's own variables, ghost variables and 'var' locals can be assigned"
            if b.kind == "local":
                hint = (f"'let' names, parameters and loop variables are fixed; for a local you can assign, "
                        f"declare it with: var {root.id}: TYPE = VALUE")
            self.error("E202", f"cannot assign to '{root.id}': it is {what}", root.span, hint)
            self.expr(s.value)
            return
        self.ghost_update = b.kind == "ghost"
        target_t = self.lvalue_type(s.target)
        value_t = self.expr(s.value)
        self.ghost_update = False
        if s.op == "=":
            ok = assignable(value_t, target_t)
        elif s.op in ("+=",):
            ok = isinstance(target_t, IntT) and isinstance(value_t, (IntT, AnyT))
        elif s.op == "-=":
            ok = ((isinstance(target_t, IntT) and isinstance(value_t, (IntT, AnyT)))
                  or (isinstance(target_t, SetT) and assignable(value_t, target_t)))
        else:  # |=
            ok = isinstance(target_t, SetT) and assignable(value_t, target_t)
        if not ok and not isinstance(target_t, AnyT):
            self.error("E201", f"cannot {'assign' if s.op == '=' else 'apply ' + repr(s.op) + ' with'} a value "
                               f"of type {value_t} to '{_show_target(s.target)}' of type {target_t}",
                       s.value.span)

    def lvalue_type(self, target: S.Expr) -> Type:
        if isinstance(target, S.Name):
            b = self.lookup(target.id)
            target.ref = (b.kind, b.payload)
            target.type = b.type
            return b.type
        assert isinstance(target, S.Index)
        base = self.lvalue_type(target.obj)
        idx = self.expr(target.index)
        if isinstance(base, MapT):
            if not assignable(idx, base.key):
                self.error("E201", f"map key has type {idx}, but the map's keys are {base.key}", target.index.span)
            target.type = base.value
            return base.value
        if isinstance(base, SeqT):
            if not isinstance(idx, (IntT, AnyT)):
                self.error("E201", f"a seq index must be an int, not {idx}", target.index.span)
            target.type = base.elem
            return base.elem
        if not isinstance(base, AnyT):
            self.error("E201", f"cannot assign into an element of a {base}", target.span,
                       "element assignment works on maps (m[k] = v) and seqs (s[i] = v)")
        return ANY

    def _send(self, s: S.Send) -> None:
        msg = self.messages.get(s.message)
        if s.kind == "reply" and not self.in_handler:
            self.error("E207", "'reply' is only allowed inside a message handler", s.span,
                       "use 'send Msg(...) to node' in actions")
        arg_types = [self.expr(a) for a in s.args]
        if msg is None:
            guess = did_you_mean(s.message, self.messages)
            self.error("E101", f"unknown message kind '{s.message}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                       s.message_span)
        elif len(s.args) != len(msg.fields):
            self.error("E203", f"message '{s.message}' takes {len(msg.fields)} argument(s), but {len(s.args)} "
                               f"{'was' if len(s.args) == 1 else 'were'} given", s.message_span,
                       f"message {msg.name}(" + ", ".join(f"{n}: {t}" for n, t in msg.fields) + ")")
        else:
            for a, t, (fname, ft) in zip(s.args, arg_types, msg.fields):
                if not assignable(t, ft):
                    self.error("E201", f"field '{fname}' of '{msg.name}' is {ft}, but this argument is {t}", a.span)
        if s.to is not None:
            t = self.expr(s.to)
            if isinstance(t, OptT) and isinstance(t.inner, NodeT):
                t = t.inner  # sending to `none` is a run-time error
            if s.kind == "send" and not isinstance(t, (NodeT, AnyT)):
                self.error("E201", f"'send ... to' needs a node id, but this is {t}", s.to.span,
                           "to send to several nodes use: broadcast Msg(...) to SET")
            if s.kind == "broadcast" and not (isinstance(t, AnyT) or (isinstance(t, SetT) and isinstance(t.elem, (NodeT, AnyT)))):
                self.error("E201", f"'broadcast ... to' needs a set of node ids, but this is {t}", s.to.span)

    # ---- expressions ----------------------------------------------------------------

    def lookup(self, name: str) -> Binding | None:
        for sc in reversed(self.scopes):
            if name in sc:
                return sc[name]
        if self.role is not None and not getattr(self, "init_ctx", False):
            v = self.role.var(name)
            if v is not None:
                return Binding("var", v.type, v)
        if name in self.ghosts:
            return Binding("ghost", self.ghosts[name].type, self.ghosts[name])
        if name in self.consts:
            return Binding("const", INT, self.consts[name])
        if name in self.enum_members:
            t, i = self.enum_members[name]
            return Binding("enum", t, i)
        if name in self.roles:
            r = self.roles[name]
            return Binding("role", SetT(NodeT(name)) if r.count is not None else NodeT(name), r)
        t = getattr(self, "time", None)
        if t is not None and not getattr(self, "init_ctx", False):
            if name == "clock" and self.role is not None:
                return Binding("clock", IntT(-t.skew, t.max + t.skew))
            if name == "now" and self.role is None:
                return Binding("now", IntT(0, t.max))
        return None

    def _visible_names(self) -> list[str]:
        names = [n for sc in self.scopes for n in sc]
        if self.role is not None:
            names += [v.name for v in self.role.vars]
        return names + list(self.ghosts) + list(self.consts) + list(self.enum_members) + list(self.roles)

    def _unknown_name(self, e: S.Name) -> None:
        guess = did_you_mean(e.id, self._visible_names())
        hint = None
        if guess is None and self.role is None:
            owners = [r.name for r in self.roles.values() if r.var(e.id)]
            if owners:
                hint = f"'{e.id}' is a variable of role {owners[0]}; in an invariant write n.{e.id} for a node n"
        elif guess is None and self.role is not None:
            owners = [r.name for r in self.roles.values() if r.var(e.id)]
            if owners:
                hint = (f"'{e.id}' belongs to role {owners[0]}; nodes learn about each other only through messages")
        if e.id in ("clock", "now") and guess is None:
            if getattr(self, "time", None) is None:
                hint = f"'{e.id}' needs a time block: time {{ max 8 }}"
            elif getattr(self, "init_ctx", False):
                hint = "an initial value cannot read the time; start deadlines at 0 and set them in an action"
            elif e.id == "clock":
                hint = "'clock' is a node's own clock, readable in role code; invariants and properties read 'now'"
            else:
                hint = "'now' is true time, readable in invariants and properties; role code reads its own 'clock'"
        self.error("E101", f"unknown name '{e.id}'" + (f" (did you mean '{guess}'?)" if guess else ""), e.span, hint)

    def expect(self, e: S.Expr, t: Type, what: str) -> None:
        actual = self.expr(e)
        if not assignable(actual, t):
            self.error("E201", f"{what} must be {t}, but this is {actual}", e.span)

    def expr(self, e: S.Expr) -> Type:
        t = self._expr(e)
        e.type = t
        return t

    def _expr(self, e: S.Expr) -> Type:  # noqa: C901 - one case per expression form
        if isinstance(e, S.IntLit):
            return INT
        if isinstance(e, S.BoolLit):
            return BOOL
        if isinstance(e, S.NoneLit):
            return NONE
        if isinstance(e, S.SelfRef):
            if self.role is None:
                self.error("E208", "'self' is only meaningful inside a role", e.span,
                           "in invariants, quantify over nodes: forall n in Role: ...")
                return ANY
            return NodeT(self.role.name)
        if isinstance(e, S.Name):
            b = self.lookup(e.id)
            if b is None:
                if not any(c.name == e.id for c in self.spec.consts):  # a const whose value failed: reported
                    self._unknown_name(e)
                return ANY
            if b.kind == "ghost" and self.role is not None and not self.ghost_update:
                self.error("E302", f"node code may not read ghost variable '{e.id}'", e.span,
                           "ghost variables are the observer's bookkeeping: nodes may update them "
                           f"('{e.id} = ...') but not branch on them")
            e.ref = (b.kind, b.payload)
            return b.type
        if isinstance(e, S.Field):
            return self._field(e)
        if isinstance(e, S.Index):
            return self._index(e)
        if isinstance(e, S.Slice):
            t = self.expr(e.obj)
            for b in (e.lo, e.hi):
                if b is not None:
                    self.expect(b, INT, "a slice bound")
            if not isinstance(t, (SeqT, AnyT)):
                self.error("E201", f"only seqs can be sliced, not {t}", e.obj.span)
                return ANY
            return t
        if isinstance(e, S.Call):
            return self._call(e)
        if isinstance(e, S.Count):
            self._binder(e.var, e.domain, e.span)
            if e.cond is not None:
                self.expect(e.cond, BOOL, "the 'where' condition of count")
            self.scopes.pop()
            return INT
        if isinstance(e, S.Quant):
            self._binder(e.var, e.domain, e.span)
            self.expect(e.body, BOOL, f"the body of '{e.kind}'")
            self.scopes.pop()
            return BOOL
        if isinstance(e, S.SetComp):
            self._binder(e.var, e.domain, e.span)
            if e.cond is not None:
                self.expect(e.cond, BOOL, "the 'where' condition")
            t = self.expr(e.elem)
            self.scopes.pop()
            return SetT(t)
        if isinstance(e, S.Ite):
            self.expect(e.cond, BOOL, "an if-then-else condition")
            a, b = self.expr(e.then), self.expr(e.other)
            j = join(a, b)
            if j is None:
                self.error("E201", f"the branches of if-then-else have different types: {a} and {b}", e.span)
                return ANY
            return j
        if isinstance(e, (S.Not, S.Neg)):
            return operators.UNARY[type(e)].check(self, e)
        if isinstance(e, S.BinOp):
            return self._binop(e)
        if isinstance(e, S.TupleLit):
            return TupleT(tuple(self.expr(i) for i in e.items))
        if isinstance(e, (S.SeqLit, S.SetLit)):
            t: Type = ANY
            for item in e.items:
                it = self.expr(item)
                j = join(t, it)
                if j is None:
                    self.error("E201", f"elements of one collection must have one type: {t} and {it}", item.span)
                else:
                    t = j
            return SeqT(t) if isinstance(e, S.SeqLit) else SetT(t)
        if isinstance(e, S.MapLit):
            kt: Type = ANY
            vt: Type = ANY
            for k, v in e.entries:
                for part, was in ((k, "keys"), (v, "values")):
                    it = self.expr(part)
                    cur = kt if was == "keys" else vt
                    j = join(cur, it)
                    if j is None:  # found by tools/fuzz.py: a mixed map reached the renderer
                        self.error("E201", f"the {was} of one map must have one type: {cur} and {it}", part.span)
                    elif was == "keys":
                        kt = j
                    else:
                        vt = j
            return MapT(kt, vt)
        if isinstance(e, S.Temporal):
            self.error("E209", f"'{e.op}' is a temporal operator and may appear only in a property", e.span,
                       "write it as: property NAME: ...")
            for a in e.args:
                self.expr(a)
            return BOOL
        raise AssertionError(e)

    def _binder(self, var: str, domain: S.Expr, span: Span) -> None:
        t = self.expr(domain)
        elem = collection_elem(t)
        if elem is None and not isinstance(t, AnyT):
            self.error("E201", f"can only range over a set, seq or map, not {t}", domain.span)
        self.scopes.append({})
        self.bind(var, Binding("local", elem or ANY), span)

    def _field(self, e: S.Field) -> Type:
        t = self.expr(e.obj)
        if isinstance(t, AnyT):
            return ANY
        if isinstance(t, TupleT):
            self.error("E201", "tuples have no named fields", e.name_span, "use t[0], t[1], ...")
            return ANY
        if not isinstance(t, NodeT):
            self.error("E201", f"'.{e.name}' reads a node's variable, but this is {t}", e.obj.span)
            return ANY
        if self.role is not None and not isinstance(e.obj, S.SelfRef):
            self.error("E301", f"a node cannot read another node's variable '{e.name}'", e.span,
                       "nodes learn about each other only through messages; send the value in a message")
            return ANY
        roles = [self.roles[t.role]] if t.role else [r for r in self.roles.values() if r.var(e.name)]
        found = [r.var(e.name) for r in roles if r.var(e.name)]
        if not found or (t.role and not roles[0].var(e.name)):
            cands = [v.name for r in roles for v in r.vars]
            guess = did_you_mean(e.name, cands)
            owner = t.role or "any role"
            self.error("E101", f"{owner} has no variable '{e.name}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                       e.name_span)
            return ANY
        types = {v.type for v in found}
        if len(types) > 1:
            self.error("E201", f"variable '{e.name}' has different types in different roles", e.name_span,
                       "quantify over one role, e.g. forall s in Server: ...")
            return ANY
        return found[0].type

    def _index(self, e: S.Index) -> Type:
        t = self.expr(e.obj)
        i = self.expr(e.index)
        if isinstance(e.obj, S.Name) and (e.obj.ref or (None,))[0] == "role":
            role = e.obj.ref[1]
            if role.count is None:
                self.error("E201", f"role '{role.name}' is a single node; write '{role.name}' without an index", e.span)
            if not isinstance(i, (IntT, AnyT)):
                self.error("E201", f"a node index must be an int, not {i}", e.index.span)
            return NodeT(role.name)
        if isinstance(t, AnyT):
            return ANY
        if isinstance(t, SeqT):
            if not isinstance(i, (IntT, AnyT)):
                self.error("E201", f"a seq index must be an int, not {i}", e.index.span)
            return t.elem
        if isinstance(t, MapT):
            if not assignable(i, t.key):
                self.error("E201", f"map key has type {i}, but the map's keys are {t.key}", e.index.span)
            return t.value
        if isinstance(t, TupleT):
            if not isinstance(e.index, S.IntLit) or not 0 <= e.index.value < len(t.items):
                self.error("E201", f"a tuple of {len(t.items)} items is indexed by a literal 0..{len(t.items) - 1}",
                           e.index.span)
                return ANY
            return t.items[e.index.value]
        self.error("E201", f"cannot index a value of type {t}", e.obj.span)
        return ANY

    def _call(self, e: S.Call) -> Type:
        if e.func in CONSISTENCY_CHECKS:
            return self._consistency(e)
        if e.func not in BUILTINS:
            guess = did_you_mean(e.func, BUILTINS | set(self.messages))
            hint = None
            if e.func in self.messages:
                hint = f"to send a message write: send {e.func}(...) to NODE"
            self.error("E101", f"unknown function '{e.func}'" + (f" (did you mean '{guess}'?)" if guess and not hint else ""),
                       e.func_span, hint or "functions: " + ", ".join(sorted(BUILTINS)))
            for a in e.args:
                self.expr(a)
            return ANY
        arity = ARITY[e.func]
        if len(e.args) != arity:
            self.error("E203", f"{e.func}() takes {arity} argument(s), but {len(e.args)} were given", e.span)
            for a in e.args:
                self.expr(a)
            return ANY
        ts = [self.expr(a) for a in e.args]
        t = ts[0]
        if isinstance(t, AnyT):
            return {"len": INT, "crashed": BOOL, "min": INT, "max": INT, "index": INT,
                    "indices": SetT(INT)}.get(e.func, ANY)
        if e.func == "index":
            return self._node_index(e, t)
        if e.func == "indices":
            if not isinstance(t, SeqT):
                hint = "for a map's keys use keys(m)" if isinstance(t, MapT) else None
                self.error("E201", f"indices() takes a seq, not {t}", e.args[0].span, hint)
                return SetT(INT)
            return SetT(IntT(0, t.max - 1)) if t.max else SetT(INT)
        if e.func == "len":
            if not isinstance(t, (SetT, SeqT, MapT)):
                self.error("E201", f"len() takes a set, seq or map, not {t}", e.args[0].span)
            return INT
        if e.func in ("min", "max"):
            if not (isinstance(t, SetT) and isinstance(t.elem, (IntT, AnyT))):
                self.error("E201", f"{e.func}() takes a set of ints, not {t}", e.args[0].span)
            return INT
        if e.func == "append":
            if not isinstance(t, SeqT):
                self.error("E201", f"append() takes a seq, not {t}", e.args[0].span)
                return ANY
            if not assignable(ts[1], t.elem):
                self.error("E201", f"cannot append a {ts[1]} to a {t}", e.args[1].span)
            return SeqT(join(t.elem, ts[1]) or t.elem, t.max)
        if e.func == "last":
            if not isinstance(t, SeqT):
                self.error("E201", f"last() takes a seq, not {t}", e.args[0].span)
                return ANY
            return t.elem
        if e.func == "keys":
            if not isinstance(t, MapT):
                self.error("E201", f"keys() takes a map, not {t}", e.args[0].span)
                return ANY
            return SetT(t.key)
        # crashed
        if self.role is not None:
            self.error("E208", "crashed() may be used only in invariants and properties", e.span,
                       "a node cannot observe crashes directly; model a failure detector with messages and timeouts")
        if not isinstance(t, NodeT):
            self.error("E201", f"crashed() takes a node id, not {t}", e.args[0].span)
        return BOOL

    def _node_index(self, e: S.Call, t: Type) -> Type:
        """`index(n)`: n's position within its role, from 0 (`index(Server[2]) == 2`)."""
        if not isinstance(t, NodeT):
            hint = None
            if isinstance(t, OptT) and isinstance(t.inner, NodeT):
                hint = ("index() needs a node id, not an optional one; quantify instead: "
                        f"exists n in {t.inner.role or 'Role'}: n == x and index(n) ...")
            elif isinstance(t, IntT):
                hint = "index() gives a node's number; to get the node with a number i write Role[i]"
            self.error("E201", f"index() takes a node id, not {t}", e.args[0].span, hint)
            return INT
        sizes = [r.size for r in self.roles.values() if t.role is None or r.name == t.role]
        return IntT(0, max(sizes) - 1) if sizes else INT

    def _binop(self, e: S.BinOp) -> Type:
        """Both operands are typed, left first; then the operator's type rule
        (lang/operators.py) reports what does not fit and gives the result type."""
        a = self.expr(e.left)
        b = self.expr(e.right)
        return operators.BINARY[e.op].check(self, e, a, b)

    # ---- faults and properties ------------------------------------------------------

    def _check_faults(self, faults: list[S.FaultDecl]) -> list[FaultInfo]:
        out = []
        for f in faults:
            role = None
            if f.role is not None:
                if f.role[0] not in self.roles:
                    guess = did_you_mean(f.role[0], self.roles)
                    self.error("E101", f"unknown role '{f.role[0]}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                               f.role[1])
                else:
                    role = f.role[0]
            budget = None
            kind = KINDS.get(f.kind)  # None: a liveness assumption (eventually ...)
            if f.budget is not None:
                budget = self.const_int(f.budget, "a fault budget")
                if budget is not None and budget < 0:
                    self.error("E206", f"a fault budget must be >= 0, not {budget}", f.budget.span)
            elif kind is not None and kind.needs_bound:
                self.error("E210", f"'{f.kind}' needs a bound", f.span,
                           f"write e.g. '{f.kind} at most 1': unbounded {kind.noun} makes the state space infinite")
            info = FaultInfo(f.kind, role, budget, f.span)
            if kind is not None:
                kind.check(self, f, info)
            out.append(info)
        self._check_assumptions(out)
        return out

    def _check_time(self, spec: S.Spec) -> TimeInfo | None:
        t = spec.time
        if t is None:
            return None
        if t.max is None:
            self.error("E213", "the time block needs 'max': true time must be bounded to keep the model finite",
                       t.span, "write e.g. time { max 8 }")
            return None
        mx = self.const_int(t.max, "'max'")
        within = self.const_int(t.within, "'delivery within'") if t.within is not None else None
        skew = self.const_int(t.skew, "'skew'") if t.skew is not None else 0
        if mx is None or (t.within is not None and within is None) or skew is None:
            return None
        ok = True
        if not 1 <= mx <= 1000:
            self.error("E206", f"'max' must be between 1 and 1000, not {mx}", t.max.span)
            ok = False
        if within is not None and within < 1:
            self.error("E206", f"'delivery within' must be at least 1 tick, not {within}", t.within.span)
            ok = False
        if not 0 <= skew <= 1000:  # each offset is a choice per node
            self.error("E206", f"'skew' must be between 0 and 1000, not {S.int_text(skew)}", t.skew.span)
            ok = False
        if within is not None and not MODES[spec.delivery].consumes:
            self.error("E213", "'delivery within' does not work with 'delivery set'", t.within.span,
                       "a message set is never consumed, so no delivery can be due; use unordered or fifo")
            ok = False
        return TimeInfo(mx, within, skew, t.span) if ok else None

    def _check_assumptions(self, faults: list[FaultInfo]) -> None:
        """`eventually heal` / `eventually restart R` only make sense with a fault line
        that can do it: otherwise every behaviour with a cut (or a crash) would be
        silently excluded from liveness checking, and properties would hold vacuously."""
        for f in faults:
            if f.kind == "eventually_heal" and not any(g.kind == "heal" for g in faults):
                self.error("E212", "'eventually heal' needs a 'heal' line in the same block", f.span,
                           "add 'heal', or drop 'eventually heal' to ask what happens while links stay cut")
            if f.kind == "eventually_restart":
                ok = any(g.kind == "restart" and (g.role is None or g.role == f.role) for g in faults)
                if not ok:
                    what = f"'restart {f.role}'" if f.role else "'restart' (for every role)"
                    self.error("E212", f"'eventually restart{' ' + f.role if f.role else ''}' needs a {what} line "
                                       "in the same block", f.span,
                               "add the restart line, or drop the assumption to ask what happens while nodes stay down")

    def node_count(self) -> int:
        return sum(r.size for r in self.roles.values())

    def _check_property(self, p: S.PropertyDecl) -> None:
        self.role = None
        self.scopes = [{}]
        if p.kind == "invariant":
            self.in_invariant = True
            self.expect(p.expr, BOOL, f"invariant '{p.name}'")
            self.in_invariant = False
            return
        if p.kind == "measure":
            self._measure(p)
            return
        self._temporal(p.expr)

    def _measure(self, p: S.PropertyDecl) -> None:
        """A measure is read like an invariant's body (the global state, no `self`) but
        must be a number: its minimum and maximum over the reachable states are what
        `verify` reports, and only integers are ordered that way."""
        t = self.expr(p.expr)
        if not isinstance(t, (IntT, AnyT)):
            hint = ("count the states where it holds instead: count(n in Role where P), "
                    "or if P then 1 else 0" if isinstance(t, BoolT) else
                    "a measure is a number: use len(...), count(...), arithmetic or an int variable")
            self.error("E201", f"measure '{p.name}' must be an int, but this is {t}", p.expr.span, hint)

    def _temporal(self, e: S.Expr) -> None:
        """property := forall x in S: property | eventually P | always P | always eventually P | P leads_to Q."""
        if isinstance(e, S.Quant) and e.kind == "forall" and _has_temporal(e.body):
            self._binder(e.var, e.domain, e.span)
            self._temporal(e.body)
            self.scopes.pop()
            return
        if isinstance(e, S.Temporal):
            e.type = BOOL
            if e.op == "leads_to":
                for a in e.args:
                    self.expect(a, BOOL, "each side of 'leads_to'")
                return
            inner = e.args[0]
            if e.op == "always" and isinstance(inner, S.Temporal) and inner.op == "eventually":
                inner.type = BOOL
                self.expect(inner.args[0], BOOL, "the body of 'always eventually'")
                return
            self.expect(inner, BOOL, f"the body of '{e.op}'")
            return
        self.error("E209", "a property must be 'eventually P', 'always eventually P', 'always P' or 'P leads_to Q'",
                   e.span, "for a plain state predicate use: invariant NAME: ...")


class _OutOfRange(Exception):
    """A constant expression whose value (or a part of it) leaves -MAX_INT..MAX_INT."""

    def __init__(self, span: Span, value: int):
        super().__init__("constant out of range")
        self.span = span
        self.value = value


class _NotConst(Exception):
    def __init__(self, span: Span, hint: str | None, unknown: str | None = None):
        super().__init__(hint)
        self.span = span
        self.hint = hint
        self.unknown = unknown  # the name, when it is not declared at all


def _has_temporal(e: S.Expr) -> bool:
    if isinstance(e, S.Temporal):
        return True
    if isinstance(e, S.Quant):
        return _has_temporal(e.body)
    return False


def _domain_size(t: Type) -> int:
    if isinstance(t, BoolT):
        return 2
    if isinstance(t, IntT) and t.lo is not None:
        return max(t.hi - t.lo + 1, 0)
    if isinstance(t, EnumT):
        return len(t.members)
    if isinstance(t, OptT):
        return 1 + _domain_size(t.inner)
    return 1  # node ids: bounded by the node count; non-finite types are reported elsewhere


def _finite_param(t: Type) -> bool:
    return (isinstance(t, (BoolT, EnumT, NodeT)) or (isinstance(t, IntT) and t.lo is not None)
            or (isinstance(t, OptT) and _finite_param(t.inner)))


def _show_target(t: S.Expr) -> str:
    if isinstance(t, S.Name):
        return t.id
    if isinstance(t, S.Index):
        return _show_target(t.obj) + "[...]"
    return "?"


def check(spec: S.Spec, overrides: dict[str, int] | None = None) -> CheckedSpec:
    """Resolve names and types; raises SpecError listing every problem found."""
    return Checker(spec, overrides or {}).run()
