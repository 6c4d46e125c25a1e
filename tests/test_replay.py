"""`modelcheck replay`: round trips for the example traces, divergence after a
deliberate spec edit, and malformed traces."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, run_cli

EXAMPLES = ["specs/naive_failover.ha", "specs/async_failover_broken.ha", "specs/stonith_unconfirmed_broken.ha",
            "specs/kafka_hw_truncation_broken.ha", "specs/three_phase_commit_broken.ha",
            "specs/stale_read_broken.ha", "specs/zk_ack_before_fsync_broken.ha"]


def record(spec, tmp_path, *extra) -> str:
    out = tmp_path / "trace.json"
    proc = run_cli("verify", str(spec), "--trace-out", str(out), "-q", *extra)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return str(out)


@pytest.mark.parametrize("spec", EXAMPLES)
def test_example_traces_round_trip(spec, tmp_path):
    trace = record(ROOT / spec, tmp_path)
    proc = run_cli("replay", spec, trace)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Reproduced: invariant" in proc.stdout


def test_a_guard_edit_names_the_first_step_that_no_longer_applies(tmp_path):
    src = (ROOT / "specs/naive_failover.ha").read_text()
    spec = tmp_path / "nf.ha"
    spec.write_text(src)
    trace = record(spec, tmp_path)
    spec.write_text(src.replace("action promote when", "action promote when false and"))
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 1
    assert "Diverges: step 3 (Server[1] does promote) no longer applies: its guard is false" in proc.stdout


def test_a_changed_effect_names_the_differing_variable(tmp_path):
    src = (ROOT / "specs/naive_failover.ha").read_text()
    spec = tmp_path / "nf.ha"
    spec.write_text(src)
    trace = record(spec, tmp_path)
    assert "silence += 1" in src
    spec.write_text(src.replace("silence += 1", "silence += 2").replace("silence: 0..SILENCE", "silence: 0..9"))
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 1
    assert ("step 1 (Server[1] does detector_tick) now leads to a different state: "
            "nodes.Server[1].vars.silence" in proc.stdout)


def test_the_recorded_consts_are_used(tmp_path):
    trace = record(ROOT / "specs/naive_failover.ha", tmp_path, "--const", "SILENCE=1")
    assert run_cli("replay", "specs/naive_failover.ha", trace).returncode == 0
    proc = run_cli("replay", "specs/naive_failover.ha", trace, "--const", "SILENCE=2")
    assert proc.returncode == 1


LASSO = """
spec spin
role Worker {
  var done: bool = false
  var phase: 0..1 = 0
  action spin when not done { phase = 1 - phase }
  action finish when not done and phase == 0 { done = true }
}
property finishes: eventually Worker.done
"""


def test_a_liveness_lasso_round_trips_and_fairness_is_rechecked(tmp_path):
    spec = tmp_path / "spin.ha"
    spec.write_text(LASSO)
    trace = record(spec, tmp_path)
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 0 and "Reproduced: property 'finishes'" in proc.stdout
    # `finish` now stays enabled through the cycle: the recorded lasso is unfair
    spec.write_text(LASSO.replace("and phase == 0", "and phase >= 0"))
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 1 and "no longer fair" in proc.stdout


def test_a_runtime_error_trace_round_trips(tmp_path):
    spec = tmp_path / "err.ha"
    spec.write_text("spec e\nrole A { var x: 0..2 = 0\n action inc { x = x + 1 } }\n")
    trace = record(spec, tmp_path)
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 0 and "Reproduced:" in proc.stdout


@pytest.mark.parametrize("content, needle", [
    ("{", "not a JSON trace"),
    ('{"format": "other"}', "not a modelcheck result"),
    ('{"format": "modelcheck-result", "version": 9}', "unsupported version"),
    ('{"format": "modelcheck-result", "version": 1, "verdict": "holds", "trace": null, "violation": null}',
     "no counterexample"),
    ('{"format": "modelcheck-result", "version": 1, "verdict": "violated", "violation": {}, '
     '"trace": {"initial": {}, "steps": [{"kind": "action"}]}}', "step 1 is missing"),
])
def test_malformed_traces_exit_2(tmp_path, content, needle):
    p = tmp_path / "bad.json"
    p.write_text(content)
    proc = run_cli("replay", "specs/naive_failover.ha", str(p))
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_missing_trace_file():
    proc = run_cli("replay", "specs/naive_failover.ha", "/nonexistent/trace.json")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_a_timed_trace_round_trips(tmp_path):
    spec = tmp_path / "timed.ha"
    spec.write_text("""
spec timed
time { max 3  delivery within 1 }
ghost var sent_at: 0..3 = 0
role A { var sent: bool = false
  action go when not sent { sent = true  sent_at = clock  send P to B } }
role B { var got: bool = false
  on P { got = true } }
message P
faults { pause B at most 1 for 2 }
invariant on_time: (A.sent and not B.got) => now <= sent_at + 1
""")
    trace = record(spec, tmp_path)
    proc = run_cli("replay", str(spec), trace)
    assert proc.returncode == 0 and "B pauses" in proc.stdout


def test_reductions_are_replayed_as_the_run_applied_them(tmp_path):
    """A spec with temporal properties keeps dead messages (fairness is about
    deliveries), even though its trace is an invariant's, which alone would allow
    dropping them: replay follows the run's `pruning` record, not its own plan."""
    spec = ROOT / "specs" / "partial_quorum_broken.ha"
    out = record(spec, tmp_path)
    doc = json.loads(open(out).read())
    assert doc["pruning"]["dead_messages"] == [] and doc["violation"]["kind"] == "invariant"
    p = run_cli("replay", str(spec), out)
    assert p.returncode == 0 and "Reproduced: invariant" in p.stdout, p.stdout
