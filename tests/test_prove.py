"""`modelcheck prove` (k-induction with z3) and its symbolic encoding (symbolic.py).

Soundness is the point, so most tests compare the z3 encoding with the explicit model:

1. the encoding *is* the semantics: the initial state, the states reachable in one and
   two steps (enumerated from z3 with blocking clauses), and the successors of every
   reachable state and of random states within the declared types (unreachable ones:
   the induction step ranges over them) equal the explicit model's, run-time errors
   included; invariant values and invariant evaluation errors agree too;
2. BMC with k = the length of verify's shortest counterexample refutes, with k - 1 it
   does not;
3. proved implies verify holds (and refuted implies verify violated), for every spec in
   specs/ that prove supports and for hand-written specs, including mutants;
4. a refuted trace replays with modelcheck/engine/replay.py and `modelcheck replay`.
"""
from __future__ import annotations

import json
import random

import pytest
import z3
from conftest import ROOT, run_cli

from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.engine.explorer import explore
from modelcheck.engine.model import State, build
from modelcheck.lang.parser import load, parse
from modelcheck.smt.prove import prove
from modelcheck.engine.replay import replay
from modelcheck.report.text import render_json
from modelcheck.smt.symbolic import Symbolic, Unsupported
from modelcheck.lang.types import SetT
from modelcheck.lang.values import SpecRuntimeError

MODELS = ROOT / "tests" / "models"
SPECS = ROOT / "specs"

# Every construct the encoding handles, in one small model: enums, optionals, tuples,
# sets (|=, -=, comprehension, literal, max, len, in), let-any, if/elif/else, for,
# require, assert, reply, broadcast to a set, on restart, persistent vs volatile,
# unordered delivery with loss and duplicate, crash/restart/one_way/heal, count,
# exists, crashed(), arithmetic with / and %, role indexing.
KITCHEN = """spec kitchen
const N = 2
enum Mode { idle, busy, done }
message Req(v: 0..2, who: Worker?)
message Ack(ok: bool, pair: (Worker, 0..1))
ghost var log: set<(Worker, 0..2)> = {}
role Worker[N] {
  persistent var seen: set<0..2> = {}
  var mode: Mode = idle
  var peer: Worker? = none
  var cnt: 0..2 = 0
  action start(v: 0..2) when mode == idle and cnt < 2 {
    let p = any Worker - {self}
    peer = p
    mode = busy
    cnt += 1
    send Req(v, self) to p
  }
  on Req(v, w) from s when v not in seen {
    seen |= {v}
    log |= {(self, v)}
    if w == none { require v == 0 } elif v == 2 { reply Ack(true, (self, 1)) } else { reply Ack(false, (self, v % 2)) }
  }
  on Ack(ok, pr) from s when mode == busy {
    mode = if ok then done else idle
    for x in seen { if x > 1 { cnt = max({cnt, 1}) } }
    assert pr[1] <= 1, "pair"
  }
  action reset when mode == done { mode = idle; seen -= {0}; peer = none }
  on restart { mode = idle; broadcast Req(0, none) to {w for w in Worker where w != self} }
}
faults { crash Worker at most 1; restart at most 1; loss at most 1; duplicate at most 1; one_way at most 1; heal }
invariant bounded: forall w in Worker: w.cnt <= 2 and len(w.seen) <= 3
invariant logged: forall x in log: x[1] in x[0].seen
invariant quiet: count(w in Worker where w.mode == done) <= 2 and (exists w in Worker: not crashed(w) or w.cnt >= 0)
invariant arith: forall w in Worker: (w.cnt * 3 + 1) / 2 - (w.cnt % 2) >= 0 and Worker[w.cnt / 2].cnt >= 0
"""

# `n.var` on a `node` whose role has no such variable raises (in an invariant).
MULTI = """spec multi
message Hello(n: node)
ghost var met: set<node> = {}
role A[2] {
  var x: 0..3 = 1
  var friend: node? = none
  action hi(t: B) when x < 3 { x += 1; send Hello(self) to t }
  on Hello(n) from s { friend = n; met |= {s} }
}
role B {
  var y: bool = false
  on Hello(n) from s { y = not y; met |= {n}; send Hello(self) to n }
}
faults { crash at most 1 }
invariant met_has_x: forall n in met: n.x >= 1
invariant sane: B.y or not B.y
"""

# A step that leaves its range: a run-time error ends the trace.
OVERFLOW = """spec overflow
role C {
  var n: 0..2 = 0
  var m: 0..9 = 0
  action inc { n += 1 }
  action dbl when n > 0 { m = m + 10 / n }
}
invariant small: C.m <= 9
"""

# An assert that fails in a step that changes nothing: the error frame's components
# equal the state before it, so the simple-path constraint must exempt error frames
# (else the induction step would miss the failing assert and "prove" the spec).
LATE_ASSERT = """spec late_assert
role C {
  var n: 0..3 = 0
  action inc when n < 3 { n += 1 }
  action check_it { assert n < 3, "too far" }
}
invariant fine: C.n <= 3
"""

# The docs' example: not inductive alone (issued = 3, next = 0 steps to issued = 4),
# inductive with the helper `in_step`.
TICKET = """spec ticket
role Counter {
  var issued: 0..5 = 0
  var next: 0..5 = 0
  action issue when next < 3 { issued += 1; next += 1 }
}
invariant bounded: Counter.issued <= 3
"""
TICKET_HELPER = TICKET + "invariant in_step: Counter.issued == Counter.next\n"

# Unordered delivery (exact counters), loss and duplicate; needs the inferred message
# invariant "every Req(n) in flight has a.sent >= n".
PIPELINE = """spec pipeline
message Req(n: 1..3)
role C {
  var sent: 0..3 = 0
  action send_next when sent < 3 { sent += 1; send Req(sent) to S }
}
role S {
  var last: 0..3 = 0
  on Req(n) when n > last { last = n }
}
faults { loss at most 1; duplicate at most 1 }
invariant behind: S.last <= C.sent
"""

# Crash and restart with a persistent flag; needs the inferred message invariant
# "every Ping in flight has a.sent".
ONCE = """spec once
message Ping
role A {
  persistent var sent: bool = false
  action go when not sent { sent = true; send Ping to B }
  on restart { }
}
role B {
  var got: 0..2 = 0
  on Ping when got < 2 { got += 1 }
}
faults { crash A at most 1; restart A; partition at most 1; heal }
network { delivery unordered }
invariant got_means_sent: B.got >= 1 => A.sent
"""

ENCODED = {"kitchen": KITCHEN, "multi": MULTI, "overflow": OVERFLOW, "late_assert": LATE_ASSERT, "ticket": TICKET, "pipeline": PIPELINE,
           "once": ONCE}
SUPPORTED_MODELS = ["action_params", "counter", "crash_restart", "let_any", "loss_duplicate", "network_faults",
                    "partition_heal", "restart_persistent", "restart_volatile", "set_delivery", "two_nodes",
                    "unordered", "unordered_order", "faults/crash", "faults/duplicate", "faults/heal",
                    "faults/one_way", "faults/partition", "faults/restart"]


def model_of(text: str | None = None, path=None, consts=None, invariants=None, faults=True):
    source = load(str(path)) if path is not None else Source("t.ha", text)
    checked = check(parse(source), consts or {})
    return build(checked, source, use_faults=faults, invariant_names=invariants), source


def cases():
    out = [(name, text, None) for name, text in ENCODED.items()]
    out += [(m, None, MODELS / f"{m}.ha") for m in SUPPORTED_MODELS]
    out += [("naive_failover", None, SPECS / "naive_failover.ha")]
    return out


CASES = cases()
IDS = [c[0] for c in CASES]


# ---- helpers: enumerate z3 states, compare with the explicit model ---------------------------

def _enumerate(solver, enc, frame, limit=5000):
    found = set()
    while solver.check() == z3.sat:
        st, _ = enc.decode_frame(frame, solver.model())
        assert st not in found
        found.add(st)
        solver.add(z3.Not(enc.equal(frame, enc.const_frame(st), with_err=False)))
        assert len(found) < limit
    return found


def z3_successors(enc, state: State):
    pre, post = enc.const_frame(state), enc.frame("q")
    s = z3.Solver()
    s.add(enc.transition(pre, post))
    s.push()
    s.add(post.err)
    raises = s.check() == z3.sat
    s.pop()
    s.add(z3.Not(post.err))
    return _enumerate(s, enc, post), raises


def explicit_successors(model, state: State):
    trs = model.successors(state)
    return {t.state for t in trs if t.state is not None}, any(t.error is not None for t in trs)


def reachable(model, cap: int) -> list[State]:
    seen, index, i = [model.initial], {model.initial}, 0
    while i < len(seen) and len(seen) < cap:
        for t in model.successors(seen[i]):
            if t.state is not None and t.state not in index:
                index.add(t.state)
                seen.append(t.state)
        i += 1
    return seen[:cap]


def random_state(enc, rnd: random.Random) -> State:
    """A state within the declared types (a down node's volatile variables at their
    initial values, as in every reachable state), usually unreachable."""
    m, c = enc.model, enc.model.checked

    def val(t):
        if isinstance(t, SetT):
            return frozenset(x for x in enc.universe(t.elem) if rnd.random() < 0.4)
        return rnd.choice(enc.universe(t))
    nodes, up = [], []
    for n, role in enumerate(c.node_roles):
        vals = [val(v.type) for v in role.vars]
        alive = True
        if enc.can_crash[n] and rnd.random() < 0.3:
            alive = False
            vals = [vals[v.index] if v.persistent else m.initial.nodes[n][v.index] for v in role.vars]
        nodes.append(tuple(vals))
        up.append(alive)
    cut = frozenset(link for link in enc.links if enc.has_cut and rnd.random() < 0.2)
    msgs = []
    for msg in enc.messages:
        if rnd.random() < 0.15:
            msgs += [msg] * (1 if enc.mode == "set" else rnd.choice([1, 1, 2]))
    ghosts = tuple(val(g.type) for g in c.ghosts)
    budgets = tuple(rnd.randint(0, f.budget) for f in m.faults if f.budget is not None)
    return State(tuple(nodes), tuple(up), m.network.send(m.network.empty, msgs), cut, ghosts, budgets, ())


def assert_invariants_agree(enc, model, state: State):
    frame = enc.const_frame(state)
    for inv in model.invariants:
        v, e = enc.invariant(inv.decl, frame)
        v, e = z3.simplify(v), z3.simplify(e)
        try:
            want, raises = inv.holds(state), False
        except SpecRuntimeError:
            want, raises = None, True
        assert z3.is_true(e) == raises, (inv.name, state)
        if not raises:
            assert z3.is_true(v) == bool(want), (inv.name, state)


# ---- 1. the encoding is the semantics --------------------------------------------------------

@pytest.mark.parametrize("name,text,path", CASES, ids=IDS)
def test_initial_one_and_two_step_states_match(name, text, path):
    model, _ = model_of(text, path)
    enc = Symbolic(model)
    # initial states
    f0 = enc.frame("i0")
    s = z3.Solver()
    s.add(*f0.domain, enc.is_init(f0))
    assert _enumerate(s, enc, f0) == {model.initial}
    # states reachable in exactly one and two steps
    f1, f2 = enc.frame("i1"), enc.frame("i2")
    s = z3.Solver()
    s.add(*f0.domain, enc.is_init(f0), *enc.transition(f0, f1))
    s.push()
    s.add(f1.err)
    assert (s.check() == z3.sat) == explicit_successors(model, model.initial)[1]
    s.pop()
    s.add(z3.Not(f1.err))
    s.push()
    one = _enumerate(s, enc, f1)
    s.pop()
    assert one == explicit_successors(model, model.initial)[0]
    s.add(*enc.transition(f1, f2), z3.Not(f2.err))
    two = _enumerate(s, enc, f2)
    assert two == {t for st in one for t in explicit_successors(model, st)[0]}


def assert_within_domain(enc, state: State):
    """The induction step assumes the frame's domain constraints (declared types, and
    the structural facts: a down node's volatile variables are initial, #down <= crash
    budget spent): they must hold in every reachable state."""
    f = enc.frame("d")
    s = z3.Solver()
    s.add(*f.domain, enc.equal(f, enc.const_frame(state)))
    assert s.check() == z3.sat, state


@pytest.mark.parametrize("name,text,path", CASES, ids=IDS)
def test_successors_and_invariants_match_on_reachable_and_random_states(name, text, path):
    model, _ = model_of(text, path)
    enc = Symbolic(model)
    rnd = random.Random(7)
    small = name not in ("kitchen", "naive_failover", "action_params")
    reach = reachable(model, 60 if small else 25)
    for st in reachable(model, 400 if small else 150):
        assert_within_domain(enc, st)
    states = reach + [random_state(enc, rnd) for _ in range(25 if small else 12)]
    for st in states:
        assert z3_successors(enc, st) == explicit_successors(model, st), st
        assert_invariants_agree(enc, model, st)


def test_every_supported_spec_matches_on_a_sample_of_states():
    """Successors on the first reachable states and a few random ones of every spec in
    specs/ that prove encodes (the others must be refused, never mis-encoded)."""
    supported = []
    for path in sorted(SPECS.glob("*.ha")):
        model, _ = model_of(path=path)
        try:
            enc = Symbolic(model)
        except Unsupported as err:
            assert err.span.line > 0 and err.what
            continue
        supported.append(path.name)
        rnd = random.Random(3)
        for st in reachable(model, 30):
            assert_within_domain(enc, st)
        for st in reachable(model, 4) + [random_state(enc, rnd) for _ in range(2)]:
            assert z3_successors(enc, st) == explicit_successors(model, st), (path.name, st)
            assert_invariants_agree(enc, model, st)
    assert {"majority_election.ha", "majority_election_proof.ha", "naive_failover.ha"} <= set(supported)


# ---- 2. BMC depth = verify's shortest counterexample --------------------------------------------

BMC_CASES = [("naive_failover", None, SPECS / "naive_failover.ha"),
             ("restart_volatile", None, MODELS / "restart_volatile.ha"),
             ("unordered_order", None, MODELS / "unordered_order.ha"),
             ("faults/crash", None, MODELS / "faults" / "crash.ha"),
             ("faults/duplicate", None, MODELS / "faults" / "duplicate.ha"),
             ("kitchen", KITCHEN, None), ("multi", MULTI, None), ("overflow", OVERFLOW, None),
             ("late_assert", LATE_ASSERT, None),
             ("stonith_unconfirmed_broken", None, SPECS / "stonith_unconfirmed_broken.ha")]


_REFUTED: dict = {}


def refutation(name, text, path):
    """(verify's result, prove's result with k = verify's trace length), computed once."""
    if name not in _REFUTED:
        model, source = model_of(text, path)
        verified = explore(model)
        _REFUTED[name] = (verified, model, source, prove(model, k_max=max(len(verified.trace), 1), infer=False))
    return _REFUTED[name]


@pytest.mark.parametrize("name,text,path", BMC_CASES, ids=[c[0] for c in BMC_CASES])
def test_bmc_finds_the_shortest_counterexample_and_no_shorter(name, text, path):
    verified, model, source, pr = refutation(name, text, path)
    assert verified.verdict == "violated"
    n = len(verified.trace)
    assert pr.verdict == "refuted"
    assert len(pr.result.trace) == n and pr.k == n
    assert pr.result.violation.kind == verified.violation.kind
    if n > 1 and name != "kitchen":  # kitchen: 40 s for k = n - 1; the other cases cover it
        shorter = prove(model, k_max=n - 1)
        assert shorter.verdict == "unknown", shorter.verdict  # never "proved": the property is false


# `multi` is left out: its violation is a run-time error while evaluating an invariant,
# which `replay` does not re-check (verify's own trace of it does not replay either).
REPLAY_CASES = [c for c in BMC_CASES if c[0] != "multi"]


@pytest.mark.parametrize("name,text,path", REPLAY_CASES, ids=[c[0] for c in REPLAY_CASES])
def test_refuted_trace_replays(name, text, path):
    _, model, source, pr = refutation(name, text, path)
    doc = json.loads(json.dumps(render_json(pr.result, model, source, {"consts": model.checked.consts})))
    fresh, _ = model_of(text, path)
    outcome = replay(fresh, doc)
    assert outcome.reproduces, outcome.lines


# ---- 3. proved => verify holds (and refuted => violated) -----------------------------------------

def _verify_invariants(model_text=None, path=None, consts=None):
    model, _ = model_of(model_text, path, consts)
    names = [i.name for i in model.checked.invariants]
    inv_model, _ = model_of(model_text, path, consts, invariants=names or None)
    return explore(inv_model).verdict


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.ha")), ids=lambda p: p.name)
def test_prove_agrees_with_verify_on_every_supported_spec(path):
    consts = {"LOSS": 0} if path.name.startswith("majority_election") else None
    model, _ = model_of(path=path, consts=consts)
    try:
        pr = prove(model, k_max=2, timeout=10)
    except Unsupported:
        pytest.skip("outside the encoded fragment")
    if pr.verdict == "proved":
        assert _verify_invariants(path=path, consts=consts) == "holds"
    elif pr.verdict == "refuted":
        assert _verify_invariants(path=path, consts=consts) == "violated"


HANDWRITTEN = [("ticket_helper", TICKET_HELPER, "proved"), ("pipeline", PIPELINE, "proved"),
               ("once", ONCE, "proved"), ("ticket", TICKET, "unknown"), ("kitchen", KITCHEN, None),
               ("multi", MULTI, None)]


@pytest.mark.parametrize("name,text,expected", HANDWRITTEN, ids=[h[0] for h in HANDWRITTEN])
def test_prove_agrees_with_verify_on_handwritten_specs(name, text, expected):
    model, _ = model_of(text)
    pr = prove(model, k_max=3)
    if expected is not None:
        assert pr.verdict == expected
    verdict = _verify_invariants(text)
    if pr.verdict == "proved":
        assert verdict == "holds"
    if pr.verdict == "refuted":
        assert verdict == "violated"


@pytest.mark.parametrize("path", sorted(MODELS.glob("**/*.ha")), ids=lambda p: str(p.relative_to(MODELS)))
def test_prove_agrees_with_verify_on_the_hand_counted_models(path):
    model, _ = model_of(path=path)
    try:
        pr = prove(model, k_max=3)
    except Unsupported as err:
        assert "fifo" in err.what
        return
    verdict = explore(model).verdict
    assert pr.verdict != "proved" or verdict == "holds"
    assert pr.verdict != "refuted" or verdict == "violated"


def test_a_mutant_that_verify_refutes_is_never_proved():
    """majority_election_proof with a volatile voted_for: a restarted voter votes twice."""
    text = (SPECS / "majority_election_proof.ha").read_text()
    mutant = text.replace("persistent var voted_for", "var voted_for")
    assert mutant != text
    assert _verify_invariants(mutant, consts={"LOSS": 0}) == "violated"
    model, _ = model_of(mutant, consts={"LOSS": 0})
    assert prove(model, k_max=2).verdict != "proved"


def test_majority_election_needs_helpers_and_the_proof_copy_is_proved():
    model, _ = model_of(path=SPECS / "majority_election.ha")
    pr = prove(model, k_max=1)
    assert pr.verdict == "unknown" and pr.reason == "not-inductive"
    assert pr.cti_invariants and len(pr.cti) == 2
    model, _ = model_of(path=SPECS / "majority_election_proof.ha")
    pr = prove(model)
    assert pr.verdict == "proved" and pr.k == 1
    assert "every Vote(term) from a to b in flight has (a, b, term) in voted" in pr.inferred


def test_helpers_are_assumed_only_when_selected():
    model, _ = model_of(TICKET_HELPER, invariants=["bounded"])
    assert prove(model, k_max=1).verdict == "unknown"
    model, _ = model_of(TICKET_HELPER, invariants=["bounded", "in_step"])
    assert prove(model, k_max=1).verdict == "proved"
    # without the helper, k = 4 also proves it: four steps in a row cannot all have next < 3
    model, _ = model_of(TICKET)
    pr = prove(model, k_max=4)
    assert pr.verdict == "proved" and pr.k == 4


def test_cti_is_a_real_step_of_the_explicit_model():
    model, _ = model_of(TICKET)
    pr = prove(model, k_max=1)
    (none, first), (step, last) = pr.cti
    assert none is None and step.kind == "action" and step.name == "issue"
    assert first.nodes[0][0] == 3 and last.nodes[0][0] == 4
    assert pr.cti_invariants == ["bounded"]
    assert any(t.state == last for t in model.successors(first))


def test_an_error_step_is_a_counterexample_to_induction():
    model, _ = model_of(LATE_ASSERT)
    pr = prove(model, k_max=1)
    assert pr.verdict == "unknown" and pr.cti_error == "too far"
    assert pr.cti[1][1] is None and pr.cti[0][1].nodes[0][0] == 3


def test_unsupported_constructs_are_refused_with_their_line():
    for spec, what in [("lease_lock_fixed.ha", "time block"), ("raft_membership_fixed.ha", "map<"),
                       ("kafka_hw_truncation_fixed.ha", "fifo"), ("stale_read_fixed.ha", "seq<")]:
        model, _ = model_of(path=SPECS / spec)
        with pytest.raises(Unsupported) as exc:
            prove(model)
        assert what in exc.value.what and exc.value.span.line > 0, spec


# ---- the command line ----------------------------------------------------------------------------

def test_cli_refutes_naive_failover_and_the_trace_replays(tmp_path):
    out = tmp_path / "t.json"
    p = run_cli("prove", "specs/naive_failover.ha", "--trace-out", str(out))
    assert p.returncode == 1, p.stderr
    assert "Refuted: the base case (bounded model checking) found a violation after 3 steps." in p.stdout
    assert "3. Server[1] does promote" in p.stdout
    assert p.stdout.rstrip().splitlines()[-1].startswith("Result: REFUTED · violation after 3 steps")
    r = run_cli("replay", "specs/naive_failover.ha", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_proves_the_majority_election_proof_copy():
    p = run_cli("prove", "specs/majority_election_proof.ha")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Proved: the goals hold in every reachable state (1-inductive)." in p.stdout
    assert "Result: PROVED · k = 1" in p.stdout


def test_cli_unknown_prints_a_counterexample_to_induction(spec_file):
    p = run_cli("prove", str(spec_file(TICKET)), "--k", "2")
    assert p.returncode == 3
    assert "Counterexample to induction (k = 2)" in p.stdout
    assert "Counter: issued=" in p.stdout and "hint:" in p.stdout
    assert "Result: UNKNOWN (not-inductive)" in p.stdout
    p = run_cli("prove", str(spec_file(TICKET_HELPER)))
    assert p.returncode == 0 and "Result: PROVED · k = 1" in p.stdout


def test_cli_json(spec_file):
    p = run_cli("prove", str(spec_file(TICKET)), "--k", "1", "--format", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 3 and doc["format"] == "modelcheck-prove" and doc["verdict"] == "unknown"
    assert doc["counterexample_to_induction"]["violated"] == ["bounded"]
    p = run_cli("prove", "specs/naive_failover.ha", "--format", "json")
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "refuted" and doc["counterexample"]["format"] == "modelcheck-result"
    assert len(doc["counterexample"]["trace"]["steps"]) == 3


def test_cli_unsupported_and_errors(spec_file):
    p = run_cli("prove", "specs/lease_lock_fixed.ha")
    assert p.returncode == 3
    assert "unsupported: prove cannot encode a time block" in p.stderr and "lease_lock_fixed.ha:" in p.stderr
    assert "Traceback" not in p.stderr
    path = str(spec_file(TICKET))
    for args in (["--invariant", "nope"], ["--k", "0"], ["--const", "X"], ["--bogus"]):
        p = run_cli("prove", path, *args)
        assert p.returncode == 2, args
        assert "Traceback" not in p.stderr
