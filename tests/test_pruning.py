"""The state-saving reductions (modelcheck/prune): partitions left out of safety runs
and dead messages dropped, checked differentially against the unreduced model.

For each spec, reduced and unreduced, the tests compute every reachable state with
a plain breadth-first search over `Model.successors` and compare them exactly:

- partitions: the reachable states without cut and heal steps are exactly the
  reachable states with them, once the cut links and those lines' budgets are
  forgotten (a cut only holds messages back);
- dead messages: every reduced state is an unreduced state with its dead messages
  dropped, and every unreduced state, its dead messages dropped, is a reduced state
  up to fault budgets (a loss or duplication spent on a dead message changes
  nothing but the budget, so the reduced state has at least as much left).

Then the searches themselves: the same verdict and the same violated invariants
(matrix mode), a counterexample no longer than the unreduced one that replays,
step by step, on the unreduced model. On every example spec and on random specs,
including ones where a stale message is not a no-op, or the term it is judged by
can go back, so that nothing may be collected.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from conftest import ROOT, pipeline

from modelcheck import prune
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import build
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.lang.parser import parse

ON = {"skip_partitions": True, "drop_dead_messages": True}  # what verify does by default
CAP = 20_000  # reachable states per exhaustive comparison; bigger specs compare verdicts only
SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))


def _model(path, consts=None):
    source = Source(str(path), path.read_text())
    checked = check(parse(source), consts or {})
    return build(checked, source, invariant_names=[d.name for d in checked.invariants] or None)


def _reduced(model, **kw):
    """The model one search would explore with these options, and its Pruning."""
    options = Options(**kw)
    return prune.apply(model, options.validate(model), options)


def _reach(model, cap=CAP):
    """Every reachable state (None past `cap`)."""
    seen = {model.initial}
    frontier = [model.initial]
    while frontier:
        nxt = []
        for s in frontier:
            for t in model.successors(s):
                if t.state is not None and t.state not in seen:
                    seen.add(t.state)
                    nxt.append(t.state)
                    if len(seen) > cap:
                        return None
        frontier = nxt
    return seen


def _kept_slots(full, reduced) -> list[int]:
    """The budget slots of `full`'s lines that `reduced` kept, in order."""
    kept = {id(f) for f in reduced.faults}
    return [full.budget_slot[i] for i, f in enumerate(full.faults) if i in full.budget_slot and id(f) in kept]


def check_partitions(full, cap=CAP):
    reduced, pruning = _reduced(full, skip_partitions=True)
    if not pruning.skipped_faults:
        return False
    slots = _kept_slots(full, reduced)
    a, b = _reach(full, cap), _reach(reduced, cap)
    if a is None or b is None:
        return False
    assert all(not s.cut for s in b)
    proj_a = {(s.nodes, s.up, s.net, s.ghosts, tuple(s.budgets[i] for i in slots), s.time) for s in a}
    proj_b = {(s.nodes, s.up, s.net, s.ghosts, s.budgets, s.time) for s in b}
    assert proj_a == proj_b
    return True


def check_dead(full, cap=CAP):
    # compared without partition steps (check_partitions covers those): smaller spaces
    full, _ = _reduced(full, skip_partitions=True)
    reduced, pruning = _reduced(full, drop_dead_messages=True)
    collector = reduced.collector
    if collector is None:
        return False
    a, b = _reach(full, cap), _reach(reduced, cap)
    if a is None or b is None:
        return False
    collected = {collector.state(s) for s in a}
    assert b <= collected  # every reduced state is a real state, its dead messages dropped
    best: dict = {}
    for s in b:
        best.setdefault(s._replace(budgets=()), []).append(s.budgets)
    for s in collected:  # and every real state has a reduced state with as much budget left
        options = best.get(s._replace(budgets=()))
        assert options is not None, s
        assert any(all(x >= y for x, y in zip(bs, s.budgets)) for bs in options), s
    return len(b) <= len(a)


def _replays(full, result, project) -> None:
    """The reduced counterexample, step by step, is a behaviour of `full`."""
    state = full.initial
    for step, target in result.trace:
        match = [t for t in full.successors(state) if t.step == step]
        assert match, f"step {step} has no counterpart"
        if target is None:
            assert any(t.state is None for t in match)
            return
        hits = [t for t in match if t.state is not None and project(t.state) == project(target)]
        assert hits, f"step {step} reaches another state"
        state = hits[0].state


def check_searches(full):
    """Same verdicts and violated invariants; counterexamples no longer, and real."""
    base = explore(full, Options(max_states=CAP))
    red = explore(full, Options(max_states=CAP, **ON))
    if base.stop_reason or red.stop_reason:
        return
    assert red.verdict == base.verdict
    assert (red.violation.name if red.violation else None) == (base.violation.name if base.violation else None)
    if red.violation is not None:
        assert len(red.trace) <= len(base.trace)
        _replays(full, red, lambda s: (s.nodes, s.up, s.ghosts))
    every_base = explore(full, Options(collect_all=True, max_states=CAP))
    every_red = explore(full, Options(collect_all=True, max_states=CAP, **ON))
    if not (every_base.stop_reason or every_red.stop_reason):
        assert sorted(every_red.findings) == sorted(every_base.findings)
        for name, f in every_red.findings.items():
            assert f.length <= every_base.findings[name].length, name


@pytest.mark.parametrize("name", SPECS)
def test_example_specs(name):
    full = _model(ROOT / "specs" / name)
    check_partitions(full)
    check_dead(full)
    check_searches(full)


def test_election_collects_and_compares_exhaustively():
    """The election spec (no loss, so the unreduced space is small enough to compare
    state by state): both reductions apply, and both comparisons ran."""
    full = _model(ROOT / "specs" / "majority_election.ha", {"LOSS": 0})
    assert check_partitions(full, cap=40_000)
    assert check_dead(full, cap=40_000)
    red = explore(full, Options(symmetry=False, **ON))
    base = explore(full, Options(symmetry=False))
    assert red.stats.distinct_states * 3 <= base.stats.distinct_states


# ---- random specs with terms ---------------------------------------------------------------

def term_spec(seed: int) -> str:
    """A small election-like spec with terms. Variants: the term persistent or
    volatile (a crash sets it back: stale messages are no longer stale for ever),
    stale messages ignored, rejected by a guard, or acted upon (then they are not
    no-ops), any delivery mode that can drop messages, any subset of faults."""
    rnd = random.Random(seed)
    n = rnd.choice([2, 3])
    mode = rnd.choice(["unordered", "set"])
    persistent = "persistent " if rnd.random() < 0.7 else ""
    stale = rnd.choice(["ignore", "guard", "acts", "ghost"])
    faults = rnd.sample(["crash at most 1", "restart", "partition at most 1", "heal", "loss at most 1",
                         "one_way at most 1", "link at most 1"] + (["duplicate at most 1"] if mode != "set" else []),
                        rnd.randint(0, 4))
    guard = " when t >= term" if stale == "guard" else ""
    acts = {"acts": "    if t < term { votes = {} }\n", "ghost": "    if t < term { old = true }\n"}.get(stale, "")
    inv = rnd.choice(["count(x in S where x.leader) <= 1", "not old", "forall x in S: x.term <= 2",
                      "count(x in S where x.leader) <= 1 or old"])
    return f"""
spec terms{seed}
network {{ delivery {mode} }}
message Req(t: 0..2)
message Ack(t: 0..2)
ghost var old: bool = false
role S[{n}] {{
  {persistent}var term: 0..2 = 0
  var votes: set<S> = {{}}
  var leader: bool = false
  action timeout when term < 2 and not leader {{
    term += 1
    votes = {{self}}
    broadcast Req(term)
  }}
  on Req(t) from c{guard} {{
    if t > term {{
      term = t
      votes = {{}}
      leader = false
    }}
    if t == term and not leader {{ send Ack(t) to c }}
{acts}  }}
  on Ack(t) from v {{
    if t == term {{
      votes |= {{v}}
      if 2 * len(votes) > {n} {{ leader = true }}
    }}
{acts}  }}
}}
faults {{ {' '.join(faults)} }}
invariant safe: {inv}
"""


SEEDS = range(int(__import__("os").environ.get("PRUNING_SEEDS", "40")))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_term_specs(seed):
    full = pipeline(term_spec(seed))
    check_partitions(full)
    check_dead(full)
    check_searches(full)


def test_random_specs_exercise_both_reductions():
    """The generator is worth running: across the seeds, both reductions apply and
    are compared state by state; where stale messages are acted upon, or the term
    is volatile, the stale-term rule is never proved."""
    partitions = dead = 0
    for seed in SEEDS:
        text = term_spec(seed)
        full = pipeline(text)
        partitions += bool(_reduced(full, skip_partitions=True)[1].skipped_faults) and _reach(full) is not None
        reduced = _reduced(full, drop_dead_messages=True)[0]
        rules = [r.describe() for r in reduced.collector.order] if reduced.collector is not None else []
        stale_rule = [r for r in rules if r == "Ack to S when t < term"]
        if "if t < term" in text or ("persistent" not in text and "crash" in text):
            assert not stale_rule, (seed, rules)
        dead += bool(stale_rule)
    assert partitions >= 5 and dead >= 5, (partitions, dead)


# ---- negative cases ------------------------------------------------------------------------

ACTS_ON_OLD = """
spec acts
network { delivery unordered }
message Req(t: 0..2)
ghost var old: bool = false
role S[2] {
  persistent var term: 0..2 = 0
  action bump when term < 2 {
    term += 1
    broadcast Req(term)
  }
  on Req(t) {
    if t > term { term = t }
    if t < term { old = true }
  }
}
invariant never_old: not old
"""


def test_a_handler_that_acts_on_old_terms_keeps_its_messages():
    model = pipeline(ACTS_ON_OLD)
    reduced, pruning = _reduced(model, **ON)
    assert reduced.collector is None or not any(r.message == "Req" for r in reduced.collector.order)
    result = explore(model, Options(**ON))
    assert result.verdict == "violated" and result.violation.name == "never_old"


def test_a_volatile_term_keeps_its_messages():
    """A crash sets a volatile term back to 0: an old message is stale only until then."""
    text = ACTS_ON_OLD.replace("if t < term { old = true }", "").replace("persistent var", "var") \
        .replace("invariant never_old: not old", "faults { crash at most 1 restart }\ninvariant ok: true")
    reduced, pruning = _reduced(pipeline(text), **ON)
    assert reduced.collector is None
    assert "stays true" in (pruning.dead_kept or "") or "no message" in (pruning.dead_kept or "")


def test_the_persistent_term_collects_stale_requests():
    text = ACTS_ON_OLD.replace("if t < term { old = true }", "") \
        .replace("invariant never_old: not old", "faults { crash at most 1 restart }\ninvariant ok: true")
    reduced, _ = _reduced(pipeline(text), **ON)
    assert [r.describe() for r in reduced.collector.order] == ["Req to S when t <= term"]  # t == term: no-op too


TIMED = """
spec timed
network { delivery unordered }
time { max 3  delivery within 1 }
message Ping
role N[2] {
  var got: bool = false
  action go { broadcast Ping }
  on Ping { got = true }
}
faults { partition at most 1  heal }
invariant ok: true
"""


def test_delivery_within_keeps_partitions():
    _, pruning = _reduced(pipeline(TIMED), **ON)
    assert pruning.skipped_faults == []
    assert "time block" in pruning.partitions_kept


def test_properties_and_graph_keep_everything():
    text = ACTS_ON_OLD.replace("if t < term { old = true }", "") + \
        "faults { partition at most 1 heal }\nproperty grows: eventually (exists x in S: x.term > 0)\n"
    model = pipeline(text)
    _, pruning = _reduced(model, **ON)
    assert pruning.skipped_faults == [] and "temporal" in pruning.partitions_kept
    assert "temporal" in pruning.dead_kept
    _, pruning = _reduced(model, record_graph=True, **ON)
    assert pruning.skipped_faults == [] and pruning.partitions_kept


def test_prune_and_fifo_keep_dead_messages():
    text = ACTS_ON_OLD.replace("if t < term { old = true }", "")
    _, pruning = _reduced(pipeline(text), prune=True, **ON)
    assert pruning.dead_kept.startswith("--prune")
    _, pruning = _reduced(pipeline(text.replace("delivery unordered", "delivery fifo")), **ON)
    assert "fifo" in pruning.dead_kept


def test_compiled_code_cannot_read_links_messages_or_budgets():
    """The partition argument rests on this: what compiled spec code can read
    (engine/compiler.Ctx) has no field for cut links, messages in flight or budgets.
    A new field here means a construct may read them: revisit modelcheck/prune."""
    from modelcheck.engine.compiler import Ctx
    # "ops": the client operations a step records (like "out", what it sends): written,
    # never read by spec code; a monitor sees the order of node steps, which skipping
    # partitions keeps
    assert set(Ctx.__slots__) == {"vars", "ghosts", "env", "self_id", "sender", "out", "nodes", "up",
                                  "choices", "sizes", "pos", "chosen", "clock", "now", "ops"}


# ---- the command line ------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "modelcheck", *args], capture_output=True, text=True, cwd=ROOT)


def test_summary_and_json_say_what_was_skipped():
    spec = str(ROOT / "specs" / "majority_election.ha")
    out = _cli("verify", spec, "--const", "LOSS=0")
    assert out.returncode == 0, out.stderr
    assert "pruning: partition at most 1, heal not explored" in out.stdout
    assert "--keep-partitions" in out.stdout
    assert "pruning: dead messages dropped: RequestVote to Server when" in out.stdout
    doc = json.loads(_cli("verify", spec, "--const", "LOSS=0", "--format", "json").stdout)
    assert doc["pruning"]["skipped_faults"] == ["partition at most 1", "heal"]
    assert doc["pruning"]["dead_messages"]
    kept = json.loads(_cli("verify", spec, "--const", "LOSS=0", "--format", "json", "--keep-partitions",
                           "--keep-dead-messages").stdout)
    assert kept["pruning"]["skipped_faults"] == [] and kept["pruning"]["dead_messages"] == []
    assert kept["pruning"]["partitions_kept_because"] == "--keep-partitions"
    assert kept["stats"]["distinct_states"] > 3 * doc["stats"]["distinct_states"]


def test_the_analysis_connectives_build_what_z3_builds():
    """symbolic's AND/OR/NOT build with one API call and _t/_f compare pointers: the
    same terms and the same answers as z3's own functions, on constants z3 made
    itself, on Python values, and on terms that are not Boolean."""
    import z3
    from modelcheck.smt import symbolic as sy

    p, q = z3.Bools("p q")
    x = z3.Int("x")
    made_true = z3.simplify(z3.Or(p, z3.Not(p)))
    made_false = z3.simplify(z3.And(p, z3.Not(p)))
    for v in (p, x > 1, made_true, made_false, z3.BoolVal(True), z3.BoolVal(False), x, z3.IntVal(1), True, 0, None):
        assert sy._t(v) == (z3.is_true(v)), v
        assert sy._f(v) == (z3.is_false(v)), v
    assert sy.AND(p, q, x > 1).eq(z3.And(p, q, x > 1))
    assert sy.OR(p, x > 1).eq(z3.Or(p, x > 1))
    assert sy.NOT(x > 1).eq(z3.Not(x > 1))
    assert sy.AND(p, made_false) is sy.FALSE and sy.OR(made_true, q) is sy.TRUE
    assert sy.AND(p, True).eq(z3.And(p, True))  # a Python value: z3's own coercion, as before
    assert sy.AND(p, z3.BoolVal(True), q).eq(z3.And(p, q))


@pytest.mark.parametrize("name", ["majority_election_proof", "three_phase_commit_fixed", "read_only_degraded"])
def test_the_analysis_proves_the_same_without_its_witnesses(name, monkeypatch):
    """_stable skips an induction query when an earlier query's model already breaks
    the literal: the rules and the reasons kept are those of every query run."""
    from modelcheck.smt import dead

    def analysis():
        model = pipeline((ROOT / "specs" / f"{name}.ha").read_text(), path=f"{name}.ha")
        a = dead.analyse(model)
        return [r.describe() for r in a.rules], a.kept, a.why_none

    used = []
    real = dead._Analyser._witnessed

    def spy(self, bads, domain):
        r = real(self, bads, domain)
        used.append(r)
        return r

    monkeypatch.setattr(dead._Analyser, "_witnessed", spy)
    with_witnesses = analysis()
    assert any(used)  # some query was saved
    monkeypatch.setattr(dead._Analyser, "_witnessed", lambda self, bads, domain: False)
    assert analysis() == with_witnesses
