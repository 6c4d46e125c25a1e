"""The operator table (lang/operators.py): every operator the grammar can build has
an entry, every entry has every engine's hook, and the engines use them.

An operator added to the grammar without an entry, or an entry without a hook,
fails here rather than on the first spec that uses it in some engine.
"""
from __future__ import annotations

import pytest
from conftest import pipeline
from lark import Tree

from modelcheck.lang import operators
from modelcheck.lang import syntax as S
from modelcheck.lang.diagnostics import NO_SPAN, SpecError
from modelcheck.lang.operators import BINARY, UNARY, NotEncoded, Operator
from modelcheck.lang.parser import _parser, _ToAst


def _grammar_operators() -> dict:
    """What each grammar rule builds, for the rules that build an operator
    expression: rule name -> BinOp op, or the Not/Neg class."""
    names = {str(r.alias) for r in _parser().rules if r.alias} | {r.origin.name for r in _parser().rules}
    dummy = S.Name(NO_SPAN, "x")
    out = {}
    for name in sorted(names):
        for arity in (1, 2):
            try:
                built = _ToAst().transform(Tree(name, [dummy] * arity))
            except Exception:  # a rule that needs other children: not an operator
                continue
            if isinstance(built, S.BinOp):
                out[name] = built.op
            elif isinstance(built, (S.Not, S.Neg)):
                out[name] = type(built)
    return out


def test_every_operator_the_grammar_builds_has_an_entry_and_no_entry_is_extra():
    built = _grammar_operators()
    assert {v for v in built.values() if isinstance(v, str)} == set(BINARY)
    assert {v for v in built.values() if isinstance(v, type)} == set(UNARY)
    # each entry names a rule that builds it
    for key, op in list(BINARY.items()) + list(UNARY.items()):
        assert built.get(op.rule) == key, op.symbol


@pytest.mark.parametrize("op", list(BINARY.values()) + list(UNARY.values()), ids=lambda o: f"{o.arity}:{o.symbol}")
def test_every_entry_has_every_hook(op: Operator):
    assert op.arity == (2 if op in BINARY.values() else 1)
    assert callable(op.check)
    if isinstance(op.python, str):  # a template over the operands' sources
        assert "{a}" in op.python and ("{b}" in op.python) == (op.arity == 2)
    else:
        assert callable(op.python)
    for hook in (op.z3, op.lint):
        assert callable(hook) or (isinstance(hook, NotEncoded) and hook.reason and hook.when is None)
    if op.z3_except is not None:
        assert callable(op.z3) and op.z3_except.reason and op.z3_except.when is not None
    assert op.explain in (operators.COMPARE, operators.TERMS, operators.VALUE)
    assert isinstance(op.observes_node_order, bool)
    assert op.fold is None or callable(op.fold)


def test_a_missing_hook_fails_when_the_table_is_built():
    with pytest.raises(TypeError, match="no z3 hook"):
        Operator("~", "tilde", 1, lambda ck, e: None, "(~{a})", None, NotEncoded("no"), operators.VALUE, False)
    with pytest.raises(TypeError, match="z3_except"):
        Operator("~", "tilde", 1, lambda ck, e: None, "(~{a})", NotEncoded("no"), NotEncoded("no"),
                 operators.VALUE, False, z3_except=NotEncoded("partly", lambda e: True))


def test_an_unknown_binary_operator_is_an_error_not_a_fall_through():
    with pytest.raises(KeyError):
        operators.lookup(S.BinOp(NO_SPAN, "**", S.IntLit(NO_SPAN, 1), S.IntLit(NO_SPAN, 2)))
    assert operators.lookup(S.IntLit(NO_SPAN, 1)) is None


def test_the_flags_keep_the_sets_the_engines_had():
    # symmetry's deny-list, explain's comparisons and connectives, the const folder's operators
    assert {s for s, o in BINARY.items() if o.observes_node_order} == {"<", "<=", ">", ">=", "+", "-", "*", "/", "%"}
    assert {s for s, o in BINARY.items() if o.explain == operators.COMPARE} == \
        {"==", "!=", "<", "<=", ">", ">=", "in", "not in", "has"}
    assert {s for s, o in BINARY.items() if o.explain == operators.TERMS} == {"and", "or", "=>"}
    assert {s for s, o in BINARY.items() if o.fold is not None} == {"+", "-", "*", "/", "%"}
    assert UNARY[S.Neg].fold(3) == -3 and UNARY[S.Not].fold is None
    # Python's floor semantics, as generated code computes them
    assert (BINARY["/"].fold(-7, 2), BINARY["%"].fold(-7, 2), BINARY["%"].fold(7, -2)) == (-4, 1, -1)


# ---- the engines use the table -------------------------------------------------------------

SPEC = """spec ops
role R[2] {
  var i: 0..3 = 0
  var b: bool = false
  var s: set<0..3> = {}
  action act when not b and -i <= 0 { i = (i + 1) % 4; s = s - {i} | {1} & s; b = i in s => i != 2 }
}
invariant inv: forall r in R: r.i / 1 * 1 >= 0 and (r.b or not r.b) and r.i not in {}
"""


def test_codegen_emits_each_operator_s_template():
    model = pipeline(SPEC)
    text = "\n".join(model.compiler.codegen.sources)
    for piece in ("(not ", "(-", "'%'", "'/'", "_divmod(", " - ", " | ", " & ", " in ", "((not ", " != ", " >= ",
                  " not in ", " or ", " and ", " * ", " <= ", " + "):
        assert piece in text, piece


def test_type_rules_give_the_same_messages():
    for expr, message in [("1 and true", "'and' needs bool operands, but this is int"),
                          ("i < b", "'<' compares ints, not"),
                          ("1 in 2", "'in' needs a set, seq or map on its right, not int"),
                          ("i has 1", "'has' tests a map's keys, but this is"),
                          ("s | 1 == s", "'|' on sets needs two sets of one element type"),
                          ("s + 1 == s", "'+' needs int operands, but this is set<0..3>"),
                          ("not i", "the operand of 'not' must be bool"),
                          ("-b", "the operand of unary '-' must be int")]:
        with pytest.raises(SpecError) as exc:
            pipeline(SPEC.replace("  action act", f"  action bad when {expr} {{ i = 0 }}\n  action act"))
        assert [d.message for d in exc.value.diagnostics if message in d.message], (expr, str(exc.value))


def test_constant_folding_uses_the_table():
    with pytest.raises(SpecError) as exc:
        pipeline("spec c\nconst N = 7 % (2 - 2)\nrole R[1] { var x: 0..3 = 0 }\n")
    assert exc.value.diagnostics[0].hint == "division by zero in a constant expression"
    model = pipeline("spec c\nconst N = -7 / 2 + 10 % 4 * 3\nrole R[1] { var x: 0..3 = 0 }\n")
    assert model.checked.consts["N"] == -4 + 6


def test_prove_refuses_an_operator_use_with_the_entry_s_reason():
    from modelcheck.smt.prove import prove
    from modelcheck.smt.symbolic import Unsupported

    model = pipeline(SPEC.replace("invariant inv: ", "invariant seq: 1 in [1, 2]\ninvariant inv: "))
    with pytest.raises(Unsupported) as exc:
        prove(model, k_max=1)
    assert exc.value.what == BINARY["in"].z3_except.reason == "'in' on a map or seq (maps and seqs are not encoded)"


def test_prove_and_lint_encode_the_operators():
    from modelcheck.smt.lint import lint
    from modelcheck.smt.prove import prove

    model = pipeline(SPEC)
    assert prove(model, k_max=2).verdict == "proved"
    assert lint(model.checked) == []
