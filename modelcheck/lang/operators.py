"""One table for the expression operators: everything each engine needs to know about
an operator, in one entry.

Why: an operator's meaning used to be written out six times, as an if/elif chain or
a set in each of the checker (its type rule), codegen (the Python it compiles to),
symbolic (its z3 encoding for `prove`), lint (its z3 encoding for `check`'s
warnings), explain (how a failed invariant shows it) and symmetry (whether it lets
a spec tell nodes apart). Adding or changing an operator meant finding all six, and
forgetting one failed late or silently. Now each module looks the entry up, and
tests/test_operators.py fails when an operator the grammar can build has no entry
or an entry lacks a hook.

The hooks, by field (binary form first, unary second):

    check(checker, e, left type, right type) / check(checker, e) -> Type
        the type rule; it reports errors through `checker.error` / `checker.expect`
    python: a template over {a} and {b} (the operands' generated sources), or
        fn(codegen, e, a, b) -> source when the code depends on operand types
    z3(Z, e, a, ae, b, be) / z3(Z, e, a, ae) -> (value, raises)
        the symbolic encoding (smt/symbolic.py); a, b are encoded operands and ae, be
        their "evaluation raises" terms. A `NotEncoded` instead of a function: prove
        refuses the operator with that reason (`Unsupported`); `z3_except` refuses
        only some uses of an operator that is otherwise encoded.
    lint(z3, encoder, e, g) -> z3 term or None (smt/lint.py); g encodes an operand.
        A `NotEncoded` instead: the lint uses an unknown value (an over-approximation,
        so its verdicts stay sound).
    fold(x, y) / fold(x): the operator on Python ints, for constant expressions
        (bounds, counts, budgets); None where a constant expression cannot use it.

Nothing here imports z3, codegen or smt: checking a spec must not load z3 (slow to
import), and lang sits below engine and smt. So the z3 hooks are handed what they
build with: `Z` is the symbolic module (its AND/OR/NOT, Sc, eq, member, ...), `z3`
the z3 module.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable, Union

from . import syntax as S
from .types import ANY, BOOL, INT, AnyT, BoolT, IntT, MapT, SetT, SeqT, Type, assignable, collection_elem, join


@dataclass(frozen=True)
class NotEncoded:
    """An encoding (prove's or the lint's) does not cover this operator. For prove,
    `reason` is what the user is told (the `Unsupported` message); for the lint,
    which quietly uses an unknown value instead, it only says why. With `when`,
    only the uses of the operator for which `when(e)` holds are not covered."""

    reason: str
    when: Callable[[S.Expr], bool] | None = None

    def applies(self, e: S.Expr) -> bool:
        return self.when is None or self.when(e)


Hook = Union[Callable, NotEncoded]

# How explain.py shows an operator in the failing invariant (report/explain.py):
COMPARE = "compare"  # its line shows both operand values: `x < y   (3 < 1)`
TERMS = "terms"  # each operand (of a whole `a and b and c` chain) gets a line of its own
VALUE = "value"  # just its value; only operands with more to say (counts, quantifiers, ...) get lines


@dataclass(frozen=True)
class Operator:
    """One operator: its syntax and every engine's hook (see the module docstring)."""

    symbol: str  # as written; for a binary operator also `S.BinOp.op`
    rule: str  # the grammar alias (grammar/ha.lark) that builds it
    arity: int
    check: Callable
    python: str | Callable
    z3: Hook
    lint: Hook
    explain: str  # COMPARE, TERMS or VALUE
    # True when the operator can tell node ids apart beyond equality (order,
    # arithmetic): a spec using it on node ids has no symmetry (engine/symmetry.py)
    observes_node_order: bool
    fold: Callable | None = None
    z3_except: NotEncoded | None = None

    def __post_init__(self):
        # A missing hook fails when the table is built, not when a spec first uses it.
        for name in ("check", "python", "z3", "lint"):
            if getattr(self, name) is None:
                raise TypeError(f"operator '{self.symbol}' has no {name} hook")
        if self.explain not in (COMPARE, TERMS, VALUE):
            raise TypeError(f"operator '{self.symbol}': unknown explain style {self.explain!r}")
        if self.z3_except is not None and (isinstance(self.z3, NotEncoded) or self.z3_except.when is None):
            raise TypeError(f"operator '{self.symbol}': z3_except refuses some uses of an encoded operator")

    def z3_refusal(self, e: S.Expr) -> str | None:
        """Why prove cannot encode this use of the operator (None: it can)."""
        for no in (self.z3, self.z3_except):
            if isinstance(no, NotEncoded) and no.applies(e):
                return no.reason
        return None

    def python_source(self, gen, e: S.Expr, *operands: str) -> str:
        """The Python source of `e`, given its operands' sources."""
        if isinstance(self.python, str):
            return self.python.format(**dict(zip("ab", operands)))
        return self.python(gen, e, *operands)


# ---- type rules (one per family; the checker has already typed the operands) -------------

def _check_logic(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    for side, t in ((e.left, a), (e.right, b)):
        if not assignable(t, BOOL):
            ck.error("E201", f"'{e.op}' needs bool operands, but this is {t}", side.span)
    return BOOL


def _check_equality(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    if join(a, b) is None:
        ck.error("E201", f"cannot compare {a} with {b}", e.span, "both sides must have the same type")
    return BOOL


def _check_order(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    anyt = isinstance(a, AnyT) or isinstance(b, AnyT)
    if not anyt and not (isinstance(a, IntT) and isinstance(b, IntT)):
        ck.error("E201", f"'{e.op}' compares ints, not {a} and {b}", e.span)
    return BOOL


def _check_membership(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    elem = collection_elem(b)
    if elem is None and not isinstance(b, AnyT):
        ck.error("E201", f"'{e.op}' needs a set, seq or map on its right, not {b}", e.right.span)
    elif elem is not None and join(a, elem) is None:
        ck.error("E201", f"a {a} can never be in a collection of {elem}", e.span)
    return BOOL


def _check_has(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    if not isinstance(a, (MapT, AnyT)):
        ck.error("E201", f"'has' tests a map's keys, but this is {a}", e.left.span)
    elif isinstance(a, MapT) and not assignable(b, a.key):
        ck.error("E201", f"map key has type {b}, but the map's keys are {a.key}", e.right.span)
    return BOOL


def _check_sets(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    if isinstance(a, SetT) and isinstance(b, SetT) and join(a, b) is not None:
        return join(a, b)
    if not (isinstance(a, AnyT) or isinstance(b, AnyT)):
        ck.error("E201", f"'{e.op}' on sets needs two sets of one element type, not {a} and {b}", e.span)
    return a if isinstance(a, SetT) else b if isinstance(b, SetT) else ANY


def _check_arith(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    for side, t in ((e.left, a), (e.right, b)):
        if not isinstance(t, (IntT, AnyT)):
            hint = "to add to a set use s | {x}" if isinstance(t, SetT) and e.op == "+" else None
            if isinstance(t, SeqT) and e.op == "+":
                hint = "to concatenate seqs use s ++ t"
            ck.error("E201", f"'{e.op}' needs int operands, but this is {t}", side.span, hint)
    return INT


def _check_range(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    """`lo..hi`: the set of the integers lo, lo + 1, ..., hi (empty when hi < lo). Its
    elements' type is the range itself when both bounds are constant, else the
    bounds' declared ranges when both have one (z3 needs a finite universe)."""
    for side, t in ((e.left, a), (e.right, b)):
        if not isinstance(t, (IntT, AnyT)):
            ck.error("E201", f"a range '..' needs int bounds, but this is {t}", side.span,
                     "write lo..hi with integers, e.g. 0..N-1")
    lo, hi = ck.try_const(e.left), ck.try_const(e.right)
    if lo is not None and hi is not None:
        if hi - lo + 1 > MAX_RANGE:
            ck.error("E206", f"the range {lo}..{hi} has {hi - lo + 1:,} elements", e.span,
                     f"a range value may have at most {MAX_RANGE:,} elements")
            return SetT(INT)
        return SetT(IntT(lo, hi)) if lo <= hi else SetT(INT)
    least = lo if lo is not None else a.lo if isinstance(a, IntT) else None
    most = hi if hi is not None else b.hi if isinstance(b, IntT) else None
    if least is not None and most is not None and least <= most:
        return SetT(IntT(least, most))
    return SetT(INT)


def _check_concat(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    """`s ++ t`: the seq s followed by the seq t; its bound is the sum of theirs."""
    if isinstance(a, SeqT) and isinstance(b, SeqT) and join(a.elem, b.elem) is not None:
        bound = a.max + b.max if a.max is not None and b.max is not None else None
        return SeqT(join(a.elem, b.elem), bound)
    if isinstance(a, AnyT) or isinstance(b, AnyT):
        return a if isinstance(a, SeqT) else b if isinstance(b, SeqT) else ANY
    hint = "'++' joins seqs; for sets use s | t" if isinstance(a, SetT) or isinstance(b, SetT) else \
        "append one element with append(s, x), or write s ++ [x]"
    ck.error("E201", f"'++' needs two seqs of one element type, not {a} and {b}", e.span, hint)
    return ANY


def _check_minus(ck, e: S.BinOp, a: Type, b: Type) -> Type:
    """`-` is set difference when either side is a set, else subtraction."""
    if isinstance(a, SetT) or isinstance(b, SetT):
        return _check_sets(ck, e, a, b)
    return _check_arith(ck, e, a, b)


def _check_not(ck, e: S.Not) -> Type:
    ck.expect(e.operand, BOOL, "the operand of 'not'")
    return BOOL


def _check_neg(ck, e: S.Neg) -> Type:
    ck.expect(e.operand, INT, "the operand of unary '-'")
    return INT


# ---- Python code generation (engine/codegen.py; the names are its namespace's) -----------

def _py_membership(gen, e: S.BinOp, a: str, b: str) -> str:
    """A map's keys are tested with _mhas (a map is a tuple of pairs at run time)."""
    if isinstance(e.right.type, MapT):
        test = f"_mhas({b}, {a})"
        return test if e.op == "in" else f"(not {test})"
    return f"({a} {e.op} {b})"


def _py_range(gen, e: S.BinOp, a: str, b: str) -> str:
    """Through a helper that refuses a range of more than MAX_RANGE elements."""
    return f"_range({a}, {b}, {gen._span(e)})"


def _py_divide(gen, e: S.BinOp, a: str, b: str) -> str:
    """Through a helper that raises the spec's error (with this span) on a zero divisor."""
    return f"_divmod({a}, {b}, {e.op!r}, {gen._span(e)})"


# ---- z3 encodings for prove (smt/symbolic.py; Z is that module) --------------------------

def _z3_strict(value):
    """An operator whose operands are both always evaluated: it raises when either does."""
    def encode(Z, e, a, ae, b, be):
        err = Z.OR(ae, be)
        return value(Z, e, a, b), err
    return encode


def _z3_sets(combine):
    """A set operator: membership of each element from its memberships in a and b."""
    def value(Z, e, a, b):
        if not (isinstance(e.left.type, SetT) or isinstance(e.right.type, SetT)):
            # only where the checker let an unknown type through
            raise Z.Unsupported(f"operator '{e.op}'", e.span)
        return Z._set_sorted(combine(Z, a, b))
    return _z3_strict(value)


def _set_union(Z, a, b):
    keys = list(dict.fromkeys(list(a.members) + list(b.members)))
    return {k: Z.OR(a.members.get(k, Z.FALSE), b.members.get(k, Z.FALSE)) for k in keys}


def _set_intersection(Z, a, b):
    keys = list(dict.fromkeys(list(a.members) + list(b.members)))
    return {k: Z.AND(a.members.get(k, Z.FALSE), b.members.get(k, Z.FALSE)) for k in keys}


def _set_difference(Z, a, b):
    return {k: Z.AND(a.members.get(k, Z.FALSE), Z.NOT(b.members.get(k, Z.FALSE))) for k in a.members}


def _z3_ints(fn):
    """An int operator: fn on the operands' z3 Int terms."""
    def value(Z, e, a, b):
        if isinstance(e.left.type, SetT) or isinstance(e.right.type, SetT):
            # only where the checker let an unknown type through
            raise Z.Unsupported(f"'{e.op}' on sets", e.span)
        return Z.Sc(fn(a.z, b.z))
    return _z3_strict(value)


def _z3_minus(Z, e, a, ae, b, be):
    if isinstance(e.left.type, SetT) or isinstance(e.right.type, SetT):
        err = Z.OR(ae, be)
        return Z._set_sorted(_set_difference(Z, a, b)), err
    return _Z3_SUB(Z, e, a, ae, b, be)


_Z3_SUB = _z3_ints(operator.sub)


def _z3_divide(Z, e, a, ae, b, be):
    """Python semantics: floor division, remainder with the divisor's sign; a zero
    divisor raises."""
    err = Z.OR(ae, be)
    if isinstance(e.left.type, SetT) or isinstance(e.right.type, SetT):
        raise Z.Unsupported(f"'{e.op}' on sets", e.span)
    x, y = a.z, b.z
    q = Z.z3.If(y > 0, x / y, (-x) / (-y))
    return Z.Sc(q if e.op == "/" else x - y * q), Z.OR(err, y == 0)


# `and`/`or`/`=>` short-circuit in the generated Python: the right operand's error
# counts only when the left one does not decide.
def _z3_and(Z, e, a, ae, b, be):
    return Z.Sc(Z.AND(a.z, b.z)), Z.OR(ae, Z.AND(a.z, be))


def _z3_or(Z, e, a, ae, b, be):
    return Z.Sc(Z.OR(a.z, b.z)), Z.OR(ae, Z.AND(Z.NOT(a.z), be))


def _z3_implies(Z, e, a, ae, b, be):
    return Z.Sc(Z.OR(Z.NOT(a.z), b.z)), Z.OR(ae, Z.AND(a.z, be))


def _z3_range(Z, e, a, ae, b, be):
    """Constant bounds: exactly those elements. Computed bounds: one membership test
    per value of the bounds' declared ranges (the element type the checker gave)."""
    err = Z.OR(ae, be)
    lo, hi = Z.concrete(a), Z.concrete(b)
    if lo is not Z._NOT_CONCRETE and hi is not Z._NOT_CONCRETE:
        if hi - lo + 1 > Z.MAX_UNIVERSE:
            raise Z.Unsupported(f"the range {lo}..{hi} has {hi - lo + 1:,} values, too many to encode", e.span)
        return Z.St({i: Z.TRUE for i in range(lo, hi + 1)}), err
    t = e.type.elem if isinstance(e.type, SetT) else None
    if not (isinstance(t, IntT) and t.lo is not None) or t.hi - t.lo + 1 > Z.MAX_UNIVERSE:
        raise Z.Unsupported("a range 'lo..hi' whose bounds are computed without a declared range "
                            "(store them in variables of range types first)", e.span)
    return Z.St({i: Z.AND(a.z <= i, b.z >= i) for i in range(t.lo, t.hi + 1)}), err


def _map_or_seq_right(e: S.BinOp) -> bool:
    return isinstance(e.right.type, (SeqT, MapT))


# ---- z3 encodings for the lint (smt/lint.py) ---------------------------------------------

def _lint_bools(fn):
    """Bool operands; either one unknown makes the result unknown."""
    def encode(z3, enc, e, g):
        a, b = g(e.left), g(e.right)
        if a is None or b is None:
            return None
        return fn(z3, a, b)
    return encode


def _lint_scalars(fn):
    """Operands of an encodable type (bools, ints, enums, node ids), both bool or neither."""
    def encode(z3, enc, e, g):
        if not (enc.encodable(e.left.type) and enc.encodable(e.right.type)):
            return None
        a, b = g(e.left), g(e.right)
        if a is None or b is None:
            return None
        if isinstance(e.left.type, BoolT) != isinstance(e.right.type, BoolT):
            return None
        return fn(z3, a, b)
    return encode


def _lint_unary(fn):
    def encode(z3, enc, e, g):
        x = g(e.operand)
        return fn(z3, x) if x is not None else None
    return encode


_LINT_SETS = NotEncoded("sets are not encoded")
_LINT_MEMBERSHIP = NotEncoded("collections are not encoded")
_LINT_DIVISION = NotEncoded("division is not encoded (a zero divisor raises)")


def _ints(fn):
    return _lint_scalars(lambda z3, a, b: fn(a, b))



# ---- the table ----------------------------------------------------------------------------

def _binary(symbol, rule, check, python, z3, lint, explain, observes_node_order, fold=None, z3_except=None):
    """A binary operator; `observes_node_order` has no default: symmetry is sound only
    if every operator that can tell node ids apart beyond equality says so."""
    return Operator(symbol, rule, 2, check, python, z3, lint, explain, observes_node_order, fold, z3_except)


_BINARY = [
    _binary("and", "and_", _check_logic, "({a} and {b})", _z3_and, _lint_bools(lambda z3, a, b: z3.And(a, b)),
            TERMS, False),
    _binary("or", "or_", _check_logic, "({a} or {b})", _z3_or, _lint_bools(lambda z3, a, b: z3.Or(a, b)), TERMS,
            False),
    _binary("=>", "implies", _check_logic, "((not {a}) or {b})", _z3_implies,
            _lint_bools(lambda z3, a, b: z3.Implies(a, b)), TERMS, False),
    _binary("==", "eq", _check_equality, "({a} == {b})", _z3_strict(lambda Z, e, a, b: Z.Sc(Z.eq(a, b))),
            _ints(operator.eq), COMPARE, False),
    _binary("!=", "ne", _check_equality, "({a} != {b})", _z3_strict(lambda Z, e, a, b: Z.Sc(Z.NOT(Z.eq(a, b)))),
            _ints(operator.ne), COMPARE, False),
    _binary("<", "lt", _check_order, "({a} < {b})", _z3_ints(operator.lt), _ints(operator.lt), COMPARE, True),
    _binary("<=", "le", _check_order, "({a} <= {b})", _z3_ints(operator.le), _ints(operator.le), COMPARE, True),
    _binary(">", "gt", _check_order, "({a} > {b})", _z3_ints(operator.gt), _ints(operator.gt), COMPARE, True),
    _binary(">=", "ge", _check_order, "({a} >= {b})", _z3_ints(operator.ge), _ints(operator.ge), COMPARE, True),
    _binary("in", "in_", _check_membership, _py_membership,
            _z3_strict(lambda Z, e, a, b: Z.Sc(Z.member(a, b))), _LINT_MEMBERSHIP, COMPARE, False,
            z3_except=NotEncoded("'in' on a map or seq (maps and seqs are not encoded)", _map_or_seq_right)),
    _binary("not in", "not_in", _check_membership, _py_membership,
            _z3_strict(lambda Z, e, a, b: Z.Sc(Z.NOT(Z.member(a, b)))), _LINT_MEMBERSHIP, COMPARE, False,
            z3_except=NotEncoded("'not in' on a map or seq (maps and seqs are not encoded)", _map_or_seq_right)),
    _binary("has", "has", _check_has, "_mhas({a}, {b})",
            NotEncoded("'has' on a map or seq (maps and seqs are not encoded)"), _LINT_MEMBERSHIP, COMPARE, False),
    _binary("|", "union", _check_sets, "({a} | {b})", _z3_sets(_set_union), _LINT_SETS, VALUE, False),
    _binary("&", "intersect", _check_sets, "({a} & {b})", _z3_sets(_set_intersection), _LINT_SETS, VALUE,
            False),
    _binary("+", "add", _check_arith, "({a} + {b})", _z3_ints(operator.add), _ints(operator.add), VALUE, True,
            operator.add),
    # set difference as well as subtraction: both are Python's `-`
    _binary("-", "sub", _check_minus, "({a} - {b})", _z3_minus, _ints(operator.sub), VALUE, True, operator.sub),
    _binary("*", "mul", _check_arith, "({a} * {b})", _z3_ints(operator.mul), _ints(operator.mul), VALUE, True,
            operator.mul),
    _binary("/", "div", _check_arith, _py_divide, _z3_divide, _LINT_DIVISION, VALUE, True, operator.floordiv),
    _binary("%", "mod", _check_arith, _py_divide, _z3_divide, _LINT_DIVISION, VALUE, True, operator.mod),
    # a set of ints: its operands are ints, never node ids
    _binary("..", "range_lit", _check_range, _py_range, _z3_range, _LINT_SETS, VALUE, False),
    # concatenation keeps every element where it was: it commutes with renaming nodes
    _binary("++", "concat", _check_concat, "({a} + {b})", NotEncoded("'++' on seqs (seqs are not encoded)"),
            NotEncoded("seqs are not encoded"), VALUE, False),
]

# The most elements a range value `lo..hi` may have (a larger one is error E206 when
# its bounds are constant, and a run-time error of the spec otherwise).
MAX_RANGE = 100_000

# By `S.BinOp.op`.
BINARY: dict[str, Operator] = {op.symbol: op for op in _BINARY}

# By syntax class: the unary operators have a node type each.
UNARY: dict[type, Operator] = {
    S.Not: Operator("not", "not_", 1, _check_not, "(not {a})",
                    lambda Z, e, a, ae: (Z.Sc(Z.NOT(a.z)), ae),
                    _lint_unary(lambda z3, x: z3.Not(x)), TERMS, False),
    # A negated value is an int, which never holds a node id; counted as arithmetic.
    S.Neg: Operator("-", "neg", 1, _check_neg, "(-{a})",
                    lambda Z, e, a, ae: (Z.Sc(-a.z), ae),
                    _lint_unary(lambda z3, x: -x), TERMS, True, operator.neg),
}


def lookup(e: S.Expr) -> Operator | None:
    """The entry for an operator expression (BinOp, Not, Neg), None for any other
    expression. A BinOp whose operator has no entry is a KeyError: never a silent
    fall-through."""
    if isinstance(e, S.BinOp):
        return BINARY[e.op]
    return UNARY.get(type(e))


def operands(e: S.Expr) -> tuple:
    """The operands of an operator expression, left to right."""
    if isinstance(e, S.BinOp):
        return (e.left, e.right)
    return (e.operand,)
