"""Name resolution and type checking: every error class, with its exact position."""
from __future__ import annotations

import pytest

from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.lang.parser import parse

BASE = """spec t
const N = 3
enum Phase { idle, busy }
message Vote(term: 0..3)
role Server[N] {
  var leader: bool = false
  persistent var term: 0..3 = 0
  var votes: set<Server> = {}
  var phase: Phase = idle
%s
}
role Client {
  var waiting: bool = false
}
ghost var elected: set<Server> = {}
%s
"""


def errors(body: str = "", tail: str = "", consts=None):
    text = BASE % (body, tail)
    with pytest.raises(SpecError) as info:
        check(parse(Source("t.ha", text)), consts or {})
    return [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in info.value.diagnostics]


def one(body: str = "", tail: str = "", consts=None):
    found = errors(body, tail, consts)
    assert len(found) == 1, found
    return found[0]


def test_base_spec_is_clean():
    check(parse(Source("t.ha", BASE % ("", ""))))


def test_unknown_variable_with_suggestion():
    code, line, col, msg, _ = one("  action a when not leadr { leader = true }")
    assert (code, line, col) == ("E101", 10, 21)
    assert "unknown name 'leadr' (did you mean 'leader'?)" == msg


def test_unknown_message_kind():
    code, line, col, msg, _ = one("  action a { send Vot(1) to self }")
    assert (code, line, col) == ("E101", 10, 19) and "did you mean 'Vote'" in msg


def test_unknown_handler_message():
    code, line, col, msg, _ = one("  on Voot(t) { }")
    assert (code, line, col) == ("E101", 10, 6) and "Voot" in msg


def test_unknown_type():
    code, line, col, msg, _ = one("  var x: Phse = idle")
    assert (code, line, col) == ("E101", 10, 10) and "did you mean 'Phase'" in msg


def test_unknown_role_field_in_invariant():
    code, line, col, msg, _ = one(tail="invariant i: forall s in Server: s.leadr")
    assert (code, line, col) == ("E101", 16, 36) and "did you mean 'leader'" in msg


def test_type_mismatch_in_assignment():
    code, line, col, msg, _ = one("  action a { term = leader }")
    assert (code, line, col) == ("E201", 10, 21)
    assert "bool" in msg and "0..3" in msg


def test_type_mismatch_in_guard():
    code, line, col, msg, _ = one("  action a when term { }")
    assert (code, line, col) == ("E201", 10, 17) and "must be bool" in msg


def test_compare_mismatch():
    code, line, col, msg, _ = one(tail="invariant i: forall s in Server: s.phase == 1")
    assert code == "E201" and (line, col) == (16, 34) and "cannot compare" in msg


def test_message_arity_on_send():
    code, line, col, msg, hint = one("  action a { send Vote(1, 2) to self }")
    assert (code, line, col) == ("E203", 10, 19)
    assert "takes 1 argument(s), but 2 were given" in msg and "term: 0..3" in hint


def test_message_arity_on_handler():
    code, line, col, msg, _ = one("  on Vote(a, b) { }")
    assert (code, line, col) == ("E203", 10, 6)


def test_duplicate_declarations():
    found = errors("  var leader: bool = true", "const N = 4\nmessage Vote(x: bool)")
    codes = sorted((c, line) for c, line, *_ in found)
    assert codes == [("E102", 10), ("E102", 16), ("E102", 17)]


def test_non_constant_bound():
    code, line, col, msg, _ = one("  var x: 0..term = 0")
    assert (code, line, col) == ("E205", 10, 13) and "constant" in msg


def test_non_constant_role_count():
    found = errors(tail="role Other[elected] { }")
    assert found[0][:3] == ("E205", 16, 12)


def test_reading_another_nodes_variable():
    code, line, col, msg, hint = one("  action a { let t = Server[0].term }")
    assert (code, line, col) == ("E301", 10, 22)
    assert "through messages" in hint


def test_reading_a_variable_of_another_role_unqualified():
    code, line, col, msg, hint = one("  action a when waiting { }")
    assert (code, line, col) == ("E101", 10, 17)
    assert "Client" in hint


def test_reading_ghost_in_node_code():
    code, line, col, *_ = one("  action a when self in elected { }")
    assert (code, line, col) == ("E302", 10, 25)


def test_ghost_update_is_allowed():
    check(parse(Source("t.ha", BASE % ("  action a { elected = elected | {self} }", ""))))


def test_reply_outside_handler():
    code, line, col, *_ = one("  action a { reply Vote(1) }")
    assert (code, line, col) == ("E207", 10, 14)


def test_crashed_only_in_invariants():
    code, line, col, *_ = one("  action a when crashed(self) { }")
    assert (code, line, col) == ("E208", 10, 17)


def test_temporal_operator_in_invariant():
    code, line, col, *_ = one(tail="invariant i: eventually true")
    assert (code, line, col) == ("E209", 16, 14)


def test_duplicate_needs_a_bound():
    code, line, col, *_ = one(tail="faults { duplicate }")
    assert (code, line, col) == ("E210", 16, 10)


def test_assign_to_const_or_local():
    code, line, col, msg, _ = one("  action a { N = 2 }")
    assert (code, line, col) == ("E202", 10, 14) and "const" in msg


def test_const_override_unknown():
    with pytest.raises(SpecError) as info:
        check(parse(Source("t.ha", BASE % ("", ""))), {"M": 2})
    d = info.value.diagnostics[0]
    assert d.code == "E103" and "declared consts: N" in d.hint


def test_const_override_applies():
    c = check(parse(Source("t.ha", BASE % ("", ""))), {"N": 5})
    assert c.consts["N"] == 5 and len(c.node_names) == 6


def test_all_errors_are_collected_in_source_order():
    found = errors("  action a { term = leader; send Nope() to self }", "invariant i: x > 1")
    assert [(c, line) for c, line, *_ in found] == [("E201", 10), ("E101", 10), ("E101", 16)]


def test_properties_are_type_checked():
    code, line, col, *_ = one(tail="property p: eventually forall s in Server: s.term")
    assert (code, line, col) == ("E201", 16, 44)


def test_node_names():
    c = check(parse(Source("t.ha", BASE % ("", ""))))
    assert c.node_names == ["Server[0]", "Server[1]", "Server[2]", "Client"]
