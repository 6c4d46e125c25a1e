"""Shared helpers: run the real CLI in a subprocess, or the pipeline in-process."""
from __future__ import annotations

import json
import subprocess
import sys
import zlib
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


# The broad parametrisations: every example spec, every gallery trace, every random
# seed, through one more engine, reduction or format each. Each took 5-140 s of CPU
# in all (pytest --durations on the 2-core machine: cases, seconds), and together
# they were over half the suite (1,230 s of wall time in all, over the 15 minutes
# CI has). The default run keeps one case in SAMPLE_EVERY of each, the others
# are `slow`: which one is fixed (the cases in their collection order, from an
# offset taken from the family's name), and differs from family to family, so that
# the families together still run every spec; `pytest -m slow` runs the rest.
SAMPLE_EVERY = 4
SAMPLED = {
    "tests/test_packed.py::test_example_specs_same_search",  # 46, 140 s
    "tests/test_language_gaps.py::test_every_soft_keyword_in_every_statement_position",  # 141, 131 s
    "tests/test_pruning.py::test_example_specs",  # 46, 98 s
    "tests/test_pruning.py::test_random_term_specs",  # 40, 79 s
    "tests/test_packed_pruning.py::test_example_specs_dead_messages_same_search",  # 48, 68 s
    "tests/test_schemas.py::test_gallery_trace_validates_in_json_and_itf_and_replays",  # 21, 66 s
    "tests/test_gallery_partial_partitions.py::test_verdict_per_scenario",  # 43, 62 s
    "tests/test_parallel.py::test_example_specs_same_with_two_workers",  # 48, 54 s
    "tests/test_parallel.py::test_example_specs_same_with_workers_on_compact_keys",
    "tests/test_parallel.py::test_random_specs_same_with_workers_on_compact_keys",
    "tests/test_packed_pruning.py::test_random_term_specs_dead_messages_same_search",  # 40, 53 s
    "tests/test_symmetry.py::test_verdicts_and_shortest_trace_lengths_do_not_change",  # 48, 53 s
    "tests/test_stops.py::test_signal_stops_with_summary",  # 12, 49 s
    "tests/test_simulate.py::test_a_shrunk_trace_replays_to_the_same_violation_and_is_no_shorter_than_verify",  # 3, 37 s
    "tests/test_otlp.py::test_every_gallery_trace_is_otlp",  # 21, 37 s
    "tests/test_prove.py::test_prove_agrees_with_verify_on_every_supported_spec",  # 46, 33 s
    "tests/test_quorum_examples.py::test_verdict",  # 39, 31 s
    "tests/test_packed_liveness.py::test_example_specs_same_liveness",  # 14, 28 s
    "tests/test_reduction.py::test_pruning_changes_no_verdict_state_count_or_trace_length",  # 32, 28 s
    "tests/test_spin_crosscheck.py::test_modelcheck_matches_spin",  # 9, 27 s
    "tests/test_packed.py::test_random_timed_specs_same_search",  # 40, 24 s
    "tests/test_diagram_layout.py::test_known_traces",  # 23, 23 s
    "tests/test_gallery_commit.py::test_broken_spec_shows_the_documented_failure",  # 3, 21 s
    "tests/test_prove.py::test_successors_and_invariants_match_on_reachable_and_random_states",  # 25, 17 s
    "tests/test_explorer.py::test_fingerprints_change_nothing_but_memory",  # 6, 17 s
    "tests/test_packed.py::test_random_timed_specs_with_symmetry",  # 40, 17 s
    "tests/test_packed_liveness.py::test_random_specs_same_liveness",  # 60, 16 s
    "tests/test_reduction_random.py::test_pruning_and_fingerprints_agree_with_the_plain_search",  # 60, 14 s
    "tests/test_symmetry_orbits.py::test_hand_written_specs_store_one_state_per_orbit",  # 12, 13 s
    "tests/test_replay.py::test_example_traces_round_trip",  # 7, 13 s
    "tests/test_symmetry.py::test_random_specs_same_verdicts_and_exact_unreduced_count",  # 60, 12 s
    "tests/test_fault_kinds.py::test_prove_encodes_the_shape",  # 3, 11 s
    "tests/test_symmetry_orbits.py::test_random_specs_store_one_state_per_orbit",  # 20, 11 s
    "tests/test_symmetry_orbits.py::test_random_specs_state_search_is_sound",  # 19, 10 s
    "tests/test_gallery_partial_partitions.py::test_failover_still_happens",  # 10, 10 s
    "tests/test_packed_liveness.py::test_random_timed_specs_same_liveness",  # 20, 10 s
    "tests/test_state_counts.py::test_state_count",  # 16, 10 s
    "tests/test_packed.py::test_random_specs_same_search",  # 60, 9 s
    "tests/test_visited.py::test_fingerprint_search_with_the_table_on_disk_matches_exact",  # 6, 9 s
    "tests/test_prove.py::test_prove_agrees_with_verify_on_handwritten_specs",  # 6, 9 s
    "tests/test_fuzz_inputs.py::test_subprocess_agrees_with_in_process",  # 11, 8 s
    "tests/test_diagram_layout.py::test_random_traces",  # 30, 8 s
    "tests/test_time.py::test_time_errors",  # 9, 7 s
    "tests/test_consistency_specs.py::test_misuse_diagnostics",  # 10, 7 s
    "tests/test_prove.py::test_initial_one_and_two_step_states_match",  # 27, 7 s
    "tests/test_unbounded.py::test_no_new_warning_on_shipped_specs",  # 60, 6 s
    "tests/test_robust_frontend.py::test_nesting_at_the_limit_works_and_past_it_is_a_diagnostic",  # 8, 5 s
}


def _offset(family: str) -> int:
    return zlib.crc32(family.encode()) % SAMPLE_EVERY


def pytest_collection_modifyitems(config, items):
    seen: dict[str, int] = {}
    for item in items:
        family = item.nodeid.split("[", 1)[0]
        if family in SAMPLED and "[" in item.nodeid:
            i = seen[family] = seen.get(family, -1) + 1
            if (i + _offset(family)) % SAMPLE_EVERY:
                item.add_marker(pytest.mark.slow)
        if item.nodeid in SLOW:
            item.add_marker(pytest.mark.slow)
