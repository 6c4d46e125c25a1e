"""Infinite models and message-flow lint (modelcheck/smt/unbounded.py, engine/growth.py):
W107 (a step that can send without bound), W108 (`broadcast` without `to` that misses
the role handling the message), W109 (a handler `require` that leaves a message in
flight for ever), and the INCOMPLETE summary naming what keeps growing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, explore_text, run_cli

NEW_CODES = ("W107", "W108", "W109")


def lint_codes(text: str, consts: dict | None = None) -> list[tuple[str, int, str]]:
    """(code, line, message) of every lint warning, in-process."""
    from modelcheck.lang.checker import check
    from modelcheck.lang.diagnostics import Source
    from modelcheck.lang.parser import parse
    from modelcheck.smt.lint import lint

    checked = check(parse(Source("t.ha", text)), consts or {})
    return [(d.code, d.span.line, d.message) for d in lint(checked)]


def new_codes(text: str) -> list[tuple[str, int, str]]:
    return [w for w in lint_codes(text) if w[0] in NEW_CODES]


SPAM = """spec spam
message Req(n: 0..3)
message Ack
role Client {
  var n: 0..3 = 0
  action ask when n < 3 {
    send Req(n) to Server
  }
  on Ack { n = 0 }
}
role Server {
  var got: 0..3 = 0
  on Req(k) from c {
    got = k
    reply Ack
  }
}
invariant small: Server.got <= Client.n or Client.n == 0
"""


# ---- W107 --------------------------------------------------------------------------------

def test_action_whose_guard_it_never_changes_is_unbounded(spec_file):
    p = spec_file(SPAM)
    proc = run_cli("check", str(p))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert f"{p}:6:10: warning[W107]: action 'ask' of role Client can run for ever, sending 'Req' each time" in err
    assert "    6 |   action ask when n < 3 {\n      |          ^~~\n" in err
    assert "hint: its guard reads nothing the action changes, and with 'delivery unordered'" in err
    assert run_cli("check", str(p), "--strict").returncode == 2


def test_z3_shows_the_guard_stays_true_under_fifo():
    text = """spec z
network { delivery fifo }
message Ping(k: 0..2)
role A {
  var x: 0..2 = 0
  action go when x >= 1 or x == 0 {
    x = 2
    let p = any B
    if x == 2 { x = 1 } else { x = 0 }
    send Ping(x) to p
  }
}
role B[2] {
  var last: 0..2 = 0
  on Ping(k) { last = k }
}
invariant i: forall b in B: b.last <= 1
"""
    got = new_codes(text)
    assert [(c, line) for c, line, _ in got] == [("W107", 6)], got
    assert "sending 'Ping' each time" in got[0][2]


def test_handler_that_multiplies_its_own_message():
    text = """spec gossip
message G(v: 0..1)
role Node[3] {
  var seen: 0..1 = 0
  action start when seen == 0 and self == Node[0] { seen = 1; broadcast G(1) }
  on G(v) {
    seen = v
    broadcast G(v)
  }
}
invariant i: forall n in Node: n.seen <= 1
"""
    got = new_codes(text)
    assert [(c, line) for c, line, _ in got] == [("W107", 6)], got
    assert "handler 'on G' of role Node can run for ever" in got[0][2]
    assert "sends 2 messages" in got[0][2]


BOUNDED = """spec bounded
message Ping(k: 0..2)
message Orphan
role A {
  var x: 0..2 = 0
  var flag: bool = false
  var sent: bool = false
  action counted when x < 2 { x += 1; send Ping(x) to B }
  action once when not sent { sent = true; send Ping(0) to B }
  action maybe when true { if flag { send Ping(0) to B } }
  action req when true { require x < 2  send Ping(0) to B }
  action lost when true { send Orphan to B }
  action overflow when true { x += 1; send Ping(0) to B }
  action dead when x > 5 { send Ping(0) to B }
  action alone when true { broadcast Ping(0) }
  on Ping(k) from p { flag = not flag }
}
role B {
  var last: 0..2 = 0
  on Ping(k) from a { last = k  reply Ping(k) }
}
invariant i: B.last <= 2 or A.flag
"""


def test_bounded_steps_are_not_reported():
    # counted / once: the guard falls; maybe: sends only sometimes; req: may be disabled;
    # lost: nobody handles Orphan (W104, and verify drops them); overflow: a run-time
    # error ends the search; dead: never runs (W101); alone: a one-node broadcast sends
    # nothing; the Ping ping-pong between A and B keeps one message in flight
    got = lint_codes(BOUNDED)
    assert not [w for w in got if w[0] in NEW_CODES], got
    assert {c for c, _, _ in got} >= {"W104", "W101"}


def test_a_message_set_is_never_unbounded():
    text = SPAM.replace("spec spam\n", "spec spam\nnetwork { delivery set }\n")
    assert not new_codes(text)


def test_outside_the_encoded_fragment_no_claim():
    # the action appends to a seq (it may overflow: a run-time error) and reads a set
    text = """spec frag
message M(v: 0..1)
role A {
  var log: seq<0..1, 3> = []
  var seen: set<A> = {}
  action a when self not in seen { log = append(log, 1); send M(1) to B }
}
role B { var y: 0..1 = 0
  on M(v) { y = v } }
invariant i: B.y <= 1 or len(A.log) > 0
"""
    assert not [w for w in new_codes(text) if w[0] == "W107"]


# ---- W108 --------------------------------------------------------------------------------

BCAST = """spec bcast
message Req(n: 0..3)
role Client[2] {
  var sent: bool = false
  action ask when not sent {
    sent = true
    broadcast Req(1)
  }
}
role Server {
  var got: 0..3 = 0
  on Req(n) { got = n }
}
invariant i: Server.got <= 1
"""


def test_broadcast_that_misses_the_handling_role(spec_file):
    p = spec_file(BCAST)
    proc = run_cli("check", str(p))
    assert proc.returncode == 0
    assert (f"{p}:7:15: warning[W108]: 'broadcast Req' without 'to' reaches only the other nodes of role Client, which "
            "has no handler for 'Req' (Server handles it)") in proc.stderr
    assert "    7 |     broadcast Req(1)\n      |               ^~~\n" in proc.stderr
    assert "hint: write 'broadcast Req(...) to Server' to reach the nodes of Server" in proc.stderr


def test_broadcast_from_a_single_node_role():
    got = new_codes(BCAST.replace("role Client[2] {", "role Client {"))
    assert [(c, line) for c, line, _ in got] == [("W108", 7)], got
    assert "and it has no other node: Server, which handles 'Req', never gets it" in got[0][2]


def test_broadcast_to_a_role_or_within_a_handling_role_is_fine():
    assert not new_codes(BCAST.replace("broadcast Req(1)", "broadcast Req(1) to {Server}"))
    own = BCAST.replace("role Client[2] {", "role Client[2] {\n  on Req(n) { sent = true }")
    assert not new_codes(own)


# ---- W109 --------------------------------------------------------------------------------

REQ = """spec req
message Req(n: 0..3)
role Client {
  var i: 0..3 = 0
  action ask when i < 3 {
    i += 1
    send Req(i - 1) to Server
  }
}
role Server {
  var got: 0..3 = 0
  on Req(n) from c {
    let m = n + 1
    require m > 1
    got = n
  }
}
invariant i: Server.got <= Client.i
"""


def test_require_on_the_message_alone_that_a_send_makes_false(spec_file):
    p = spec_file(REQ)
    proc = run_cli("check", str(p))
    assert proc.returncode == 0
    assert (f"{p}:14:13: warning[W109]: this require can reject a 'Req' for ever: it reads only the message, so a 'Req' "
            "it rejects is never consumed by 'on Req' of role Server and stays in flight") in proc.stderr
    assert "   14 |     require m > 1\n      |             ^~~~~\n" in proc.stderr
    assert "To drop such messages, test with `if`" in proc.stderr


@pytest.mark.parametrize("change", [
    ("require m > 1", "require got < 3"),  # reads the node's state: may become true
    ("send Req(i - 1) to Server", "send Req(i) to Server"),  # i >= 1 after i += 1: every Req passes
    ("send Req(i - 1) to Server", "if i > 1 { send Req(i - 1) to Server }"),  # the path to the send
    ("spec req\n", "spec req\nnetwork { delivery set }\n"),  # nothing is consumed anyway
    ("    got = n\n  }\n", "    got = n\n  }\n  on Req(n) { got = 0 }\n"),  # another handler takes it
])
def test_require_that_cannot_strand_a_message(change):
    text = REQ.replace(*change)
    assert text != REQ
    assert not new_codes(text), new_codes(text)


# ---- no false alarms on the shipped specs ------------------------------------------------

SHIPPED = sorted(str(p.relative_to(ROOT)) for pattern in ("specs/*.ha", "bench/models/*.ha", "bench/promela/*.ha")
                 for p in ROOT.glob(pattern))


@pytest.mark.parametrize("path", SHIPPED)
def test_no_new_warning_on_shipped_specs(path):
    assert not new_codes((ROOT / path).read_text()), path


# ---- what keeps growing when a run stops ----------------------------------------------------

def test_incomplete_summary_names_the_growing_message_kind(spec_file):
    p = spec_file(SPAM)
    proc = run_cli("verify", str(p), "--max-states", "3000")
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout
    assert "Still growing at each of the last levels explored (the model may be infinite):" in out
    assert "  - messages in flight keep growing: up to " in out and " Req in one state at depth " in out
    # the lint's W107 is in the header of a run that stopped early
    header = out.split("Incomplete:")[0]
    assert f"{p}:6:10: warning[W107]: action 'ask' of role Client can run for ever" in header


def test_incomplete_summary_names_a_variable_taking_new_values(spec_file):
    p = spec_file("""spec counter
role C {
  var n: 0..1000 = 0
  var flip: bool = false
  action inc when n < 1000 { n += 1 }
  action toggle { flip = not flip }
}
invariant i: C.n >= 0 or C.flip
""")
    proc = run_cli("verify", str(p), "--max-depth", "12")
    assert proc.returncode == 3
    assert "  - C.n keeps taking new values: up to 12 at depth 12 (8 at depth 8)" in proc.stdout
    assert "warning[" not in proc.stdout  # no step sends: nothing for W107


def test_json_growth_and_warnings(spec_file):
    p = spec_file(SPAM)
    proc = run_cli("verify", str(p), "--max-depth", "10", "--format", "json")
    assert proc.returncode == 3
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "incomplete" and doc["version"] == 1
    (g,) = doc["growth"]
    assert g["kind"] == "messages" and g["name"] == "Req" and g["depth"] == 10 and g["largest"] == 10
    assert [h["depth"] for h in g["history"]] == [6, 7, 8, 9, 10]
    (w,) = doc["warnings"]
    assert w["code"] == "W107" and w["line"] == 6 and w["column"] == 10 and w["severity"] == "warning"


def test_complete_and_violated_results_have_no_stop_details(spec_file):
    code, doc = _json(spec_file(REQ))
    assert (code, doc["verdict"]) == (0, "holds")
    assert "growth" not in doc and "warnings" not in doc
    code, doc = _json(spec_file(BOUNDED))  # `overflow` leaves x's range
    assert (code, doc["verdict"]) == (1, "violated")
    assert "growth" not in doc and "warnings" not in doc


def _json(path: Path, *extra: str):
    proc = run_cli("verify", str(path), "--format", "json", *extra)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("options", [
    {},  # packed states
    {"fingerprints": True},
    {"prune": True},  # the search on the model's own states
])
def test_growth_in_every_search(options):
    from modelcheck.engine.explorer import Options, explore
    from conftest import pipeline

    model = pipeline(SPAM)
    result = explore(model, Options(max_states=2000, **options))
    assert result.verdict == "incomplete"
    assert [(g.kind, g.name) for g in result.growth] == [("messages", "Req")]
    g = result.growth[0]
    assert g.depth >= 8 and g.largest == g.history[-1][1] > g.history[0][1]


def test_finite_models_stopped_early_get_no_growth_hint():
    # a message set, and a finite unordered model, stopped well before their end
    for path, bound in (("specs/majority_election.ha", "2000"), ("bench/promela/vote_count.ha", "20000")):
        proc = run_cli("verify", path, "--max-states", bound)
        assert proc.returncode == 3, path
        assert "Still growing" not in proc.stdout and "warning[" not in proc.stdout, path


def test_explore_text_result_has_growth_field():
    _, result = explore_text(SPAM, max_depth=3)
    assert result.verdict == "incomplete" and result.growth == []  # too shallow to tell
