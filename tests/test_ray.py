"""The partitioned search on a Ray cluster (`verify --cluster`) against one process.

The cluster is a real multi-node Ray cluster on loopback (ray.cluster_utils.Cluster:
a head and a second node, each with its own raylet, as two machines would have),
started and stopped by this module. Each worker is an actor that builds the model
again from the spec's text, so these tests also show that a worker elsewhere builds
the same model as the search (its reductions, dead-message rules and all).

Skipped when Ray is not installed (it is in the `test` extra, so CI runs them).
The tests share one cluster and run in one xdist group; starting it takes about
ten seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

ray = pytest.importorskip("ray")

from modelcheck import api  # noqa: E402
from modelcheck.engine.parallel.ray_pool import ClusterError  # noqa: E402

pytestmark = pytest.mark.xdist_group("ray")

# (spec, options): plain and symmetric, violated and holding, pruned (dead messages,
# partitions left out) and not, a bound inside a level
CASES = [
    ("ring_failover_broken.ha", {}),
    ("ring_failover_fixed.ha", {"max_states": 2_000}),
    ("majority_election.ha", {}),
    ("two_phase_commit_broken.ha", {"invariants": ["atomicity", "commit_needs_unanimous_yes"]}),
    ("two_phase_commit_fixed.ha", {"symmetry": False, "max_states": 3_000, "invariants": ["atomicity"]}),
    ("stonith_mutual_fixed.ha", {"max_states": 1_500, "invariants": ["single_active"]}),
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
        if one.verdict == "holds":
            assert sum(w[0] for w in on_cluster.stats.workers) == one.stats.distinct_states
        assert on_cluster.options["cluster"] == cluster.address
    assert parallel == len(CASES) - 1
    assert not ray.is_initialized()  # each run closes the connection it made


def test_cluster_defaults_to_one_worker_per_cpu_and_collects(cluster):
    path = str(ROOT / "specs" / "stonith_mutual_broken.ha")
    v = api.verify(path, cluster=cluster.address, invariants=["single_active"])
    assert len(v.stats.workers) == 2  # the cluster's two CPUs
    assert _facts(v) == _facts(api.verify(path, invariants=["single_active"]))


def test_cluster_cli_prints_the_same_report(cluster):
    spec = str(ROOT / "specs" / "ring_failover_broken.ha")
    env = {**os.environ, "RAY_ADDRESS": cluster.address}
    run = [sys.executable, "-m", "modelcheck", "verify", spec, "--format", "json"]
    one = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    many = subprocess.run(run + ["--cluster", "--workers", "2"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert (one.returncode, many.returncode) == (1, 1), many.stderr
    a, b = json.loads(one.stdout), json.loads(many.stdout)
    assert b["options"]["cluster"] == cluster.address and b["options"]["workers"] == 2
    for doc in (a, b):
        doc["stats"].pop("seconds"), doc["stats"].pop("states_per_second"), doc["stats"].pop("workers", None)
        doc["options"].pop("cluster", None), doc["options"].pop("workers", None)
    assert a == b
    text = subprocess.run(run[:-2] + ["--cluster", cluster.address, "--workers", "2"], capture_output=True, text=True,
                          cwd=ROOT)
    assert "workers: 2 processes; states owned" in text.stdout and "KiB)" in text.stdout


def test_too_many_workers_for_the_cluster_is_a_users_error(cluster):
    with pytest.raises(ClusterError) as err:
        api.verify(str(ROOT / "specs" / "ring_failover_broken.ha"), workers=3, cluster=cluster.address)
    assert "has 2 CPUs" in str(err.value) and "--workers 2" in err.value.hint
    assert not ray.is_initialized()


def test_no_cluster_at_the_address_exits_2_with_a_hint():
    proc = subprocess.run([sys.executable, "-m", "modelcheck", "verify", str(ROOT / "specs" / "ring_failover_broken.ha"),
                           "--cluster", "127.0.0.1:1"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot reach a Ray cluster at 127.0.0.1:1" in proc.stderr
    assert "hint: start one with `ray start --head`" in proc.stderr
    assert "Traceback" not in proc.stderr
