"""The partitioned search on a Ray cluster (`verify --cluster`) against one process.

The clusters are real multi-node Ray clusters on loopback, started and stopped by
this module: one from ray.cluster_utils.Cluster (a head and a second node, each
with its own raylet, as two machines would have), and one started as the README's
two-machine recipe says (`ray start --head`, `ray start --address`). Each worker is an actor that builds the model
again from the spec's text, so these tests also show that a worker elsewhere builds
the same model as the search (its reductions, dead-message rules and all).

Skipped when Ray is not installed (it is in the `test` extra, so CI runs them).
Each cluster serves one test (so the two may run on two xdist workers at once);
starting one takes about seven seconds.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT

ray = pytest.importorskip("ray")

from modelcheck import api  # noqa: E402
from modelcheck.engine.parallel.ray_pool import ClusterError  # noqa: E402

# (spec, options): plain and symmetric, violated and holding, pruned (dead messages,
# partitions left out) and not, a bound inside a level
CASES = [
    ("ring_failover_broken.ha", {}),
    ("majority_election.ha", {}),
    ("two_phase_commit_broken.ha", {"invariants": ["atomicity", "commit_needs_unanimous_yes"]}),
    ("two_phase_commit_fixed.ha", {"symmetry": False, "max_states": 3_000, "invariants": ["atomicity"]}),
    ("kafka_hw_truncation_broken.ha", {"keep_partitions": True, "keep_dead_messages": True}),
    ("read_only_degraded.ha", {"max_states": 1_000, "invariants": ["one_leader_per_term", "fresh_read"]}),
    ("two_phase_commit_broken.ha", {}),  # temporal properties: one process, with a note
]


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


def _facts(v) -> tuple:
    s = v.stats
    return (v.verdict, v.stop_reason, s.distinct_states, s.transitions, s.depth, s.states_without_symmetry,
            v.violation.message if v.violation else None, len(v.trace),
            [t.label for t in v.trace])


def test_cluster_gives_the_one_process_result(cluster):
    parallel = 0
    for name, options in CASES:
        path = str(ROOT / "specs" / name)
        one = api.verify(path, **options)
        on_cluster = api.verify(path, workers=2, cluster=cluster.address, **options)
        assert _facts(on_cluster) == _facts(one), name
        if any(n.startswith("--workers is ignored") for n in on_cluster.notes):  # temporal properties
            continue
        parallel += 1
        assert len(on_cluster.stats.workers) == 2
        assert on_cluster.notes[-1] == f"--cluster {cluster.address}: 2 workers on 2 Ray nodes"
        if one.verdict == "holds":
            assert sum(w[0] for w in on_cluster.stats.workers) == one.stats.distinct_states
        assert on_cluster.options["cluster"] == cluster.address
    assert parallel == len(CASES) - 1
    assert not ray.is_initialized()  # each run closes the connection it made

    # without --workers: one worker per CPU the cluster offers
    path = str(ROOT / "specs" / "stonith_mutual_broken.ha")
    v = api.verify(path, cluster=cluster.address, invariants=["single_active"])
    assert len(v.stats.workers) == 2
    assert _facts(v) == _facts(api.verify(path, invariants=["single_active"]))

    # more workers than CPUs: a user's error, with a hint, and no connection left open
    with pytest.raises(ClusterError) as err:
        api.verify(str(ROOT / "specs" / "ring_failover_broken.ha"), workers=3, cluster=cluster.address)
    assert "has 2 CPUs" in str(err.value) and "--workers 2" in err.value.hint
    assert not ray.is_initialized()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def started():
    """The README's recipe on loopback: `ray start --head`, then `ray start --address`
    for a second node (each in the foreground, --block, in its own session so that
    stopping it stops its node's processes). Yields the head's address."""
    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    port = _free_port()
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    procs = [subprocess.Popen([ray_cli, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
                              **quiet)]
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "ray start --head did not come up"
                time.sleep(0.2)
        procs.append(subprocess.Popen([ray_cli, "start", f"--address={address}", *common], **quiet))
        while _cpus(ray_cli, address) < 2:  # the second node has joined
            assert time.monotonic() < deadline, "ray start --address did not join"
            time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            _signal_group(p, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:  # `ray start --block` takes its time to stop its node
                pass
            _signal_group(p, signal.SIGKILL)  # what of its node is left
            p.wait()


def _signal_group(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:  # the whole group has ended
        pass


def _cpus(ray_cli: str, address: str) -> float:
    out = subprocess.run([ray_cli, "status", f"--address={address}"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().endswith("CPU") and "/" in line:
            return float(line.split("/")[1].split()[0])
    return 0.0


def test_the_readme_recipe_gives_the_one_process_report(started):
    spec = str(ROOT / "specs" / "ring_failover_broken.ha")
    env = {**os.environ, "RAY_ADDRESS": started}
    run = [sys.executable, "-m", "modelcheck", "verify", spec, "--format", "json"]
    one = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    many = subprocess.run(run + ["--cluster"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert (one.returncode, many.returncode) == (1, 1), many.stderr
    a, b = json.loads(one.stdout), json.loads(many.stdout)
    assert b["options"]["cluster"] == started and b["options"]["workers"] == 2  # one per CPU of the two nodes
    assert len(b["stats"]["workers"]) == 2
    assert b["notes"] == a["notes"] + [f"--cluster {started}: 2 workers on 2 Ray nodes"]
    for doc in (a, b):
        doc.pop("notes")
        doc["stats"].pop("seconds"), doc["stats"].pop("states_per_second"), doc["stats"].pop("workers", None)
        doc["options"].pop("cluster", None), doc["options"].pop("workers", None)
    assert a == b
    text = subprocess.run(run[:-2] + ["--cluster", started], capture_output=True, text=True, cwd=ROOT)
    assert "workers: 2 processes; states owned" in text.stdout and "KiB)" in text.stdout, text.stderr


def test_no_cluster_at_the_address_exits_2_with_a_hint():
    proc = subprocess.run([sys.executable, "-m", "modelcheck", "verify", str(ROOT / "specs" / "ring_failover_broken.ha"),
                           "--cluster", "127.0.0.1:1"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot reach a Ray cluster at 127.0.0.1:1" in proc.stderr
    assert "hint: start one with `ray start --head`" in proc.stderr
    assert "Traceback" not in proc.stderr
