"""The partitioned search on worker processes (modelcheck/engine/parallel) against
the one-process packed search.

With any number of workers the search must report what one process reports: the
same distinct states, transitions and depth, verdict, first violation and its
step-for-step trace, every invariant's first violation (--collect, as the matrix
uses it), measures with their witness traces, symmetry's unreduced count, and the
same stop at --max-states (inside a level) and --max-depth. Compared on every
example spec and on the random specs of test_reduction_random.py, in plain,
symmetry and fingerprint modes; and the pieces that make it possible (value hashes
that ignore the hash seed, owners that ignore renaming, batches that translate ids).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, pipeline, run_cli, run_until_signal
from test_reduction_random import SEEDS, make_spec

from modelcheck.engine import compact, packed
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.parallel.wire import Inbox, Outbox, Owner
from modelcheck.engine.parallel.worker import Worker
from modelcheck.engine.stable import stable_hash
from modelcheck.engine.symmetry import PackedSymmetry, Symmetry
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.lang.parser import parse
from modelcheck.engine.model import build

SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))
CAP = 2_000  # states per comparison: both searches stop at the same state


def _model(name: str, consts: dict | None = None):
    path = ROOT / "specs" / name
    source = Source(str(path), path.read_text())
    checked = check(parse(source), consts or {})
    return build(checked, source, invariant_names=[d.name for d in checked.invariants] or None)


def _measures(r) -> list:
    return [(m.name, m.complete) + tuple((e.value, e.trace) if e else None for e in (m.min, m.max))
            for m in (r.measures or [])]


def _same(a, b) -> None:
    assert (a.verdict, a.stop_reason) == (b.verdict, b.stop_reason)
    assert (a.stats.distinct_states, a.stats.transitions, a.stats.depth, a.stats.states_without_symmetry) == \
        (b.stats.distinct_states, b.stats.transitions, b.stats.depth, b.stats.states_without_symmetry)
    assert (a.violation.message if a.violation else None) == (b.violation.message if b.violation else None)
    assert a.trace == b.trace
    assert list(a.findings) == list(b.findings)
    for name, f in a.findings.items():
        assert f.trace == b.findings[name].trace, name
    assert _measures(a) == _measures(b)
    assert a.collision_probability == b.collision_probability


def _compare(model, workers: int = 2, **kw):
    one = explore(model, Options(**kw))
    many = explore(model, Options(workers=workers, **kw))
    _same(one, many)
    if any("--workers is ignored" in n for n in many.notes):  # properties: one process
        assert many.stats.workers is None
    else:
        assert many.stats.workers is not None and len(many.stats.workers) == workers
        if many.verdict == "holds":
            assert sum(w[0] for w in many.stats.workers) == many.stats.distinct_states
    return one, many


@pytest.mark.parametrize("name", SPECS)
def test_example_specs_same_with_two_workers(name):
    model = _model(name)
    _compare(model, max_states=CAP)
    _compare(model, max_states=CAP, symmetry=True)
    if name in MODES_SPECS:  # every mode on a few (the whole suite's time is bounded)
        _compare(model, max_states=CAP, collect_all=True)
        _compare(model, max_states=CAP, fingerprints=True)


MODES_SPECS = {"majority_election.ha", "ring_failover_broken.ha", "two_phase_commit_broken.ha",
               "kafka_hw_truncation_broken.ha", "lease_lock_broken.ha", "replication_lag_measures.ha",
               "stale_read_history_broken.ha", "three_phase_commit_broken.ha"}


@pytest.fixture
def compact_workers(monkeypatch, tmp_path):
    """Every worker goes over to compact keys (engine/compact.py) at the end of its
    first level, as if its memory ran short; returns a function telling whether some
    worker process (not this one) did."""
    made = tmp_path / "codecs"
    base = compact.Codec

    class Spy(base):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            with open(made, "a") as f:
                f.write(f"{os.getpid()}\n")

    monkeypatch.setattr(compact, "Codec", Spy)
    monkeypatch.setattr(compact, "RATIO", float("inf"))  # (the one-process search keeps tuples)
    monkeypatch.setattr(Worker, "_memory_short", lambda self: True)

    def in_a_worker(codecs: int = 1) -> bool:
        """Whether a worker process made `codecs` codecs (two: it widened its keys)."""
        pids = made.read_text().split() if made.exists() else []
        return any(pids.count(pid) >= codecs for pid in set(pids) if int(pid) != os.getpid())
    return in_a_worker


@pytest.mark.parametrize("symmetry", [True, False])
@pytest.mark.parametrize("name", SPECS)
def test_example_specs_same_with_workers_on_compact_keys(compact_workers, name, symmetry):
    """A worker's states under compact keys (Worker._go_compact: under symmetry, or
    plain, the visited dict keyed by them) give the one-process search's counts,
    verdicts, violations and traces."""
    model = _model(name)
    one, many = _compare(model, max_states=CAP, symmetry=symmetry)
    if (one.symmetric_roles or not symmetry) and not getattr(model, "measures", None) and \
            many.stats.depth >= 5 and many.stats.workers and all(w[0] for w in many.stats.workers):
        assert compact_workers()


def test_workers_widen_their_keys_when_ids_outgrow_them(compact_workers, monkeypatch):
    """With one-byte ints in the keys' common form (compact.NARROW), the node ids of
    this election outgrow them within CAP states: a worker goes over to wider keys
    (Worker._go_compact with the narrow codec) and the search stays the same."""
    monkeypatch.setattr(compact, "NARROW", ("b", "B"))
    _compare(_model("majority_election_proof.ha"), max_states=CAP, symmetry=True)
    assert compact_workers(codecs=2)


@pytest.mark.parametrize("seed", SEEDS[:30])
def test_random_specs_same_with_workers_on_compact_keys(compact_workers, seed):
    _compare(pipeline(make_spec(seed)), workers=2 + seed % 2, symmetry=True, max_states=CAP)


@pytest.mark.parametrize("seed", SEEDS[:30])
def test_random_specs_same_with_workers(seed):
    model = pipeline(make_spec(seed))
    if seed % 2:
        _compare(model, collect_all=True, max_states=CAP)
    else:
        _compare(model, workers=3, symmetry=True, max_states=CAP)


@pytest.mark.parametrize("bound", [1, 2, 7, 100, 1_000])
def test_the_state_bound_falls_inside_a_level_at_the_same_state(bound):
    model = _model("majority_election.ha")
    one, many = _compare(model, workers=3, max_states=bound)
    assert one.stop_reason == "max-states" and many.stats.distinct_states == max(bound, 2)


def test_depth_bound_and_three_workers():
    model = _model("majority_election.ha")
    for depth in (0, 1, 4):
        _compare(model, workers=3, max_depth=depth)
    _compare(_model("two_phase_commit_fixed.ha"), workers=3, max_depth=40)  # nothing cut off: holds


def test_complete_runs_match_symmetry_and_counts():
    """A complete run: symmetry's orbit count and every measure's range and traces."""
    _compare(_model("replication_lag_measures.ha"), workers=2)
    _compare(_model("replication_lag_measures.ha"), workers=3, symmetry=True)
    one, many = _compare(pipeline((ROOT / "tests/regression/two_phase.ha").read_text()), workers=2, symmetry=True)
    assert one.verdict == "holds" and many.stats.states_without_symmetry is not None


def test_a_run_time_error_step_is_found_at_the_same_place():
    from test_packed import ERROR
    model = pipeline(ERROR)
    one, _ = _compare(model, workers=2)
    assert one.violation.kind == "runtime_error"
    _compare(model, workers=3, collect_all=True, max_states=CAP)


def test_properties_and_pruning_run_in_one_process_with_a_note():
    model = _model("majority_election.ha", {"LOSS": 0})
    r = explore(model, Options(workers=2, prune=True, max_states=500))
    assert r.stats.workers is None
    assert any("--workers is ignored" in n for n in r.notes)


# ---- the pieces ------------------------------------------------------------------

VALUE = (frozenset({("a", 1), ("b", (True, None))}), "leader", -3, (2, frozenset()), b"\x01")


def test_stable_hash_does_not_depend_on_the_hash_seed():
    code = ("from modelcheck.engine.stable import stable_hash; "
            f"print(stable_hash({VALUE!r}), hash('leader') % 1000)")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.split() for seed in ("1", "2")]
    assert outs[0][0] == outs[1][0] == str(stable_hash(VALUE))
    assert outs[0][1] != outs[1][1]  # while Python's own hash of the string changed
    assert stable_hash(False) == stable_hash(0) and stable_hash((True,)) == stable_hash((1,))
    assert stable_hash(frozenset({1, 2})) != stable_hash(frozenset({1, 3}))


def _sample(pm, canon=None, limit=400):
    init = pm.initial if canon is None else canon(pm.initial)
    seen, level = {init}, [init]
    while level and len(seen) < limit:
        nxt = []
        for s in level:
            for t in pm.successors(s):
                if t is not None:
                    t = t if canon is None else canon(t)
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
        level = nxt
    return list(seen)


def test_owner_is_the_same_for_every_renaming_and_every_process():
    model = _model("ring_failover_broken.ha")
    roles = model.symmetric_roles()
    pm = packed.PackedModel(model)
    sym = Symmetry(model, roles)
    psym = PackedSymmetry(pm, sym)
    owner = Owner(pm, sym, 7)
    states = _sample(pm, psym.canon)
    for p in states:
        owners = set()
        for perm in itertools.permutations(sym.groups[0]):
            pi = list(range(pm.k))
            for a, b in zip(sym.groups[0], perm):
                pi[a] = b
            owners.add(owner(psym.rename(p, tuple(pi))))
        assert len(owners) == 1
    # another process interns the same values in another order: same owners, same representatives
    pm2 = packed.PackedModel(model)
    psym2 = PackedSymmetry(pm2, Symmetry(model, roles))
    values = [pm.unpack(p) for p in states]
    for st in random.Random(3).sample(values, len(values)):
        pm2.pack(st)
    owner2 = Owner(pm2, Symmetry(model, roles), 7)
    for p, st in zip(states, values):
        q = pm2.pack(st)
        assert owner2(q) == owner(p)
        assert pm2.unpack(psym2.canon(q)) == pm.unpack(psym.canon(p))


@pytest.mark.parametrize("name", ["majority_election.ha", "kafka_hw_truncation_broken.ha", "lease_lock_broken.ha"])
def test_a_batch_arrives_as_the_same_states(name):
    model = _model(name)
    a, b = packed.PackedModel(model), packed.PackedModel(model)
    states = _sample(a)
    for st in random.Random(5).sample([a.unpack(p) for p in states], len(states)):
        b.pack(st)  # b interns in another order
    out, inbox = Outbox(a), Inbox(b)
    half = len(states) // 2
    for chunk in (states[:half], states[half:]):  # the second batch carries only new values
        keys, got = inbox.open(out.seal(list(range(len(chunk))), chunk))
        assert keys == list(range(len(chunk)))
        assert [b.unpack(q) for q in got] == [a.unpack(p) for p in chunk]
        assert got == [b.pack(a.unpack(p)) for p in chunk]


def test_a_batch_keeps_ids_the_workers_share_and_translates_the_rest():
    """Batches translate a part at a time: parts whose ids the two workers gave out
    in the same order pass untouched, bytes networks go through one translate table
    (and are sorted again when it does not keep their order), str networks (ids past
    255) through the general path; the states must come out as the receiver's own
    packing of the same values, in every case."""
    from test_packed import COUNTING_READER, WIDE
    model = pipeline(WIDE.format(mode="unordered", reader=COUNTING_READER, faults="loss at most 1"))
    for order in ("same", "one byte shuffled", "shuffled"):
        a, b = packed.PackedModel(model), packed.PackedModel(model)
        states = _sample(a, limit=3000)
        values = [a.unpack(p) for p in states]
        if order == "one byte shuffled":  # a's one-byte messages are b's, in another order
            head = a.msgs.values[:200]
            for m in random.Random(7).sample(head, len(head)):
                b.msgs.id(m)
        if order == "shuffled":  # b interns in another order: nothing is the same id
            for st in random.Random(7).sample(values, len(values)):
                b.pack(st)
        assert max(len(a.msgs.values), len(b.msgs.values)) > 256
        assert {type(p[a.k + 1]) for p in states} == {bytes, str}
        out, inbox = Outbox(a), Inbox(b)
        for chunk in (states[:100], states[100:1500], states[1500:]):
            keys, got = inbox.open(out.seal(list(range(len(chunk))), chunk))
            assert got == [b.pack(a.unpack(p)) for p in chunk]
        if order == "same":
            assert inbox.same["nodes"] == len(a.nodes.values) and inbox.same["msgs"] == len(a.msgs.values)
        elif order == "one byte shuffled":
            assert inbox._bytes_map is not None and not inbox._monotone
        else:
            assert inbox.same["msgs"] < 256


# ---- the command line ------------------------------------------------------------

def _strip(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith(("Result:", "workers:")))


def test_cli_workers_same_report_and_json():
    one = run_cli("verify", "specs/ring_failover_broken.ha")
    two = run_cli("verify", "specs/ring_failover_broken.ha", "--workers", "2")
    assert one.returncode == two.returncode == 1
    assert _strip(one.stdout) == _strip(two.stdout)
    assert "workers: 2 processes; states owned" in two.stdout
    assert one.stdout.splitlines()[-1].split(" · ")[:4] == two.stdout.splitlines()[-1].split(" · ")[:4]
    doc = json.loads(run_cli("verify", "specs/ring_failover_broken.ha", "--workers", "2",
                             "--format", "json").stdout)
    assert doc["options"]["workers"] == 2 and len(doc["stats"]["workers"]) == 2
    from schema_check import errors
    assert errors(doc) == []
    assert set(doc["stats"]["workers"][0]) == {"states", "sent", "received", "bytes_sent"}
    assert "workers" not in json.loads(run_cli("verify", "specs/ring_failover_broken.ha",
                                               "--format", "json").stdout)["options"]
    bad = run_cli("verify", "specs/ring_failover_broken.ha", "--workers", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


BIG = ["bench/models/two_phase.ha", "--const", "RM=9", "--no-symmetry", "--workers", "2"]


def _children(pid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return out.split()


def test_timeout_with_workers_prints_the_summary():
    p = run_cli("verify", *BIG, "--timeout", "2")
    assert p.returncode == 3, p.stderr
    assert "Result: INCOMPLETE (timeout)" in p.stdout and "workers: 2 processes" in p.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_the_workers_with_a_summary(sig):
    workers = []

    def ready(proc):  # both workers started, and a little searching done
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)
        workers.extend(_children(proc.pid))

    proc, out, err = run_until_signal(["verify", *BIG], sig, ready)
    assert proc.returncode == 3, err
    assert "Result: INCOMPLETE (interrupted)" in out
    assert "Traceback" not in err
    time.sleep(0.5)
    alive = [w for w in workers if os.path.exists(f"/proc/{w}") and
             "Z" not in open(f"/proc/{w}/stat").read().split()[2]]
    assert not alive, f"workers left running: {alive}"
