"""Issue 19, the language gaps: soft keywords across lines, range values, seq
concatenation and indices(), node indexes and arithmetic on nodes, mutable locals
(`var` in a block), and `if ... then ... else` as the last operand of an operator.

Each feature is checked in the parser, by the checker's diagnostics, on both
engines (the packed engine and the `State` search must agree, as in
tests/test_packed.py), and by prove (its encoding equals the explicit model, or it
refuses cleanly)."""
from __future__ import annotations

import json
import random
import re

import pytest
from conftest import ROOT, pipeline, run_cli
from test_prove import (assert_invariants_agree, explicit_successors, model_of, random_state, reachable,
                        z3_successors)

from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.symmetry import symmetric_roles
from modelcheck.lang import syntax as S
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.lang.parser import SOFT_KEYWORDS, parse
from modelcheck.smt.prove import prove
from modelcheck.smt.symbolic import Symbolic, Unsupported


def _checked(text: str, consts=None):
    return check(parse(Source("t.ha", text)), consts or {})


def _errors(text: str) -> list:
    with pytest.raises(SpecError) as exc:
        _checked(text)
    return exc.value.diagnostics


def _same(a, b) -> None:
    """The packed engine and the State search found the same (tests/test_packed.py)."""
    assert a.verdict == b.verdict
    assert (a.stats.distinct_states, a.stats.transitions, a.stats.depth) == \
        (b.stats.distinct_states, b.stats.transitions, b.stats.depth)
    assert (a.violation.message if a.violation else None) == (b.violation.message if b.violation else None)
    assert a.trace == b.trace


def _both(text: str, consts=None, **kw):
    model = pipeline(text, consts)
    fast = explore(model, Options(**kw))
    slow = explore(model, Options(packed=False, **kw))
    _same(fast, slow)
    return model, fast


def _z3_matches(text: str, consts=None, n_reach=40, n_random=15) -> None:
    """prove's encoding has exactly the explicit model's successors and invariant values."""
    model, _ = model_of(text, consts=consts)
    enc = Symbolic(model)
    rnd = random.Random(5)
    for st in reachable(model, n_reach) + [random_state(enc, rnd) for _ in range(n_random)]:
        assert z3_successors(enc, st) == explicit_successors(model, st), st
        assert_invariants_agree(enc, model, st)


def _cli_error(spec_file, text: str, *args: str, code: str | None = None) -> str:
    """stderr of a command that must fail with a positioned diagnostic (exit 2);
    `code`: the first diagnostic's error code."""
    if code is not None:
        assert _errors(text)[0].code == code
    path = spec_file(text)
    p = run_cli("check", str(path), *args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    return p.stderr


# ---- 4. soft keywords: newlines mean nothing ------------------------------------------------------

# One statement of each kind, to stand before the statement that uses the keyword.
BEFORE = ["x = 1", "x += 0", "if x == 1 { x = 2 }", "if x == 1 { x = 2 } elif x == 2 { x = 3 } else { x = 3 }",
          "for i in {1, 2} { x = i }", "send Ping(1) to self", "broadcast Ping(1)", "broadcast Ping(1) to {self}",
          "require x >= 0", "assert x >= 0", 'assert x >= 0, "text"', "let y{k} = x", "let z{k} = any {1, 2}",
          "var l{k}: 0..3 = 1"]
# Statements that use the keyword W as a variable of the role.
USES = ["W = 1", "W += 1", "W -= 0", "x = W", "W = W + 0", "if W == 1 { W = 2 }", "for i in {1} { W = i }",
        "send Ping(W) to self", "broadcast Ping(W)", "broadcast Ping(W) to {self}", "require W >= 0",
        "assert W >= 0", "let v{k} = W", "var u{k}: 0..3 = W"]
SEPARATORS = {"semicolon": "; ", "space": " ", "newline": "\n      "}


def _soft_spec(word: str, sep: str, first: bool = False) -> str:
    stmts = []
    k = 0
    for b in BEFORE:
        for u in USES:
            k += 1
            pair = [u, b] if first else [b, u]
            stmts.append(sep.join(s.replace("W", word).replace("{k}", str(k)) for s in pair))
    body = sep.join(stmts)
    replied = re.sub(r"send Ping[(](.*?)[)] to self", r"reply Ping(\1)", body)  # a handler may reply
    return f"""spec t
message Ping(v: 0..3)
role Server[2] {{
  var {word}: 0..3 = 0
  var x: 0..3 = 0
  action a {{
      {body}
  }}
  on Ping(v) {{
      {replied}
  }}
  on restart {{ {word} = 0{sep}x = {word} }}
}}
invariant inv: forall s in Server: s.{word} >= 0
"""


@pytest.mark.parametrize("sep", list(SEPARATORS), ids=list(SEPARATORS))
@pytest.mark.parametrize("word", sorted(SOFT_KEYWORDS))
def test_every_soft_keyword_in_every_statement_position(word, sep):
    """Every soft keyword as a variable, after every kind of statement and before one,
    with the statements on one line (`;` or a space) and on two."""
    for first in (False, True):
        checked = _checked(_soft_spec(word, SEPARATORS[sep], first))
        assert checked.roles[0].var(word) is not None


@pytest.mark.parametrize("word", sorted(SOFT_KEYWORDS))
def test_every_soft_keyword_as_a_declared_name(word):
    text = f"""spec t
message Ping(v: 0..3)
role Server[2] {{
  var x: 0..3 = 0
  action a({word}: 0..1) when {word} == 0 {{
    x = {word}
  }}
  action b {{
    x = count({word} in {{1}})
    let {word} = 1
    x = {word}
  }}
  action c {{
    for {word} in {{1}} {{ x = {word} }}
    var {word}: 0..3 = 1
    {word} += 1
    x = {word}
  }}
  on Ping({word}) from p {{ x = {word} }}
}}
invariant inv: (forall {word} in Server: {word}.x >= 0) and {{{word} for {word} in 0..1}} != {{}}
"""
    _checked(text)


def test_the_reported_case_and_the_keyword_still_works_where_it_fits():
    _checked("spec t\nrole R[2] {\n  var role: bool = false\n  var x: 0..1 = 0\n"
             "  action a {\n    x = 1\n    role = true\n  }\n}\n")
    model = pipeline("spec t\nmessage P\nrole R[2] {\n  var to: 0..3 = 0\n  var got: bool = false\n"
                     "  action a when to == 0 {\n    broadcast P\n    to {R[1]}\n    broadcast P\n    to = 2\n  }\n"
                     "  on P { got = true }\n}\n")
    action = model.checked.roles[0].decl.actions[0]
    first, second, third = action.body
    assert isinstance(first, S.Send) and first.to is not None  # `to` on the next line is the keyword
    assert isinstance(second, S.Send) and second.to is None  # here only a name fits: `to = 2`
    assert isinstance(third, S.Assign)


def test_a_missing_brace_before_a_declaration_is_still_reported_at_the_brace(spec_file):
    err = _cli_error(spec_file, "spec t\nmessage Ping\nrole S[2] {\n  var x: 0..3 = 0\n  action a {\n"
                                "    x = 1\n  on Ping { x = 2 }\n}\n")
    assert "spec.ha:5:12: error[E002]: this '{' is never closed: 'on' at line 7:3" in err


# ---- 2. ranges, ++ and indices() --------------------------------------------------------------------

RANGES = """spec ranges
const M = 3
role R[2] {
  var s: seq<0..3, 3> = [2, 0]
  var small: set<0..5> = {}
  var total: 0..20 = 0
  var n: 0..3 = 2
  action fill when len(s) < M {
    s = s ++ [len(s)]
  }
  action sums when total == 0 {
    small = {i for i in 0..M-1 where i < len(s)}
    total = count(i in 0..M+1 where i in small) + len(0..n) + len(n..1)
    require forall i in 1..0: false
    require exists i in 0..len(s)-1: s[i] == 2
  }
  action pick {
    let k = any 0..n
    require k in 0..len(s)-1 and k not in 5..9
    n = k
  }
}
invariant bounded: forall r in R: r.total <= 9
invariant types_still_work: forall r in R: r.n in 0..3 and len(indices(r.s)) == len(r.s)
"""


def test_ranges_in_comprehensions_quantifiers_count_any_and_types():
    model, res = _both(RANGES)
    assert res.verdict == "holds"
    # one state: R[0] after sums, with s = [2, 0]: small = {0, 1}, total = 2 + 3 + 0
    states = [t.state for t in model.successors(model.initial) if t.step.name == "sums"]
    assert states[0].nodes[0][1:3] == (frozenset({0, 1}), 5)
    assert model.checked.roles[0].var("n").type.describe() == "0..3"  # `0..3` in a type is still a type


def test_range_order_is_ascending_in_for_loops_and_any():
    text = """spec order
role R {
  var log: seq<0..9, 9> = []
  var picked: seq<0..9, 9> = []
  action a when len(log) == 0 { for i in 2..5 { log = append(log, i) } }
  action b when len(picked) < 2 { let k = any 7..8; picked = append(picked, k) }
}
"""
    model, res = _both(text)
    after = next(t.state for t in model.successors(model.initial) if t.step.name == "a")
    assert after.nodes[0][0] == (2, 3, 4, 5)
    picks = [t.state.nodes[0][1] for t in model.successors(model.initial) if t.step.name == "b"]
    assert picks == [(7,), (8,)]


def test_concatenation_and_indices():
    text = """spec cat
role R {
  var a: seq<0..3, 2> = [1, 2]
  var b: seq<0..3, 4> = []
  var idx: set<0..3> = {}
  action go when len(b) == 0 { b = a ++ a; idx = indices(b) }
}
invariant ok: R.b == [] or (R.b == [1, 2, 1, 2] and R.idx == 0..3 and R.b[2:] ++ [] == R.a)
"""
    model, res = _both(text)
    assert res.verdict == "holds" and res.stats.distinct_states == 2
    assert model.checked.roles[0].decl.actions[0].body[0].value.type.max == 4  # the bounds add up
    over = text.replace("var b: seq<0..3, 4>", "var b: seq<0..3, 3>")
    _, res = _both(over)
    assert res.verdict == "violated" and "more than its maximum 3" in res.violation.message


def test_range_and_concatenation_misuse_is_diagnosed(spec_file):
    base = "spec t\nrole R {\n  var s: seq<0..3, 3> = []\n  var t: set<0..3> = {}\n  var x: 0..3 = 0\n" \
           "  action a { ACTION }\n}\n"
    cases = [
        ("x = len(true..3)", "E201", "spec.ha:6:22: error: a range '..' needs int bounds, but this is bool",
         "hint: write lo..hi with integers"),
        ("t = 0..1000000", "E206", "spec.ha:6:18: error: the range 0..1000000 has 1,000,001 elements",
         "at most 100,000"),
        ("t = t ++ t", "E201", "spec.ha:6:18: error: '++' needs two seqs of one element type, not set<0..3> and "
                               "set<0..3>", "for sets use s | t"),
        ("s = s + s", "E201", "spec.ha:6:22: error: '+' needs int operands, but this is seq<0..3, 3>",
         "to concatenate seqs use s ++ t"),
        ("t = indices(t)", "E201", "spec.ha:6:26: error: indices() takes a seq, not set<0..3>", None),
        ("x = index(x)", "E201", "spec.ha:6:24: error: index() takes a node id, not 0..3",
         "to get the node with a number i write Role[i]"),
    ]
    for stmt, code, message, hint in cases:
        err = _cli_error(spec_file, base.replace("ACTION", stmt), code=code)
        assert message.replace("error:", f"error[{code}]:") in err, (stmt, err)
        assert "^" in err and "spec.ha:6:" in err, err
        if hint:
            assert hint in err, (stmt, err)


def test_a_computed_range_too_large_is_a_run_time_error():
    text = """spec big
role R {
  var n: 0..3 = 0
  var hi: 0..1000000 = 1000000
  action a when n == 0 { n = len(0..hi) % 3 }
}
"""
    _, res = _both(text)
    assert res.verdict == "violated" and res.violation.kind == "runtime_error"
    assert "the range 0..1000000 has 1,000,001 elements" in res.violation.message


# ---- 1. index(n) and computed node indexes ------------------------------------------------------------

RING = """spec ring
const N = 3
message Tok(v: 0..N-1)
role Server[N] {
  var uid: 0..N-1 = (index(self) * (N - 1) + 1) % N
  var best: 0..N-1 = 0
  var sent: bool = false
  action start when not sent {
    sent = true
    send Tok(if best > uid then best else uid) to Server[(index(self) + 1) % N]
  }
  on Tok(v) from p {
    require index(p) == (index(self) + N - 1) % N
    best = if v > best then v else best
  }
}
invariant ids: forall a in Server: forall b in Server: a.uid == b.uid => a == b
invariant best_is_an_id: forall s in Server: exists t in Server: s.best == t.uid or s.best == 0
"""


def test_index_and_computed_node_indexes_on_both_engines_and_in_prove():
    model, res = _both(RING)
    assert res.verdict == "holds"
    assert [model.initial.nodes[n][0] for n in range(3)] == [1, 0, 2]
    assert symmetric_roles(model.checked) == []  # index() tells Server nodes apart
    _z3_matches(RING)
    assert prove(model_of(RING)[0], k_max=2).verdict == "proved"


def test_index_of_a_node_typed_value_and_symmetry_without_index():
    text = """spec idx
role A[2] { var x: 0..3 = 0 }
role B[3] {
  var peer: node = A[1]
  var seen: 0..5 = 0
  action look when seen == 0 { seen = index(peer) + index(self) + 1 }
}
"""
    model, res = _both(text)
    assert res.verdict == "holds"
    after = {t.state.nodes[n][1] for t in model.successors(model.initial) for n in (2, 3, 4)
             if t.state.nodes[n][1]}
    assert after == {2, 3, 4}
    _z3_matches(text)
    plain = text.replace("index(peer) + index(self) + 1", "1")
    assert symmetric_roles(pipeline(plain).checked) == ["B"]  # (A[1] is named)
    assert symmetric_roles(pipeline(text).checked) == []  # index() of a `node` tells every role's nodes apart


def test_out_of_range_node_index_is_a_clean_model_error(spec_file):
    text = """spec oob
message Ping
role Server[3] {
  var sent: bool = false
  action go when not sent { sent = true; send Ping to Server[index(self) + 1] }
  on Ping { sent = true }
}
"""
    _, res = _both(text)
    assert res.verdict == "violated" and res.violation.kind == "runtime_error"
    assert res.violation.message == "Server[3] does not exist: Server has 3 node(s)"
    path = spec_file(text)
    p = run_cli("verify", str(path))
    assert p.returncode == 1 and "Traceback" not in p.stderr + p.stdout
    assert "Server[3] does not exist" in p.stdout
    pr = prove(model_of(text)[0], k_max=2)
    assert pr.verdict == "refuted" and len(pr.result.trace) == len(res.trace)


def test_index_misuse_is_diagnosed(spec_file):
    text = ("spec t\nrole S[2] {\n  var l: S? = none\n  var x: 0..3 = 0\n"
            "  action a { x = index(l) }\n}\n")
    err = _cli_error(spec_file, text, code="E201")
    assert "spec.ha:5:24: error[E201]: index() takes a node id, not S?" in err and "quantify instead" in err


CHANG_ROBERTS = ROOT / "specs" / "chang_roberts_ring.ha"


@pytest.mark.parametrize("n,states,transitions,depth", [(3, 337, 962, 11), (4, 2352, 8762, 16),
                                                        (5, 18756, 86252, 22)])
def test_chang_roberts_ring_verifies(n, states, transitions, depth):
    model, _ = model_of(path=CHANG_ROBERTS, consts={"N": n})
    res = explore(model)
    assert res.verdict == "holds"
    assert (res.stats.distinct_states, res.stats.transitions, res.stats.depth) == (states, transitions, depth)
    if n == 3:  # invariants only: the packed engine and the State search agree
        inv_model, _ = model_of(path=CHANG_ROBERTS, consts={"N": n},
                                invariants=[i.name for i in model.checked.invariants])
        fast, slow = explore(inv_model, Options()), explore(inv_model, Options(packed=False))
        _same(fast, slow)


def test_chang_roberts_cli_header_and_a_broken_twin(spec_file):
    p = run_cli("verify", str(CHANG_ROBERTS), "--const", "N=4")
    assert p.returncode == 0 and "Result: HOLDS · 2,352 distinct states" in p.stdout
    assert "symmetry:" not in p.stdout  # the ring's nodes are told apart by index()
    broken = CHANG_ROBERTS.read_text().replace("    if v > uid {", "    if v != uid {")  # forwards every id
    path = spec_file(broken, "broken.ha")
    p = run_cli("verify", str(path), "--invariant", "one_leader", "--format", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 1 and doc["violation"]["name"] == "one_leader"


# ---- 3. mutable locals ------------------------------------------------------------------------------

LOCALS = """spec locals
message Report(sum: 0..12)
role W[3] {
  var vals: set<0..3> = {1, 3}
  var out: 0..12 = 0
  var done: bool = false
  action compute when not done {
    var total: 0..12 = 0
    var odd: bool = false
    for v in vals {
      total += v
      if v % 2 == 1 {
        odd = not odd
        for w in 0..1 { if w == 1 { total -= 1 } }
      } else {
        total += 1
      }
    }
    if odd { total += 5 }
    out = total
    done = true
    broadcast Report(total)
  }
  on Report(t) {
    var best: 0..12 = out
    if t > best { best = t }
    out = best
  }
}
invariant sum: forall w in W: w.done => w.out == 2
"""


def test_locals_accumulate_in_loops_and_branches_on_both_engines():
    model, res = _both(LOCALS)
    assert res.verdict == "holds"
    # locals are not state: each node's state is its three variables
    assert all(len(vals) == 3 for vals in model.initial.nodes)
    assert symmetric_roles(model.checked) == ["W"]  # locals break neither symmetry nor packing
    sym = explore(model, Options(symmetry=True))
    assert sym.verdict == "holds" and sym.stats.distinct_states < res.stats.distinct_states
    _z3_matches(LOCALS, n_reach=30, n_random=10)


def test_locals_never_appear_in_traces(spec_file):
    path = spec_file(LOCALS.replace("w.out == 2", "w.out == 3"))
    p = run_cli("verify", str(path), "--format", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 1
    text = json.dumps(doc["trace"])
    assert '"out"' in text and '"total"' not in text and '"best"' not in text and '"odd"' not in text


def test_a_local_leaving_its_type_is_a_run_time_error():
    text = """spec ovf
role R {
  var n: 0..3 = 0
  action a when n == 0 {
    var acc: 0..2 = 0
    for i in 0..3 { acc += 1 }
    n = acc
  }
}
"""
    _, res = _both(text)
    assert res.violation.kind == "runtime_error" and res.violation.message == "'acc' would become 3, outside its type 0..2"
    pr = prove(model_of(text)[0], k_max=1)
    assert pr.verdict == "refuted"


def test_local_misuse_is_diagnosed(spec_file):
    base = "spec t\nrole R {\n  var x: 0..3 = 0\n  action a {\nBODY\n  }\n}\n"
    cases = [
        ("    let y = 1\n    y = 2", "E202", "6:5: error: cannot assign to 'y'",
         "declare it with: var y: TYPE = VALUE"),
        ("    var y: 0..3 = true", "E201", "5:19: error: initial value of local 'y' has type bool", None),
        ("    var x: 0..3 = 1", "E102", "5:9: error: 'x' is already a variable of role 'R'", None),
        ("    if true { var y: 0..3 = 1 }\n    x = y", "E101", "6:9: error: unknown name 'y'", None),
        ("    var y: int = 1", "E204", "5:12: error: unbounded 'int' is not a type here",
         "write a range such as 0..3"),
        ("    var y: 0..3 = 1\n    var y: 0..3 = 2", "E102", "6:9: error: 'y' is already defined in this scope",
         None),
    ]
    for body, code, message, hint in cases:
        err = _cli_error(spec_file, base.replace("BODY", body), code=code)
        assert message.replace("error:", f"error[{code}]:") in err, (body, err)
        assert "^" in err
        if hint:
            assert hint in err, (body, err)


def test_prove_refuses_what_it_does_not_encode_with_a_message_not_a_crash(spec_file):
    for text, what in [
        ("spec t\nrole R {\n  var x: 0..3 = 0\n  action a { var s: seq<0..3, 2> = [x]; x = len(s) }\n}\n",
         "a seq literal"),
        ("spec t\nrole R {\n  var x: 0..3 = 0\n  action a { x = len(0..x+1) % 4 }\n}\ninvariant i: R.x <= 3\n",
         "a range 'lo..hi' whose bounds are computed"),
    ]:
        path = spec_file(text)
        p = run_cli("prove", str(path))
        assert p.returncode == 3 and "unsupported" in p.stdout + p.stderr, (p.stdout, p.stderr)
        assert what in p.stdout + p.stderr and "Traceback" not in p.stderr
        with pytest.raises(Unsupported):
            prove(model_of(text)[0], k_max=1)


# ---- 6. if-then-else as an operand --------------------------------------------------------------------

def test_if_then_else_as_the_last_operand_of_an_operator():
    text = """spec ite
role S[3] {
  var primary: bool = self == if true then S[0] else S[1]
  var weight: 0..5 = 1 + if self == S[0] then 2 else if self == S[1] then 1 else 0
  var flag: bool = not if self == S[2] then true else false
  action a when weight > 0 { weight = weight - 1 + if primary then 0 else 0 }
}
invariant one_primary: count(s in S where s.primary) == 1 and S[0].weight <= 3
"""
    model, res = _both(text)
    assert res.verdict == "holds"
    assert [model.initial.nodes[n] for n in range(3)] == [(True, 3, True), (False, 2, True), (False, 1, False)]
    _z3_matches(text)
