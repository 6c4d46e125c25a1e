"""Expression and statement semantics, checked from inside a spec with asserts.

Each case runs one action whose body asserts facts about the language; a wrong
evaluation shows up as a failed assert (a counterexample) naming the case.
"""
from __future__ import annotations

import pytest

from conftest import explore_text

SPEC = """spec lang
const K = 3
enum Color { red, green, blue }
message M(a: 0..3, b: Color)
role S[3] {
  var m: map<S, 0..5> = {}
  var log: seq<0..9, 5> = [1, 2, 3]
  var pair: (0..3, bool) = (2, true)
  var maybe: S? = none
  var c: Color = green
  var done: bool = false
  action check when self == S[0] and not done {
    done = true
    %s
  }
}
"""

CASES = {
    "arithmetic": 'assert 7 / 2 == 3 and 7 % 2 == 1 and -7 / 2 == -4 and 2 * K - 1 == 5 and -(1 - 3) == 2',
    "comparison": 'assert 1 < 2 and 2 <= 2 and 3 > 2 and 2 >= 2 and 1 != 2 and not (1 == 2)',
    "logic": 'assert (false => false) and (false => true) and not (true => false) and (true or false) and not (true and false)',
    "sets": 'assert {1, 2} | {3} == {1, 2, 3} and {1, 2} & {2, 3} == {2} and {1, 2} - {1} == {2} and len({1, 1, 2}) == 2',
    "membership": 'assert 2 in {1, 2} and 4 not in {1, 2} and 2 in log and 7 not in log',
    "quantifiers": 'assert forall x in {1, 2}: x > 0\n assert exists x in {1, 2}: x == 2\n assert not (exists x in {}: true)\n assert forall x in {}: false',
    "count and comprehension": 'assert count(x in {1, 2, 3} where x > 1) == 2 and count(s in S) == 3\n assert {x * 2 for x in {1, 2, 3} where x != 2} == {2, 6}',
    "min max": 'assert min({3, 1, 2}) == 1 and max({3, 1, 2}) == 3',
    "seq ops": 'assert len(log) == 3 and log[0] == 1 and last(log) == 3 and append(log, 4) == [1, 2, 3, 4]\n assert log[1:] == [2, 3] and log[:2] == [1, 2] and log[1:2] == [2]',
    "seq update": 'log[1] = 9\n assert log == [1, 9, 3]\n log = append(log, 0)\n assert len(log) == 4',
    "map ops": 'm[S[1]] = 4\n m[S[2]] = 1\n assert m[S[1]] == 4 and m has S[2] and not (m has S[0])\n assert keys(m) == {S[1], S[2]}\n m[S[1]] += 1\n assert m[S[1]] == 5 and len(m) == 2\n assert S[1] in m',
    "map literal": 'let lit = {S[0]: 1, S[1]: 2}\n assert lit[S[1]] == 2 and len(lit) == 2 and m == {}',
    "map iteration": 'm[S[2]] = 1\n m[S[1]] = 2\n let order = [0]\n for k in m { log = append(log, m[k]) }\n assert log == [1, 2, 3, 2, 1]',
    "tuples": 'assert pair[0] == 2 and pair[1] and (1, false) != pair\n pair = (3, false)\n assert pair == (3, false)',
    "optional": 'assert maybe == none\n maybe = S[2]\n assert maybe != none and maybe == S[2]',
    "enums": 'assert c == green and c != red\n c = blue\n assert c == blue',
    "ite": 'assert (if K > 2 then 1 else 2) == 1 and (if false then 1 else 2) == 2',
    "nodes": 'assert self == S[0] and S == {S[0], S[1], S[2]} and S[1] != S[2]',
    "control flow": 'let x = 2\n if x == 1 { assert false } elif x == 2 { log = [] } else { assert false }\n assert log == []',
    "for over set in order": 'log = []\n for x in {3, 1, 2} { log = append(log, x) }\n assert log == [1, 2, 3]',
    "compound assignment": 'm[S[0]] = 1\n m[S[0]] -= 1\n assert m[S[0]] == 0',
    "let any": 'let x = any {1, 2}\n assert x == 1 or x == 2',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_semantics(name):
    _, r = explore_text(SPEC % CASES[name])
    assert r.verdict == "holds", (name, r.violation and r.violation.message)


def test_a_false_assert_is_caught():
    _, r = explore_text(SPEC % "assert 1 + 1 == 3")
    assert r.verdict == "violated" and r.violation.kind == "assert"


def test_ghost_update_and_invariant_on_ghost():
    _, r = explore_text("""spec g
ghost var acked: set<0..3> = {}
role S { var n: 0..3 = 0
  action ack(v: 0..3) when n == 0 { n = 1; acked = acked | {v} } }
invariant few: len(acked) <= 1
invariant not_three: 3 not in acked""")
    assert r.verdict == "violated" and r.violation.name == "not_three" and len(r.trace) == 1


def test_generated_code_has_no_builtins_and_survives_odd_names():
    model, r = explore_text("""spec __import__
const __class__ = 1
role __builtins__[2] {
  var open: 0..1 = 0
  action exec when open < __class__ { let eval = open + 1; open = eval }
}
invariant __globals__: forall compile in __builtins__: compile.open <= 1
""")
    assert r.verdict == "holds" and r.stats.distinct_states == 4
    fn = model.invariants[0].holds
    gen_fn = model.compiler.expr(model.invariant_decls[0].expr)
    assert gen_fn.__globals__["__builtins__"] == {}
    assert fn(model.initial)
