"""Shared helpers: run the real CLI in a subprocess, or the pipeline in-process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelcheck", *args], cwd=cwd, capture_output=True, text=True)


def run_on_terminal(*args: str, env: dict | None = None) -> bytes:
    """Run the CLI with a pseudo-terminal as stdout and stderr (what a user at a
    terminal sees: progress lines, colour); return everything it wrote."""
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.chdir(ROOT)
        os.execvpe(sys.executable, [sys.executable, "-m", "modelcheck", *args], {**os.environ, **(env or {})})
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out


# The state-saving reductions off (modelcheck/prune): for counts of the model as written.
KEEP = ("--keep-partitions", "--keep-dead-messages")


def verify_json(path: str | Path, *extra: str) -> tuple[int, dict]:
    proc = run_cli("verify", str(path), "--format", "json", *extra)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def spec_file(tmp_path):
    """Write spec text to a file and return its path."""
    def write(text: str, name: str = "spec.ha") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p
    return write


def pipeline(text: str, consts: dict | None = None, faults: bool = True, path: str = "t.ha"):
    """Parse, check and build a model in-process."""
    from modelcheck.lang.checker import check
    from modelcheck.lang.diagnostics import Source
    from modelcheck.engine.model import build
    from modelcheck.lang.parser import parse

    source = Source(path, text)
    return build(check(parse(source), consts or {}), source, use_faults=faults)


def explore_text(text: str, **kw):
    from modelcheck.engine.explorer import Options, explore

    opts = {k: kw.pop(k) for k in ("max_states", "max_depth", "timeout") if k in kw}
    model = pipeline(text, **kw)
    return model, explore(model, Options(**opts))


def run_until_signal(args: list[str], sig: int, ready) -> tuple[subprocess.Popen, str, str]:
    """Start `modelcheck ARGS`, call `ready(proc)` (it returns once the run is under
    way), send `sig`, and return (proc, stdout, stderr) once it exits; fail if it
    does not within 120 s (generous: on a loaded CI machine the child may be slow to
    get the CPU back)."""
    import signal
    # A shell that starts a job in the background (`.ci/run &`) leaves SIGINT ignored,
    # and children inherit that: restore the default, as a terminal has it.
    proc = subprocess.Popen([sys.executable, "-m", "modelcheck", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    ready(proc)
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"no exit 120 s after signal {sig}; stdout: {out[-500:]!r} "
                             f"stderr: {err[-2000:]!r}") from None
    return proc, out, err



# The long checks: each took 9-35 s on the 2-core CI machine (pytest --durations),
# together about 3 minutes of the suite's wall time. They are differential checks
# whose ground is also covered by quicker tests in the same file (smaller specs,
# fewer samples); `pytest -m slow` runs them, `pytest -m ""` runs everything.
SLOW = {
    "tests/test_prove.py::test_every_supported_spec_matches_on_a_sample_of_states",
    "tests/test_prove.py::test_bmc_finds_the_shortest_counterexample_and_no_shorter[kitchen]",
    "tests/test_prove.py::test_successors_and_invariants_match_on_reachable_and_random_states[kitchen]",
    "tests/test_prove.py::test_successors_and_invariants_match_on_reachable_and_random_states[multi]",
    "tests/test_symmetry.py::test_verdicts_and_shortest_trace_lengths_do_not_change[specs/lease_read_broken.ha]",
    "tests/test_pruning.py::test_random_specs_exercise_both_reductions",
    "tests/test_gallery_commit.py::test_fixed_spec_holds_everywhere[raft_membership_fixed]",
    "tests/test_packed.py::test_example_specs_same_search[raft_membership_fixed.ha]",
    "tests/test_packed.py::test_example_specs_same_search[raft_membership_broken.ha]",
    "tests/test_visited.py::test_fingerprint_search_with_spilled_levels_matches_exact[True-raft_membership_fixed.ha]",
    "tests/test_reduction.py::test_pruning_changes_no_verdict_state_count_or_trace_length[stale_read_history_fixed.ha]",
    "tests/test_visited.py::test_fingerprint_search_with_spilled_levels_matches_exact[False-raft_membership_fixed.ha]",
    "tests/test_pruning.py::test_example_specs[raft_membership_fixed.ha]",
    "tests/test_pruning.py::test_example_specs[three_phase_commit_fixed.ha]",
    "tests/test_prove.py::test_prove_agrees_with_verify_on_every_supported_spec[three_phase_commit_fixed.ha]",
    "tests/test_prove.py::test_prove_agrees_with_verify_on_every_supported_spec[read_only_degraded.ha]",
    "tests/test_diagram_layout.py::test_known_traces[specs/raft_membership_broken.ha]",
    # 13-23 s each on a slow day (the clean-clone run took 894 s of its 900): the other
    # BMC cases replay, test_stops' verify and prove signal tests cover the same stop
    # code, the smaller language-gap tests run both engines, and test_visited compares
    # fingerprint searches with exact ones (spilled levels, the table on disk)
    "tests/test_prove.py::test_refuted_trace_replays[kitchen]",
    "tests/test_stops.py::test_matrix_interrupted_keeps_finished_rows",
    "tests/test_language_gaps.py::test_locals_accumulate_in_loops_and_branches_on_both_engines",
    "tests/test_packed.py::test_fingerprints_depth_limit_and_timeout_paths",
    # 6-11 s each (the clean-clone run took 860 s of its 900): the same checks on the
    # other specs of each parametrisation stay in the run
    "tests/test_simulate.py::test_workers_give_the_same_report[majority_election.ha]",
    "tests/test_simulate.py::test_a_shrunk_trace_replays_to_the_same_violation_and_is_no_shorter_than_verify"
    "[async_failover_broken.ha-2]",
    "tests/test_nxgraph.py::test_spec_graphs[specs/async_failover_broken.ha]",
    "tests/test_packed_liveness.py::test_example_specs_same_liveness[partial_quorum_fixed.ha]",
    "tests/test_reduction.py::test_pruning_changes_no_verdict_state_count_or_trace_length[bridge_failover_fixed.ha]",
    "tests/test_symmetry.py::test_verdicts_and_shortest_trace_lengths_do_not_change[specs/bridge_failover_fixed.ha]",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW:
            item.add_marker(pytest.mark.slow)
