"""Command-line inputs that used to end in "internal error" or lose work: const
values, trace files, output paths. Each answers with a verdict, a positioned error
(exit 2) or a clean incomplete summary (exit 3)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "modelcheck", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    assert "internal error" not in p.stderr and "Traceback" not in p.stderr, p.stderr
    return p


@pytest.mark.parametrize("value", ["١٢", "1_0", "0x10", "3.0", "", "1e3", " 2 3"])
def test_const_values_are_ascii_decimal(value):
    p = run("verify", "specs/naive_failover.ha", "--const", f"N={value}")
    assert p.returncode == 2
    assert "--const" in p.stderr


def test_huge_const_value_is_refused():
    p = run("verify", "specs/naive_failover.ha", "--const", "N=" + "9" * 5000)
    assert p.returncode == 2 and "too large" in p.stderr


@pytest.fixture(scope="module")
def naive_trace(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("trace") / "t.json"
    p = run("verify", "specs/naive_failover.ha", "--trace-out", str(out))
    assert p.returncode == 1
    return json.loads(out.read_text())


def test_replay_deeply_nested_json(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    p = run("replay", "specs/naive_failover.ha", str(f))
    assert p.returncode == 2 and "nested too deeply" in p.stderr


def test_replay_huge_integer_in_consts(tmp_path, naive_trace):
    f = tmp_path / "t.json"
    text = json.dumps({**naive_trace, "options": {**naive_trace["options"], "consts": {"N": 1}}})
    f.write_text(text.replace('"N": 1', '"N": ' + "7" * 5000))
    p = run("replay", "specs/naive_failover.ha", str(f))  # declares no N: the value is ignored
    assert p.returncode == 0
    p = run("replay", "specs/majority_election.ha", str(f))  # declares N: the value is refused, said where from
    assert p.returncode == 2 and "consts recorded in the trace" in p.stderr


@pytest.mark.parametrize("options", [3, "x", [1], None])
def test_replay_options_of_the_wrong_type(tmp_path, naive_trace, options):
    f = tmp_path / "t.json"
    f.write_text(json.dumps({**naive_trace, "options": options}))
    p = run("replay", "specs/naive_failover.ha", str(f))
    assert p.returncode in (0, 1, 2)


def test_replay_names_trace_consts_that_do_not_fit(tmp_path):
    spec = tmp_path / "s.ha"
    spec.write_text((ROOT / "specs/majority_election.ha").read_text())
    out = tmp_path / "t.json"
    run("verify", str(spec), "--trace-out", str(out), "--max-states", "10")
    doc = json.loads(out.read_text())
    # make the trace a violation to replay, recorded with a const the spec refuses
    doc["verdict"] = "violated"
    doc["violation"] = {"kind": "invariant", "name": "one_leader_per_term"}
    doc["trace"] = {"initial": {}, "steps": []}
    doc["options"]["consts"]["N"] = 0
    out.write_text(json.dumps(doc))
    p = run("replay", str(spec), str(out))
    assert p.returncode == 2
    assert "consts recorded in the trace" in p.stderr and "N=0" in p.stderr
    assert "--const" in p.stderr


def test_directory_and_fifo_as_trace(tmp_path):
    p = run("replay", "specs/naive_failover.ha", str(tmp_path))
    assert p.returncode == 2
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = run("replay", "specs/naive_failover.ha", str(fifo))  # must not block
    assert p.returncode == 2 and "regular file" in p.stderr


@pytest.mark.parametrize("cmd", [["verify"], ["simulate"], ["prove"]])
def test_trace_out_never_overwrites_the_spec(tmp_path, cmd):
    spec = tmp_path / "s.ha"
    text = (ROOT / "specs/naive_failover.ha").read_text()
    spec.write_text(text)
    p = run(*cmd, str(spec), "--trace-out", str(spec))
    assert p.returncode == 2 and "is an input file" in p.stderr
    assert spec.read_text() == text
    # the same file by another name
    p = run(*cmd, "s.ha", "--trace-out", f"../{tmp_path.name}/s.ha", cwd=tmp_path)
    assert p.returncode == 2 and spec.read_text() == text


def test_html_never_overwrites_the_spec_or_the_trace(tmp_path):
    spec = tmp_path / "s.ha"
    spec.write_text((ROOT / "specs/naive_failover.ha").read_text())
    p = run("verify", str(spec), "--html", str(spec))
    assert p.returncode == 2 and "is an input file" in p.stderr
    out = tmp_path / "x"
    p = run("verify", str(spec), "--trace-out", str(out), "--html", str(out))
    assert p.returncode == 2 and "also the path given to --trace-out" in p.stderr
    assert not out.exists() and p.stdout == ""  # refused before exploring


def test_output_folder_is_refused():
    p = run("verify", "specs/naive_failover.ha", "--html", "specs")
    assert p.returncode == 2


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_write_failure_keeps_the_verdict():
    """A report that cannot be written (disk full) comes after the verdict, never instead of it."""
    p = run("verify", "specs/naive_failover.ha", "--trace-out", "/dev/full")
    assert p.returncode == 2
    assert "Result: VIOLATED" in p.stdout and "Counterexample" in p.stdout
    assert "cannot write /dev/full" in p.stderr


def test_graph_timeout():
    p = run("graph", "specs/majority_election.ha", "--const", "N=4", "--max-states", "100000000", "--timeout", "1")
    assert p.returncode == 3
    assert "nothing drawn: the --timeout ran out" in p.stderr and p.stdout == ""


def test_simulate_spec_without_steps(tmp_path):
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\n")
    p = run("simulate", str(spec), "--runs", "5")
    assert p.returncode == 0 and "No step is enabled in the initial state" in p.stdout


def test_help_and_version_exit_zero():
    assert run("--help").returncode == 0
    assert run("--version").returncode == 0
    assert run("verify", "--help").returncode == 0
    assert run("verify").returncode == 2
    assert run("nosuchcommand").returncode == 2


def test_property_domain_out_of_range_is_a_spec_error(tmp_path):
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\nrole Server[1] { var x: bool = false }\n"
                    "property p: forall s in {Server[1]}: eventually s.x\n")
    p = run("verify", str(spec))
    assert p.returncode == 2 and "E211" not in p.stdout
    assert f"{spec}:3:26" in p.stderr and "domain of 's'" in p.stderr
    assert run("verify", "specs/quorum_register.ha", "--const", "N=1").returncode == 2


def test_replay_cycle_not_a_list(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"format": "modelcheck-result", "version": 1, "verdict": "violated", "violation": {},
                             "trace": {"initial": {}, "steps": [], "cycle": "x"}}))
    p = run("replay", "specs/naive_failover.ha", str(f))
    assert p.returncode == 2 and "trace.cycle" in p.stderr


def test_simulate_timeout_inside_one_long_walk():
    import time
    t = time.monotonic()
    p = run("simulate", "specs/stale_read_fixed.ha", "--runs", "20", "--depth", "1000000", "--timeout", "1")
    assert p.returncode == 0
    assert time.monotonic() - t < 15  # was: the whole walk, whatever the timeout
    assert '"stop_reason": "timeout"' in run("simulate", "specs/stale_read_fixed.ha", "--runs", "20", "--depth",
                                             "1000000", "--timeout", "1", "--format", "json").stdout


def test_huge_intermediate_integer_is_a_run_time_error(tmp_path):
    """Stored values fit their types, but `let` chains of `*` can make huge intermediates:
    the trace abbreviates them instead of failing to print them."""
    spec = tmp_path / "s.ha"
    lets = "; ".join(f"let {n} = {p}*{p}*{p}*{p}*{p}*{p}*{p}*{p}" for n, p in zip("bcde", "abcd"))
    spec.write_text(f"spec s\nrole S[1] {{\n  var x: 0..3 = 2\n  action a {{ let a = x * 1000000000000; {lets}; x = e }}\n}}\n"
                    "invariant i: true\n")
    p = run("verify", str(spec))
    assert p.returncode == 1 and "a number of about" in p.stdout
    assert run("verify", str(spec), "--format", "json").returncode == 1


def test_deeply_nested_quantifiers_are_a_positioned_error(tmp_path):
    """Found by tools/fuzz.py: nested `exists` past the limit crashed the depth check."""
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\nrole Server[2] { var leader: bool = false }\n"
                    "invariant i: " + "exists x in Server: " * 100 + "x.leader\n")
    p = run("graph", str(spec))
    assert p.returncode == 2 and f"{spec}:3:" in p.stderr and "at most 64" in p.stderr


def test_map_literal_with_mixed_key_types(tmp_path):
    """Found by tools/fuzz.py: `{P[0]: 0, [1]: 0}` passed the type check and crashed the renderer."""
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\nrole P[2] {\n  var m: map<P, 0..1> = {P[0]: 0, [1]: 0}\n}\ninvariant i: true\n")
    p = run("check", str(spec))
    assert p.returncode == 2 and f"{spec}:3:35" in p.stderr and "keys of one map" in p.stderr


def test_prove_timeout_covers_the_encoding(tmp_path):
    """Found by tools/fuzz.py: with 16 nodes the encoding alone outlasted --timeout 2."""
    import time
    spec = tmp_path / "s.ha"
    spec.write_text((ROOT / "specs/majority_election_proof.ha").read_text().replace("const N = 3", "const N = 16"))
    t = time.monotonic()
    p = run("prove", str(spec), "--k", "2", "--timeout", "2")
    assert p.returncode == 3 and "Result: UNKNOWN (timeout)" in p.stdout
    assert time.monotonic() - t < 60  # was: minutes


def test_prove_constant_node_index_out_of_range(tmp_path):
    """Found by tools/fuzz.py: `S[-4].x` crashed the z3 encoding; prove and verify now
    agree that the invariant fails in the initial state (a run-time error)."""
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\nrole S[2] { var x: bool = false\n action a { x = true } }\ninvariant i: not S[-4].x\n")
    assert "REFUTED · violation after 0 steps" in run("prove", str(spec)).stdout
    assert "VIOLATED · 1 distinct states" in run("verify", str(spec), "-q").stdout


def test_prove_timeout_covers_candidate_invariants():
    """Found by tools/fuzz.py: building the message-invariant candidates for 5 servers
    took 15 s past --timeout 2."""
    import time
    t = time.monotonic()
    p = run("prove", "specs/read_only_degraded.ha", "--k", "2", "--timeout", "2", "--const", "N=5",
            "--const", "MAX_TERM=5")
    assert p.returncode == 3 and "Result: UNKNOWN (timeout)" in p.stdout
    assert time.monotonic() - t < 30


def test_spec_files_over_1_mb_are_refused_at_once(tmp_path):
    """Found by tools/fuzz.py: 50,000 nested `exists` (1 MB) took 8 s to parse before
    the nesting limit could refuse it; past 1 MB a spec is refused unread."""
    spec = tmp_path / "s.ha"
    spec.write_text("spec s\nrole Server[2] { var leader: bool = false }\n"
                    "invariant i: " + "exists x in Server: " * 60_000 + "x.leader\n")
    p = run("graph", str(spec))
    assert p.returncode == 2 and "too large: more than 1 MB" in p.stderr


def test_max_depth_with_properties_and_nothing_beyond(tmp_path):
    """Found by tools/fuzz.py: --max-depth at the last level of a model with properties
    left that level out of the state graph, and the liveness check read past it."""
    p = run("verify", "specs/read_only_degraded.ha", "--const", "N=1", "--max-depth", "5",
            "--scenario", "minority_partitioned", "-q")
    q = run("verify", "specs/read_only_degraded.ha", "--const", "N=1", "--scenario", "minority_partitioned", "-q")
    assert p.returncode == q.returncode == 1
    assert p.stdout.splitlines()[-1].split("·")[1:3] == q.stdout.splitlines()[-1].split("·")[1:3]


def test_pause_length_and_skew_are_bounded(tmp_path):
    """Found by tools/fuzz.py: `pause ... for 2147483648` made one step with 2^31 successors."""
    base = (ROOT / "specs/lease_lock_broken.ha").read_text()
    spec = tmp_path / "s.ha"
    spec.write_text(base.replace("const PAUSE = 5", "const PAUSE = 2147483648"))
    p = run("simulate", str(spec), "--runs", "5")
    assert p.returncode == 2 and "a pause lasts at least 1 tick and at most 1000" in p.stderr
