"""The transition system: step semantics, faults, delivery modes, run-time errors."""
from __future__ import annotations

import pytest

from conftest import explore_text, pipeline

ROLE = """spec t
message M(v: 0..3)
role Server[2] {
  persistent var p: 0..3 = 0
  var v: 0..3 = 0
  action bump when v < 3 { v += 1; p = v }
  on M(x) { v = x }
}
"""


def kinds(model, state):
    return [(tr.step.kind, tr.step.node, tr.step.name) for tr in model.successors(state)]


def test_successor_order_nodes_then_faults():
    m = pipeline(ROLE + "faults { crash at most 1 }")
    assert kinds(m, m.initial) == [("action", 0, "bump"), ("action", 1, "bump"),
                                   ("crash", 0, None), ("crash", 1, None)]


def test_crash_resets_volatile_keeps_persistent_and_restart_runs_handler():
    m = pipeline(ROLE.replace("  on M(x) { v = x }", "  on M(x) { v = x }\n  on restart { v = 2 }")
                 + "faults { crash at most 1; restart }")
    s1 = next(tr.state for tr in m.successors(m.initial) if tr.step.name == "bump" and tr.step.node == 0)
    assert s1.nodes[0] == (1, 1)
    crashed = next(tr.state for tr in m.successors(s1) if tr.step.kind == "crash" and tr.step.node == 0)
    assert crashed.up == (False, True) and crashed.nodes[0] == (1, 0)
    assert crashed.budgets == (0,)
    # a crashed node takes no steps; no further crash (budget spent); it may restart
    assert kinds(m, crashed) == [("action", 1, "bump"), ("restart", 0, None)]
    restarted = next(tr.state for tr in m.successors(crashed) if tr.step.kind == "restart")
    assert restarted.up == (True, True) and restarted.nodes[0] == (1, 2)


def test_crash_role_scope():
    m = pipeline("""spec t
role A[2] { var x: bool = false }
role B { var y: bool = false }
faults { crash B }""")
    assert kinds(m, m.initial) == [("crash", 2, None)]


def test_messages_to_crashed_node_stay_in_flight():
    _, r = explore_text("""spec t
message Ping()
role Server[2] {
  var sent: bool = false
  var got: bool = false
  action go when self == Server[0] and not sent { sent = true; send Ping() to Server[1] }
  on Ping() { got = true }
}
faults { crash Server at most 1; restart at most 1 }
invariant never: not Server[1].got
""")
    assert r.verdict == "violated" and len(r.trace) == 2


def test_partition_sides_and_cut_delays_delivery():
    m = pipeline("""spec t
message Ping()
role S[3] { action go when self == S[0] { send Ping() to S[1] }  on Ping() { } }
faults { partition at most 1; heal }""")
    parts = [tr for tr in m.successors(m.initial) if tr.step.kind == "partition"]
    assert [tr.step.detail for tr in parts] == [((0,), (1, 2)), ((1,), (0, 2)), ((0, 1), (2,))]
    sent = next(tr.state for tr in m.successors(m.initial) if tr.step.kind == "action")
    cut = next(tr.state for tr in m.successors(sent) if tr.step.detail == ((0,), (1, 2)))
    assert (0, 1) in cut.cut and (1, 0) in cut.cut and (1, 2) not in cut.cut
    assert not any(tr.step.kind == "deliver" for tr in m.successors(cut))
    healed = next(tr.state for tr in m.successors(cut) if tr.step.kind == "heal")
    assert healed.cut == frozenset()
    assert any(tr.step.kind == "deliver" for tr in m.successors(healed))


def test_one_way_cuts_one_direction():
    m = pipeline("""spec t
role S[2] { var x: bool = false }
faults { one_way at most 1 }""")
    steps = [tr for tr in m.successors(m.initial)]
    assert [tr.step.detail for tr in steps] == [(0, 1), (1, 0)]
    assert steps[0].state.cut == frozenset({(0, 1)})


def test_unordered_delivery_consumes_one_copy():
    m = pipeline("""spec t
message Ping()
role S[2] {
  var n: 0..3 = 0
  action go when self == S[0] and n == 0 { n = 1; send Ping() to S[1]; send Ping() to S[1] }
  on Ping() { n += 1 }
}""")
    s = next(tr.state for tr in m.successors(m.initial))
    assert len(s.net) == 2
    deliveries = [tr for tr in m.successors(s) if tr.step.kind == "deliver"]
    assert len(deliveries) == 1 and len(deliveries[0].state.net) == 1


def test_set_delivery_does_not_consume():
    m = pipeline("""spec t
message Ping()
network { delivery set }
role S[2] {
  var n: 0..3 = 0
  action go when self == S[0] and n == 0 { n = 1; send Ping() to S[1] }
  on Ping() { if n < 3 { n += 1 } }
}""")
    s = next(tr.state for tr in m.successors(m.initial))
    d = next(tr for tr in m.successors(s) if tr.step.kind == "deliver")
    assert d.state.net == s.net


def test_fifo_only_head_delivers():
    m = pipeline("""spec t
message M(v: 0..3)
network { delivery fifo }
role S[2] {
  var got: seq<0..3, 3> = []
  action go when self == S[0] and len(got) == 0 { got = [0]; send M(1) to S[1]; send M(2) to S[1] }
  on M(v) { got = append(got, v) }
}""")
    s = next(tr.state for tr in m.successors(m.initial))
    d = [tr for tr in m.successors(s) if tr.step.kind == "deliver"]
    assert len(d) == 1 and d[0].step.message[3] == (1,)


def test_any_gives_one_step_per_choice_in_order():
    m = pipeline("""spec t
role S[3] {
  var pick: S? = none
  action choose when self == S[0] and pick == none { let x = any S - {self}; pick = x }
}""")
    steps = m.successors(m.initial)
    assert [tr.state.nodes[0][0] for tr in steps] == [1, 2]
    assert steps[0].step.chosen[0][:2] == ("x", 1)


def test_require_disables_step():
    m = pipeline("""spec t
role S { var x: 0..2 = 0
  action a { require x > 0; x = 2 } }""")
    assert m.successors(m.initial) == []


def test_action_parameters_enumerate_their_type():
    m = pipeline("""spec t
enum Color { red, green }
role S { var c: Color? = none
  action set_color(k: Color) when c == none { c = k } }""")
    assert [tr.step.params[0][1] for tr in m.successors(m.initial)] == [0, 1]


def test_broadcast_goes_to_other_nodes_of_the_role():
    m = pipeline("""spec t
message Hi()
role S[3] { var done: bool = false
  action a when not done and self == S[1] { done = true; broadcast Hi() }
  on Hi() { } }""")
    tr = m.successors(m.initial)[0]
    assert [(src, dst) for src, dst, _, _ in tr.step.sent] == [(1, 0), (1, 2)]


RUNTIME = """spec t
role S {
  var x: 0..3 = 0
  var m: map<0..3, bool> = {}
  var log: seq<0..3, 1> = []
  action go { %s }
}
"""


@pytest.mark.parametrize("body, kind, words", [
    ("x = x + 4", "runtime_error", "'x' would become 4, outside its type 0..3"),
    ("x = 1 / x", "runtime_error", "division by zero"),
    ("x = 1 % x", "runtime_error", "division by zero"),
    ("let b = m[2]", "runtime_error", "missing map key"),
    ("x = last(log)", "runtime_error", "last() of an empty seq"),
    ("log = [1, 2]", "runtime_error", "'log' would hold 2 elements, more than its maximum 1"),
    ("assert x > 0, \"x must be positive\"", "assert", "x must be positive"),
    ("assert x > 0", "assert", "assertion failed: x > 0"),
    ("x = min({x} - {x})", "runtime_error", "min() of an empty set"),
])
def test_runtime_errors_become_counterexamples(body, kind, words):
    _, r = explore_text(RUNTIME % body)
    assert r.verdict == "violated"
    assert r.violation.kind == kind and words in r.violation.message
    assert len(r.trace) == 1 and r.trace[0][1] is None
    assert r.violation.span.line == 6


ENTRIES = """spec t
role S {
  var x: 0..3 = 3
  var m: map<0..3, 0..2> = {0: 2}
  var n: map<0..1, map<0..1, set<0..1>>> = {0: {0: {}}}
  var log: seq<0..3, 2> = [3]
  action go { %s }
}
"""


@pytest.mark.parametrize("body, words", [
    ("m[0] += 1", "'m' would become {0: 3}, outside its type map<0..3, 0..2>"),
    ("m[1] = x", "'m' would become {0: 2, 1: 3}"),
    ("m[x - 1] = 0", None),  # key 2 fits 0..3
    ("n[0][0] |= {x - 2}", None),
    ("n[0][0] |= {x - 1}", "'n' would become {0: {0: {2}}}"),
    ("log[0] = x - 1", None),
    ("log[0] += 1", "'log' would become [4]"),
])
def test_an_assigned_entry_is_range_checked(body, words):
    """`v[k] = e` checks the entry it changes (and the map keys on its path)."""
    _, r = explore_text(ENTRIES % body)
    if words is None:
        assert r.verdict == "holds"
    else:
        assert r.verdict == "violated" and r.violation.kind == "runtime_error"
        assert words in r.violation.message, r.violation.message


def test_a_map_key_out_of_range_is_caught_on_assignment():
    _, r = explore_text(ENTRIES.replace("map<0..3, 0..2>", "map<0..2, 0..2>") % "m[x] = 0")
    assert r.verdict == "violated" and "'m' would become" in r.violation.message


def test_message_field_out_of_range_is_a_runtime_error():
    _, r = explore_text("""spec t
message M(v: 0..1)
role S { var x: 0..3 = 3
  action go { send M(x) to self } }""")
    assert r.violation.kind == "runtime_error" and "field 'v' of M would be 3" in r.violation.message


def test_node_index_out_of_range():
    _, r = explore_text("""spec t
message M()
role S[2] { var i: 0..3 = 3
  action go { send M() to S[i] } }""")
    assert "S[3] does not exist" in r.violation.message


def test_initial_value_out_of_range_is_a_spec_error():
    from modelcheck.lang.diagnostics import SpecError
    with pytest.raises(SpecError) as info:
        pipeline("spec t\nrole S { var x: 1..3 = 0 }")
    d = info.value.diagnostics[0]
    assert d.code == "E211" and (d.span.line, d.span.column) == (2, 24)


def test_invariant_can_read_crashed():
    _, r = explore_text("""spec t
role S[2] { var x: bool = false }
faults { crash at most 1 }
invariant all_up: forall s in S: not crashed(s)""")
    assert r.verdict == "violated" and r.trace[0][0].kind == "crash"


def test_no_faults_option_removes_faults():
    m = pipeline(ROLE + "faults { crash at most 1 }", faults=False)
    assert m.faults == [] and all(k[0] == "action" for k in kinds(m, m.initial))


def test_missing_map_key_is_named_in_the_users_terms():
    _, r = explore_text("""spec mapkey
role S[2] {
  var m: map<S, 0..1> = {}
  action go when self == S[0] { let x = m[S[1]] }
}""")
    assert r.violation.message == "missing map key S[1]"


def test_iteration_order_memo_never_mixes_bools_and_ints():
    """`{true} == {1}` in Python: sets of bools are never answered from the memo that
    sets of ints use (values.ordered_no_bools), so a choice keeps its type."""
    from modelcheck.lang.types import BoolT, IntT, MapT, OptT, SetT, TupleT, holds_no_bools

    assert holds_no_bools(SetT(TupleT((IntT(0, 3), OptT(IntT(0, 1))))))
    assert not holds_no_bools(SetT(BoolT())) and not holds_no_bools(MapT(IntT(0, 1), BoolT()))
    m = pipeline("""spec t
role S {
  var i: 0..1 = 0
  var b: bool = false
  action pick_int { let x = any {1} ; i = x }
  action pick_bool { let y = any {true} ; b = y }
}""")
    steps = {tr.step.name: tr for tr in m.successors(m.initial)}
    assert type(steps["pick_int"].step.chosen[0][1]) is int
    assert steps["pick_bool"].step.chosen[0][1] is True
    assert type(steps["pick_int"].state.nodes[0][0]) is int and steps["pick_bool"].state.nodes[0][1] is True
