"""The fingerprint-mode stores (engine/visited.py, engine/frontier.py): the same
answers as a dict and a list, and the same searches, with parent links and large
levels on disk."""
from __future__ import annotations

import random
import re

import pytest

from conftest import ROOT

from modelcheck.engine import frontier
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.frontier import SpillingLevel
from modelcheck.engine.visited import DiskFingerprints, FingerprintSet, ParentLog, fingerprint_budget

from test_packed import _model, _same


def test_fingerprint_set_answers_as_a_dict_through_growth():
    rng = random.Random(7)
    keys = [rng.getrandbits(64) - (1 << 63) for _ in range(20_000)] + [0, -1, 2, -(1 << 63), (1 << 63) - 1]
    fs, ref = FingerprintSet(capacity=8), {}
    parent = None
    for k in keys + keys[:5000]:  # repeats: the second time is a hit
        assert (k in fs) == (k in ref)
        if k not in ref:
            fs[k] = parent
            ref[k] = parent
            parent = k
        assert len(fs) == len(ref)
    # 0 and 1 share a slot (0 marks an empty one): one collision, inside the birthday bound
    assert len(fs) == len(ref)
    for k in rng.sample(keys, 200):
        assert fs[k] == ref[k]
    assert 8 * len(fs) <= fs.bytes_used() <= 8 * len(fs) / 0.5  # 50-75% full


def test_zero_and_one_are_one_fingerprint():
    fs = FingerprintSet()
    fs[0] = None
    assert 1 in fs and 0 in fs
    assert len(fs) == 1


def test_parent_log_chains_back_through_flushed_records(monkeypatch):
    monkeypatch.setattr(ParentLog, "BUFFER", 3)  # most records on disk
    log = ParentLog()
    rng = random.Random(1)
    keys = [rng.getrandbits(64) - (1 << 63) for _ in range(500)]
    parent_of = {keys[0]: None}
    log.append(keys[0], None)
    for i, k in enumerate(keys[1:], 1):
        p = keys[rng.randrange(i)]  # a parent found earlier, as in a search
        parent_of[k] = p
        log.append(k, p)
    for k in rng.sample(keys, 50):
        chain, cur = [k], k
        while parent_of[cur] is not None:
            cur = parent_of[cur]
            chain.append(cur)
        assert log.chain(k) == chain
        assert log.parent(k) == parent_of[k]
    with pytest.raises(KeyError):
        log.parent(12345)
    log.close()


def test_a_key_that_straddles_two_records_is_not_found():
    # a fingerprint whose bytes appear across a record boundary must not match
    log = ParentLog()
    log.append(0x1111111111111111, None)
    log.append(0x2222222222222222, 0x1111111111111111)
    straddle = int.from_bytes(((0x1111111111111111).to_bytes(8, "little")[4:] +
                               (0x2222222222222222).to_bytes(8, "little")[:4]), "little", signed=True)
    with pytest.raises(KeyError):
        log.parent(straddle)
    assert log.chain(0x2222222222222222) == [0x2222222222222222, 0x1111111111111111]


def test_a_spilling_level_iterates_in_order_and_samples_evenly(monkeypatch):
    monkeypatch.setattr(frontier, "CHUNK", 7)
    level = SpillingLevel(spill_at=50)
    states = [(i, b"x" * (i % 5), (i, i)) for i in range(1234)]
    for s in states:
        level.append(s)
    assert level.spilled > 0 and len(level) == len(states) and level
    assert list(level) == states
    assert list(level) == states  # iteration does not consume
    level.append((-1,))
    assert list(level)[-1] == (-1,) and len(level) == 1235
    sample = level.sample(10)
    assert 0 < len(sample) <= 1235 and all(s in states or s == (-1,) for s in sample)
    assert len(sample) >= 50
    assert list(level.consume()) == states + [(-1,)]
    assert len(level) == 0 and not level


@pytest.mark.parametrize("name", ["majority_election.ha", "raft_membership_fixed.ha", "two_phase_commit_broken.ha"])
@pytest.mark.parametrize("packed", [True, False])
def test_fingerprint_search_with_spilled_levels_matches_exact(monkeypatch, name, packed):
    """Levels of more than 40 states go to disk, parent links all on disk: counts,
    verdict and trace are exact mode's."""
    monkeypatch.setattr(frontier, "SPILL_AT", 40)
    monkeypatch.setattr(frontier, "CHUNK", 16)
    monkeypatch.setattr(ParentLog, "BUFFER", 5)
    used = {"spills": 0, "flushes": 0}  # the disk paths really ran (not only the memory ones)
    spill, flush = SpillingLevel._spill, ParentLog._flush

    def counted_spill(self):
        used["spills"] += 1
        spill(self)

    def counted_flush(self):
        used["flushes"] += bool(self._keys)
        flush(self)
    monkeypatch.setattr(SpillingLevel, "_spill", counted_spill)
    monkeypatch.setattr(ParentLog, "_flush", counted_flush)
    model = _model(name)
    for collect in (False, True):
        exact = explore(model, Options(max_states=20_000, collect_all=collect, packed=packed))
        fp = explore(model, Options(max_states=20_000, collect_all=collect, packed=packed, fingerprints=True))
        _same(exact, fp)
    assert used["flushes"] > 0
    if packed:  # levels spill only in the packed search (State objects are not marshalled)
        assert used["spills"] > 0


# ---- the fingerprint table on disk (FingerprintSet(memory=...), DiskFingerprints) ----

def test_a_fingerprint_set_with_a_memory_budget_answers_as_a_set():
    """A table of 64 slots spills to the sorted file again and again: every add says
    whether the key was new exactly as a set does, every key stays a member, absent
    keys stay absent, and the table never passes its budget."""
    rng = random.Random(11)
    keys = [rng.getrandbits(64) - (1 << 63) for _ in range(5_000)] + [0, 1, -1, 2, -(1 << 63), (1 << 63) - 1]
    keys += rng.sample(keys, 2_000)  # repeats, some of them long since on disk
    rng.shuffle(keys)
    fs, ref = FingerprintSet(memory=8 * 64), set()
    for h in keys:
        assert fs.add(h, None) == ((h or 1) not in ref)
        ref.add(h or 1)
        assert fs.table_bytes <= 8 * 64
    assert fs.spilled and len(fs) == len(ref) and len(fs.disk) < len(ref)
    assert all(h in fs for h in ref) and 0 in fs
    absent = [h for h in (rng.getrandbits(64) - (1 << 63) for _ in range(3_000)) if h not in ref]
    assert not any(h in fs for h in absent)
    # the parent log is untouched by the spills: a chain still walks back
    chained = FingerprintSet(memory=8 * 16)
    prev = None
    for h in range(1, 200):
        chained[h] = prev
        prev = h
    assert chained.spilled and chained.chain(199) == list(range(199, 0, -1))
    chained.clear()
    assert not chained.spilled and len(chained) == 0
    fs.clear()


@pytest.mark.parametrize("page, block", [(5, 7), (1024, 1 << 16)])
def test_disk_fingerprints_merge_runs_into_one_sorted_file(monkeypatch, tmp_path, page, block):
    """Runs of every size (empty to several blocks) merge into one sorted file whose
    index finds every key, before the first key, between keys and past the last."""
    import tempfile
    from array import array

    monkeypatch.setattr(DiskFingerprints, "PAGE", page)
    monkeypatch.setattr(DiskFingerprints, "BLOCK", block)
    rng = random.Random(5)
    pool = rng.sample(range(-10 ** 6, 10 ** 6, 2), 3_000)  # even numbers: odd ones are absent
    disk, stored = DiskFingerprints(str(tmp_path)), []
    for size in (0, 1, 13, 700, 1, 2_000, 285):
        chunk, pool = pool[:size], pool[size:]
        runs = []
        for part in (chunk[: size // 2], chunk[size // 2:]):
            f = tempfile.TemporaryFile(dir=str(tmp_path))
            array("q", sorted(part)).tofile(f)
            runs.append((f, len(part)))
        disk.merge(runs)
        stored += chunk
        assert len(disk) == len(stored)
        assert list(disk._keys) == sorted(stored)
    assert all(h in disk for h in stored)
    assert not any(h + 1 in disk for h in stored)
    assert -(1 << 63) not in disk and (1 << 63) - 1 not in disk
    disk.close()
    assert len(disk) == 0 and 0 not in disk


@pytest.mark.parametrize("name", ["majority_election.ha", "lease_lock_broken.ha", "two_phase_commit_broken.ha"])
@pytest.mark.parametrize("packed", [True, False])
def test_fingerprint_search_with_the_table_on_disk_matches_exact(name, packed):
    """A fingerprint table of 64 slots: most fingerprints live in the sorted file, so
    most lookups go to disk; counts, verdict, first violation and every trace are
    exact mode's, and the summary says how many went to disk."""
    model = _model(name)
    for collect in (False, True):
        exact = explore(model, Options(max_states=8_000, collect_all=collect, packed=packed))
        fp = explore(model, Options(max_states=8_000, collect_all=collect, packed=packed, fingerprints=True,
                                    fingerprint_memory=8 * 64))
        _same(exact, fp)
        assert fp.stats.fingerprints_on_disk and fp.stats.fingerprints_on_disk > exact.stats.distinct_states // 2


def test_fingerprint_budget_defaults_to_a_quarter_of_the_memory_limit():
    assert fingerprint_budget(Options(memory_limit=4 << 30)) == 1 << 30
    assert fingerprint_budget(Options(memory_limit=4 << 30, fingerprint_memory=1 << 20)) == 1 << 20
    assert fingerprint_budget(Options()) is None


def test_workers_with_the_fingerprint_table_on_disk_match_one_process():
    from modelcheck import api

    spec = str(ROOT / "specs" / "majority_election.ha")
    one = api.verify(spec, symmetry=False, fingerprints=True, memory_limit=None)
    two = api.verify(spec, symmetry=False, fingerprints=True, memory_limit=None, fingerprint_memory=8 * 64, workers=2)
    assert (two.verdict, two.stats.distinct_states, two.stats.transitions, two.stats.depth) == \
        (one.verdict, one.stats.distinct_states, one.stats.transitions, one.stats.depth)
    assert one.stats.fingerprints_on_disk is None  # no budget without a memory limit
    assert two.stats.fingerprints_on_disk > one.stats.distinct_states // 2  # summed over the workers


def test_cli_reports_the_fingerprints_on_disk(monkeypatch):
    """The header line and the JSON field (which validates against the schema); the
    option needs --fingerprints and a size."""
    import json

    from click.testing import CliRunner

    from modelcheck import cli as cli_module
    from modelcheck.engine import explorer
    from schema_check import errors

    monkeypatch.setattr(explorer, "fingerprint_budget", lambda options: 8 * 64)
    spec = str(ROOT / "specs" / "majority_election.ha")
    out = CliRunner().invoke(cli_module.cli, ["verify", spec, "--no-symmetry", "--fingerprints", "--max-states", "5000"])
    assert out.exit_code == 3, out.output
    assert re.search(r"fingerprints: [\d,]+ of them in a sorted file on disk", out.output)
    out = CliRunner().invoke(cli_module.cli, ["verify", spec, "--no-symmetry", "--fingerprints", "--format", "json",
                                              "--max-states", "5000"])
    doc = json.loads(out.output)
    assert doc["stats"]["fingerprints_on_disk"] > 2_000 and errors(doc) == []
    for args, message in ((["--fingerprint-memory", "1G"], "add --fingerprints"),
                          (["--fingerprints", "--fingerprint-memory", "none"], "give a size"),
                          (["--fingerprints", "--fingerprint-memory", "12Q"], "fingerprint-memory")):
        out = CliRunner().invoke(cli_module.cli, ["verify", spec, *args])
        assert out.exit_code == 2 and message in out.output, out.output
