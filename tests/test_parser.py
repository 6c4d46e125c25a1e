"""Parsing: the AST for each construct, and syntax errors with exact positions."""
from __future__ import annotations

import pytest

from modelcheck.lang import syntax as S
from modelcheck.lang.diagnostics import Source, SpecError, render
from modelcheck.lang.parser import parse


def p(text: str) -> S.Spec:
    return parse(Source("t.ha", text))


def error_of(text: str):
    with pytest.raises(SpecError) as info:
        p(text)
    [d] = info.value.diagnostics
    return d


FULL = """
spec everything  # a comment
const N = 3
enum Phase { idle, busy, }
message Vote(term: 0..N-1, ok: bool)
message Ping()
ghost var acked: set<1..3> = {}
role Server[N] {
  var leader: bool = false
  persistent var term: 0..N = 0
  var m: map<Server, (0..3, bool)>? = none
  var log: seq<0..3, 2> = []
  on Vote(t, _) from c when t >= term { term = t; reply Ping() }
  on Ping() { leader = false }
  action timeout when not leader { broadcast Vote(0, true) }
  action write(v: 1..3) when leader { acked |= {v}; assert v > 0, "positive" }
  on restart { leader = false }
}
role Client { var phase: Phase = idle }
network { delivery fifo }
faults { crash Server at most 1; restart; partition at most 2; one_way; heal; loss at most 2; duplicate at most 1 }
scenario minority { crash Server at most 1 }
invariant single: count(s in Server where s.leader) <= 1
property elected: eventually exists s in Server: s.leader
property answered: forall s in Server: s.leader leads_to not s.leader
"""


def test_every_declaration_kind():
    spec = p(FULL)
    assert spec.name == "everything"
    assert [c.name for c in spec.consts] == ["N"]
    assert spec.enums[0].members[1][0] == "busy"
    assert [m.name for m in spec.messages] == ["Vote", "Ping"]
    assert spec.ghosts[0].ghost
    server, client = spec.roles
    assert [v.name for v in server.vars] == ["leader", "term", "m", "log"]
    assert [v.persistent for v in server.vars] == [False, True, False, False]
    assert server.handlers[0].params[1][0] == "_" and server.handlers[0].sender[0] == "c"
    assert server.handlers[1].sender is None
    assert [a.name for a in server.actions] == ["timeout", "write"]
    assert server.restart is not None and client.count is None
    assert spec.delivery == "fifo"
    assert [f.kind for f in spec.faults] == ["crash", "restart", "partition", "one_way", "heal", "loss", "duplicate"]
    assert spec.faults[0].role[0] == "Server"
    assert spec.scenarios[0].name == "minority"
    assert [i.name for i in spec.invariants] == ["single"]
    assert isinstance(spec.properties[1].expr, S.Quant)


def test_precedence():
    spec = p("spec x\ninvariant i: not a == b and c or d => e")
    e = spec.invariants[0].expr
    assert isinstance(e, S.BinOp) and e.op == "=>"
    assert e.left.op == "or" and e.left.left.op == "and"
    assert isinstance(e.left.left.left, S.Not) and e.left.left.left.operand.op == "=="


def test_arithmetic_and_set_precedence():
    e = p("spec x\ninvariant i: a + b * c in s | t & u").invariants[0].expr
    assert e.op == "in"
    assert e.left.op == "+" and e.left.right.op == "*"
    assert e.right.op == "|" and e.right.right.op == "&"


def test_spans_point_at_source():
    spec = p("spec x\nrole R { var v: bool = false\n  action go { v = true } }")
    a = spec.roles[0].actions[0]
    assert (a.span.line, a.span.column) == (3, 10)
    assert (a.body[0].span.line, a.body[0].span.column) == (3, 15)


@pytest.mark.parametrize("text, line, col, words", [
    ("spec x\nrole R {\n  var v: bool = \n}", 4, 1, "expected an expression"),
    ("spec x\nrole R {\n  var v: bool = false\n", 2, 8, "'{' is never closed"),
    ("spec x\nconst N 3", 2, 9, "expected '='"),
    ("spec x\nrole R { var count: bool = false }", 2, 14, "'count' is a reserved keyword"),
    ("spec x\nrole R { action a { let if = 1 } }", 2, 25, "'if' is a reserved keyword"),
    ("spec x\nenum set { a }", 2, 6, "'set' is a built-in type"),
    ("spec x\nrole R { var v: bool = false\n action a { v = = true } }", 3, 17, "unexpected '='"),
    ("spec x\ninvariant i: a $ b", 2, 16, "unexpected character '$'"),
    ("role R {}", 1, 1, "expected 'spec'"),
    ("spec x\nrole R { var v: bool = false; action a when v = true { } }", 2, 47, "unexpected '='"),
])
def test_syntax_error_positions(text, line, col, words):
    d = error_of(text)
    assert (d.span.line, d.span.column) == (line, col), d
    assert words in d.message


def test_soft_keywords_may_be_names():
    spec = p("spec loss\nconst heal = 1\nrole R { var node: bool = false\n var set: 0..heal = 0\n"
             "  action partition when not node { set = heal } }\nfaults { loss at most heal }")
    assert spec.name == "loss" and spec.roles[0].vars[0].name == "node"
    assert spec.roles[0].actions[0].name == "partition"


def test_keyword_expected_as_name_gets_hint():
    d = error_of("spec x\nrole R { action a { send = 1 } }")
    assert d.span.column == 26


def test_assign_in_condition_hints_double_equals():
    d = error_of("spec x\nrole R { var v: bool = false; action a when v = true { } }")
    assert "==" in d.hint


def test_rendered_error_has_caret_under_token():
    text = "spec x\nconst N 3"
    with pytest.raises(SpecError) as info:
        parse(Source("t.ha", text))
    out = render(info.value.diagnostics[0], Source("t.ha", text))
    lines = out.splitlines()
    assert lines[0].startswith("t.ha:2:9: error[E001]: unexpected '3'")
    assert lines[1].endswith("const N 3")
    assert lines[2].index("^") == lines[1].index("3")


def test_parentheses_optional_for_empty_messages():
    spec = p("spec x\nmessage Ping\nrole R { on Ping from c { send Ping to c; reply Ping; broadcast Ping } }")
    assert spec.messages[0].fields == []
    h = spec.roles[0].handlers[0]
    assert h.params == [] and h.sender[0] == "c"
    assert [s.kind for s in h.body] == ["send", "reply", "broadcast"]


def test_quantifier_may_close_a_chain():
    spec = p("spec x\ninvariant a: p => forall q in S: q\ninvariant b: x and exists y in S: y or z\n"
             "invariant c: not forall q in S: q")
    a, b, c = (i.expr for i in spec.invariants)
    assert a.op == "=>" and isinstance(a.right, S.Quant)
    assert b.op == "and" and isinstance(b.right, S.Quant) and b.right.body.op == "or"
    assert isinstance(c, S.Not) and isinstance(c.operand, S.Quant)


def test_parenthesised_type():
    spec = p("spec x\nrole R { var a: (0..3)? = none\n var c: (0..2, bool) = (1, true) }")
    a, c = spec.roles[0].vars
    assert isinstance(a.type_expr, S.OptionalTypeExpr) and isinstance(a.type_expr.inner, S.RangeTypeExpr)
    assert isinstance(c.type_expr, S.TupleTypeExpr)
