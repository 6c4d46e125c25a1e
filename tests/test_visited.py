"""The fingerprint-mode stores (engine/visited.py, engine/frontier.py): the same
answers as a dict and a list, and the same searches, with parent links and large
levels on disk."""
from __future__ import annotations

import random

import pytest

from modelcheck.engine import frontier
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.frontier import SpillingLevel
from modelcheck.engine.visited import FingerprintSet, ParentLog

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
