"""Liveness through the language: each temporal operator, weak fairness, faults
stopping, `eventually heal` / `eventually restart`, and the lasso in text and JSON."""
from __future__ import annotations

import pytest

from conftest import explore_text, run_cli, verify_json

SPIN = """
spec spin
role Worker {
  var done: bool = false
  var phase: 0..1 = 0
  action spin when not done { phase = 1 - phase }
  action finish when not done and GUARD { done = true }
}
property finishes: eventually Worker.done
"""


def test_weak_fairness_forces_a_continuously_enabled_action():
    # Without fairness, `spin` forever never finishes; `finish` is enabled in every
    # state of that loop, so weak fairness rules the loop out.
    _, r = explore_text(SPIN.replace("GUARD", "true"))
    assert r.verdict == "holds"


def test_weak_fairness_does_not_force_an_intermittently_enabled_action():
    # `finish` is enabled only when phase == 0: spinning disables it every other
    # step, so the loop is weakly fair (strong fairness would rule it out).
    _, r = explore_text(SPIN.replace("GUARD", "phase == 0"))
    assert r.verdict == "violated" and r.violation.kind == "property"
    assert [s.name for s, _ in r.trace] == []
    assert [s.name for s, _ in r.cycle] == ["spin", "spin"]


OPS = """
spec ops
role Counter {
  var n: 0..3 = 0
  action inc when n < LIMIT { n = n + 1 }
  action reset when n == 3 and RESET { n = 0 }
}
property reaches: eventually Counter.n == 3
property keeps: always eventually Counter.n == 0
property answers: Counter.n == 1 leads_to Counter.n == 3
property bounded: always Counter.n <= 2
"""


@pytest.mark.parametrize("limit, reset, expect", [
    # n counts up to 3 and stays: reaches holds, keeps fails (n == 0 never again),
    # answers holds, bounded fails at n == 3
    (3, "false", {"reaches": None, "keeps": (3, 0), "answers": None, "bounded": (3, None)}),
    # n stops at 2: reaches fails (stuck at 2), answers fails (from n == 1)
    (2, "false", {"reaches": (2, 0), "keeps": (2, 0), "answers": (2, 0), "bounded": None}),
    # n cycles 0..3: everything live, bounded still fails
    (3, "true", {"reaches": None, "keeps": None, "answers": None, "bounded": (3, None)}),
])
def test_each_temporal_operator(limit, reset, expect):
    text = OPS.replace("LIMIT", str(limit)).replace("RESET", reset)
    from conftest import pipeline
    from modelcheck.engine.explorer import Options, explore

    model = pipeline(text)
    r = explore(model, Options(collect_all=True))
    got = {}
    for name in expect:
        f = r.findings.get(name)
        got[name] = None if f is None else (len(f.trace), None if f.cycle is None else len(f.cycle))
    assert got == expect


HEAL = """
spec heal
role Server[2] {
  var sent: bool = false
  var got: bool = false
  action ping when self == Server[0] and not sent { sent = true  send Ping to Server[1] }
  on Ping { got = true }
}
message Ping
faults {
  partition at most 1
  heal
  ASSUME
}
property delivered: eventually Server[1].got
"""


def test_a_partition_that_never_heals_blocks_delivery():
    _, r = explore_text(HEAL.replace("ASSUME", ""))
    assert r.verdict == "violated"
    kinds = [s.kind for s, _ in r.trace]
    assert "partition" in kinds and r.cycle == []  # stuck with the link cut for ever


def test_eventually_heal_makes_it_live():
    _, r = explore_text(HEAL.replace("ASSUME", "eventually heal"))
    assert r.verdict == "holds"


def test_eventually_heal_needs_a_heal_line(spec_file):
    p = spec_file(HEAL.replace("  heal\n", "").replace("ASSUME", "eventually heal"))
    proc = run_cli("check", str(p))
    assert proc.returncode == 2 and "E212" not in proc.stdout
    assert "'eventually heal' needs a 'heal' line" in proc.stderr


RESTART = """
spec restart
role Server[2] {
  persistent var sent: bool = false
  var got: bool = false
  action ping when self == Server[0] and not sent { sent = true  send Ping to Server[1] }
  on Ping { got = true }
}
message Ping
faults {
  crash Server at most 1
  restart
  ASSUME
}
property delivered: eventually Server[1].got
"""


def test_crash_without_restart_assumption_is_a_counterexample():
    _, r = explore_text(RESTART.replace("ASSUME", ""))
    assert r.verdict == "violated" and [s.kind for s, _ in r.trace] == ["crash"]


def test_eventually_restart_makes_it_live():
    _, r = explore_text(RESTART.replace("ASSUME", "eventually restart Server"))
    assert r.verdict == "holds"


def test_forall_property_reports_the_instance(spec_file):
    text = """
spec inst
role W[2] {
  var done: bool = false
  action finish when self == W[0] { done = true }
}
property all_done: forall w in W: eventually w.done
"""
    code, doc = verify_json(spec_file(text))
    assert code == 1
    v = doc["violation"]
    assert v["kind"] == "property" and v["operator"] == "eventually" and v["instance"] == {"w": "W[1]"}


def test_lasso_json_and_text(spec_file):
    p = spec_file(SPIN.replace("GUARD", "phase == 0"))
    code, doc = verify_json(p)
    assert code == 1
    assert doc["trace"]["steps"] == [] and [s["name"] for s in doc["trace"]["cycle"]] == ["spin", "spin"]
    assert doc["properties"] == ["finishes"] and doc["unchecked_properties"] == []
    proc = run_cli("verify", str(p))
    assert "-- steps 1-2 repeat forever --" in proc.stdout
    assert "property 'finishes' does not hold" in proc.stdout


def test_property_selection(spec_file):
    p = spec_file(OPS.replace("LIMIT", "3").replace("RESET", "false"))
    code, doc = verify_json(p, "--property", "reaches")
    assert code == 0 and doc["properties"] == ["reaches"] and doc["invariants"] == []
    proc = run_cli("verify", str(p), "--property", "reach")
    assert proc.returncode == 2 and "did you mean 'reaches'" in proc.stderr
