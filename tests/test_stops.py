"""Every way a run can stop early ends with exit 3 and a summary of what was done:
SIGINT (Ctrl-C) and SIGTERM (a CI job's timeout) for every long-running command,
and memory, both modelcheck's own limit and an address-space limit (ulimit -v)
that makes Python raise MemoryError.

The commands run in real child processes on a model far too large to finish
(majority_election with N=4 and no symmetry: millions of states), and are stopped
after they have started exploring."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIG = ["specs/majority_election.ha", "--const", "N=4"]

# command line -> text its summary must contain once stopped
COMMANDS = {
    "verify": (["verify", *BIG, "--no-symmetry"], "Result: INCOMPLETE (interrupted)"),
    "matrix-1": (["matrix", *BIG, "-j", "1"], "rows complete"),
    "matrix-2": (["matrix", *BIG, "-j", "2"], "rows complete"),
    "prove": (["prove", *BIG, "--k", "30"], "Result: UNKNOWN (interrupted)"),
    "simulate": (["simulate", *BIG, "--runs", "100000000", "--no-swarm"], "stopped: interrupted"),
    "graph": (["graph", *BIG, "--max-states", "100000000"], "nothing drawn: interrupted"),
}


def _start(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "modelcheck", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_signal_stops_with_summary(name, sig):
    args, summary = COMMANDS[name]
    proc = _start(args)
    time.sleep(4)  # imports, parsing and compiling take well under a second
    assert proc.poll() is None, proc.communicate()
    if sig == "SIGINT":  # Ctrl-C goes to the whole process group, workers included
        os.killpg(proc.pid, signal.SIGINT)
    else:  # a CI runner's timeout signals the main process
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    text = out + err
    assert proc.returncode == 3, text
    assert "internal error" not in text and "Traceback" not in text and "Aborted!" not in text
    assert summary in text, text
    assert ("interrupted (SIGTERM)" if sig == "SIGTERM" else "interrupted (Ctrl-C)") in text, text


def test_matrix_interrupted_keeps_finished_rows():
    proc = _start(["matrix", *BIG, "-j", "2", "--keep-partitions", "--keep-dead-messages"])
    time.sleep(15)  # the no-faults row (28k states, 1 s) finishes even on a loaded machine; the faults row does not
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("no-faults", "faults"))}
    assert "holds" in rows["no-faults"] and "27,997" in rows["no-faults"]
    assert "incomplete" in rows["faults"]
    states = int(rows["faults"].split()[-2].replace(",", ""))
    assert states > 0  # the row in progress reports what it explored
    assert "1 of 2 rows complete" in err


def _limit_address_space(nbytes: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))
    return set_limit


def test_memory_limit_option_stops_cleanly():
    p = subprocess.run([sys.executable, "-m", "modelcheck", "verify", *BIG, "--no-symmetry", "--memory-limit", "120M"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 3, p.stderr
    assert "Result: INCOMPLETE (memory)" in p.stdout
    assert "the memory limit was reached" in p.stdout


def test_address_space_limit_stops_cleanly_by_default():
    """Under ulimit -v the default limit follows it: a clean stop, not a MemoryError."""
    p = subprocess.run([sys.executable, "-m", "modelcheck", "verify", *BIG, "--no-symmetry", "--format", "json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       preexec_fn=_limit_address_space(250 << 20))
    assert p.returncode == 3, p.stderr
    assert '"stop_reason": "memory"' in p.stdout
    assert "internal error" not in p.stderr


@pytest.mark.parametrize("extra", [[], ["--prune", "--no-symmetry"]])
def test_memory_error_is_a_clean_stop(tmp_path, extra):
    """With the guard off, the address-space limit makes Python raise MemoryError in the
    middle of the search: still exit 3 and the summary, never 'a bug in modelcheck'.

    The limit is set inside the process once modelcheck and z3 are loaded, at what they
    take plus 40 MiB, so the search (not an import) runs out, and it does so after a few
    seconds whatever the machine's start-up size."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import resource, sys
        import modelcheck.limits as limits
        limits.MemoryGuard.exceeded = lambda self: False  # let the MemoryError happen
        from modelcheck.cli import main
        import modelcheck.smt.dead  # z3's library is mapped before the limit
        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) << 10 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + (40 << 20), size + (40 << 20)))
        sys.argv = ["modelcheck"] + sys.argv[1:]
        main()
    """))
    p = subprocess.run([sys.executable, str(script), "verify", *BIG, "--no-symmetry", *extra], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "Result: INCOMPLETE (memory)" in p.stdout
    assert "internal error" not in p.stderr


def test_memory_limit_values():
    from modelcheck import limits
    assert limits.parse_size("512M") == 512 << 20
    assert limits.parse_size("1.5G") == int(1.5 * (1 << 30))
    assert limits.parse_size("2GB") == 2 * 1000 ** 3
    assert limits.parse_size("none") is None
    assert 0 < limits.parse_size("50%") <= limits.available_memory()
    for bad in ["", "x", "5X", "-1G", "0%", "200%", "12"]:
        with pytest.raises(ValueError):
            limits.parse_size(bad)


def test_bad_memory_limit_is_a_usage_error():
    p = subprocess.run([sys.executable, "-m", "modelcheck", "verify", "specs/naive_failover.ha", "--memory-limit", "lots"],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 2 and "is not a size" in p.stderr


def test_liveness_phase_honours_timeout(tmp_path):
    """The timeout covers the search for a fair cycle, not only the BFS."""
    from modelcheck.limits import Budget, StopSearch
    from modelcheck.engine.liveness import Graph, find_lasso

    # a long chain ending in a self-loop: 'eventually' is checked by SCC search
    n = 50_000
    g = Graph(states=list(range(n)), parent=[-1] + list(range(n - 1)),
              succ=[[i + 1] for i in range(n - 1)] + [[n - 1]], unit=[[0] for _ in range(n)])
    with pytest.raises(StopSearch):
        find_lasso(g, "eventually", [False] * n, [True] * n, budget=Budget(deadline=time.monotonic() - 1, every=1))
    assert find_lasso(g, "eventually", [False] * n, [True] * n) is not None


def test_half_built_z3_objects_stay_quiet_after_a_signal(monkeypatch):
    """A signal that lands inside a z3 constructor leaves an object without `ctx`; its
    __del__ then fails when collected. After a SIGINT/SIGTERM that is part of the same
    stop: nothing is printed. Before any signal, or from other code, the default hook
    still reports it."""
    import types

    import z3

    from modelcheck import limits

    seen = []
    monkeypatch.setattr(limits, "_default_unraisable", seen.append)
    z3_del = types.SimpleNamespace(exc_value=AttributeError("'BoolSortRef' object has no attribute 'ctx'"),
                                   object=z3.AstRef.__del__)
    other = types.SimpleNamespace(exc_value=AttributeError("x"), object=test_half_built_z3_objects_stay_quiet_after_a_signal)
    monkeypatch.setattr(limits, "_signalled", False)
    limits._quiet_after_signal(z3_del)
    assert seen == [z3_del]
    monkeypatch.setattr(limits, "_signalled", True)
    limits._quiet_after_signal(z3_del)
    limits._quiet_after_signal(other)
    assert seen == [z3_del, other]


def test_every_z3_solver_leaves_ctrl_c_to_modelcheck():
    """z3's own SIGINT handler, installed for each check() unless `ctrl_c` is off,
    cancels the check and swallows the signal: a Ctrl-C that landed in a spec's
    analyses was lost (the matrix then ran to its end). Every solver comes from
    modelcheck.smt.solver, which turns that off."""
    import re

    from modelcheck import smt

    package = Path(smt.__file__).resolve().parent.parent
    made = [f"{p.relative_to(package)}:{n}" for p in sorted(package.rglob("*.py"))
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(r"z3\.(Solver|SolverFor|SimpleSolver|Optimize)\(|\.solver\(\)", line)]
    assert made == ["smt/__init__.py:16"], made
    assert smt.solver().check() is not None


def test_memory_guard_tells_a_share_of_its_limit_used():
    """MemoryGuard.above: what a parallel worker asks before it goes over to compact
    keys (engine/parallel/worker.py, COMPACT_AT)."""
    from modelcheck.limits import MemoryGuard
    small = MemoryGuard(1 << 20)  # this process uses more than 1 MiB
    assert small.above(0.5) and small.exceeded()
    big, none = MemoryGuard(1 << 50), MemoryGuard(None)
    if big.vm_limit is None:  # (under an address-space limit the virtual size counts too)
        assert not big.above(0.5) and not none.above(0.0)


def test_timeout_stops_the_dead_message_analysis():
    """A --timeout shorter than the z3 analysis of dead messages (about 12 s on the
    Raft benchmark model) ends the run at the timeout, incomplete, with 0 states and
    a note on where it stopped; the half-done analysis is not kept."""
    from modelcheck import api
    from modelcheck.engine.explorer import ANALYSING

    started = time.monotonic()
    r = api.verify(ROOT / "bench" / "models" / "raft_broken.ha", timeout=1)
    assert time.monotonic() - started < 8  # (the start-up and the cancelled z3 call)
    assert r.verdict == "incomplete" and r.stop_reason == "timeout"
    assert r.stats.distinct_states == 0 and ANALYSING in r.notes


def test_a_deadline_cancels_a_running_z3_check():
    import z3
    from modelcheck import limits
    from modelcheck.smt import solver

    x, y, z = z3.Ints("x y z")
    s = solver()
    s.add(x > 2, y > 2, z > 2, x * x * x + y * y * y == z * z * z)  # Fermat n=3: z3 searches long
    started = time.monotonic()
    with limits.z3_deadline(time.monotonic() + 0.5) as clock:
        r = s.check()
        assert clock.passed()
    assert r == z3.unknown and time.monotonic() - started < 5
    with limits.z3_deadline(None) as clock:  # no deadline: nothing fires
        assert not clock.passed()
