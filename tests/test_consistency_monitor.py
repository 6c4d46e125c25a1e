"""The incremental consistency checks (modelcheck.consistency) on hand-made
histories with known answers, and against a brute-force checker on random small
histories (tests/consistency_brute.py): after every event, each check's verdict
must be the brute force's on that prefix (and every shorter one: a violation is
reported at the first event that makes the history impossible)."""
from __future__ import annotations

import random

import pytest

import consistency_brute as brute
from modelcheck.consistency.monitor import CHECKS, READ, WRITE, Misuse, RegisterMonitor

KINDS = {"w": WRITE, "r": READ}


def run(events, keys=(None,), init=0, checks=CHECKS):
    """Each check's verdict after every event."""
    m = RegisterMonitor("x", keys != (None,), tuple(keys), init, frozenset(checks))
    state = m.initial()
    out = []
    for client, what, kind, key, value in events:
        ki = m.key_index(key)
        if what == "invoke":
            state = m.invoke(state, client, KINDS[kind], ki, value if kind == "w" else None)
        else:
            state = m.complete(state, client, KINDS[kind], value if kind == "r" else None)
        out.append({c: m.holds(state, c) for c in checks})
    return out


def W(c, v, k=None):
    return [(c, "invoke", "w", k, v), (c, "complete", "w", k, None)]


def R(c, v, k=None):
    return [(c, "invoke", "r", k, None), (c, "complete", "r", k, v)]


def inv(c, kind, v=None, k=None):
    return (c, "invoke", kind, k, v)


def done(c, kind, v=None, k=None):
    return (c, "complete", kind, k, v)


# (name, events, expected verdicts at the end of the checks in FIRST: linearizable,
# sequentially consistent, read your writes, monotonic reads)
FIRST = CHECKS[:4]
CASES = [
    ("empty read of the initial value", R(0, 0), (True, True, True, True)),
    ("read of a value never written", R(0, 7), (False, False, True, True)),
    # the classic stale read: a write completes, a later read returns the old value
    ("stale read after an acknowledged write", W(0, 1) + R(1, 0), (False, True, True, True)),
    # a read concurrent with a write may return either value
    ("read concurrent with a write, old value", [inv(0, "w", 1), inv(1, "r"), done(1, "r", 0), done(0, "w")],
     (True, True, True, True)),
    ("read concurrent with a write, new value", [inv(0, "w", 1), inv(1, "r"), done(1, "r", 1), done(0, "w")],
     (True, True, True, True)),
    # two reads during one pending write: once one sees the new value, a later one cannot see the old
    ("new-then-old during a pending write",
     [inv(0, "w", 1), *R(1, 1), *R(2, 0)], (False, True, True, True)),
    ("old-then-new during a pending write",
     [inv(0, "w", 1), *R(1, 0), *R(2, 1)], (True, True, True, True)),
    # the same client: new then old is also a monotonic-reads violation
    ("one client reads new then old", [inv(0, "w", 1), *R(1, 1), *R(1, 0)], (False, False, True, False)),
    # a client that does not see its own write
    ("own write not seen", W(0, 1) + R(0, 0), (False, False, False, True)),
    # two concurrent writes; reads must agree on one order
    ("concurrent writes, readers disagree on order",
     [inv(0, "w", 1), inv(1, "w", 2), *R(2, 1), *R(2, 2), *R(3, 2), *R(3, 1)], (False, False, True, False)),
    # they agree on the order, but the second reader starts after the first saw 2
    ("concurrent writes, readers agree but one is late",
     [inv(0, "w", 1), inv(1, "w", 2), *R(2, 1), *R(2, 2), *R(3, 1), *R(3, 2)], (False, True, True, True)),
    ("concurrent writes, overlapping readers agree",
     [inv(0, "w", 1), inv(1, "w", 2), inv(2, "r"), inv(3, "r"), done(2, "r", 1), done(3, "r", 1), *R(2, 2),
      *R(3, 2)], (True, True, True, True)),
    # a write that never completes (its client crashed) may take effect late
    ("crashed writer's write shows up late", [inv(0, "w", 1), *R(1, 0), *R(1, 1), *R(2, 1)],
     (True, True, True, True)),
    # sequentially consistent but not linearizable: a later read sees the older value
    # from another client's point of view
    ("read-your-writes across two clients", W(0, 1) + W(1, 2) + R(0, 2) + R(1, 1),
     (False, False, False, True)),
]


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_known_histories(name):
    _, events, expected = next(c for c in CASES if c[0] == name)
    got = run(events)[-1]
    assert tuple(got[c] for c in FIRST) == expected


# (name, events, expected verdicts at the end: monotonic writes, writes follow reads)
OBSERVED_CASES = [
    # a reader sees the writer's second write, then its first: the writes were not
    # applied in the order the writer made them
    ("second write seen before the first", W(0, 1) + W(0, 2) + R(1, 2) + R(1, 1), (False, True)),
    ("writes seen in the order made", W(0, 1) + W(0, 2) + R(1, 1) + R(1, 2) + R(2, 2), (True, True)),
    # the initial value is not a write of any session: reading it after a write is a
    # lagging replica (a monotonic-reads matter), not out-of-order writes
    ("initial value read after a write", W(0, 1) + W(0, 2) + R(1, 2) + R(1, 0), (True, True)),
    # client 1 read 1 and then wrote 2: 2 must follow 1 for everyone
    ("write seen without the write it followed", W(0, 1) + R(1, 1) + W(1, 2) + R(2, 2) + R(2, 1),
     (True, False)),
    ("unrelated writes seen in any order", W(0, 1) + W(1, 2) + R(2, 2) + R(2, 1), (True, True)),
    ("write follows a read, seen in order", W(0, 1) + R(1, 1) + W(1, 2) + R(2, 1) + R(2, 2), (True, True)),
    ("writes follow reads transitively",
     W(0, 1) + R(1, 1) + W(1, 2) + R(2, 2) + W(2, 3) + R(3, 3) + R(3, 1), (True, False)),
    # each client wrote after reading the other's write, before it was written: no
    # order of the two writes exists
    ("writes following each other's reads", R(0, 2) + R(1, 1) + W(0, 1) + W(1, 2), (True, False)),
    ("keys are ordered separately", W(0, 1, k="a") + W(0, 2, k="b") + R(1, 2, k="b") + R(1, 0, k="a"),
     (True, True)),
]


@pytest.mark.parametrize("name", [c[0] for c in OBSERVED_CASES])
def test_known_histories_writes(name):
    _, events, expected = next(c for c in OBSERVED_CASES if c[0] == name)
    keys = ("a", "b") if any(e[3] is not None for e in events) else (None,)
    got = run(events, keys=keys)[-1]
    assert (got["monotonic_writes"], got["writes_follow_reads"]) == expected


def test_keys_are_independent_for_linearizability():
    events = [inv(0, "w", 1, k="a"), *R(1, 1, k="a"), *R(2, 0, k="b"), done(0, "w", k="a")]
    assert run(events, keys=("a", "b"))[-1]["linearizable"]
    assert not run(events + R(2, 0, k="a"), keys=("a", "b"))[-1]["linearizable"]


def test_misuse():
    m = RegisterMonitor("x", False, (None,), 0, frozenset(CHECKS))
    s = m.invoke(m.initial(), 0, WRITE, 0, 1)
    with pytest.raises(Misuse, match="still pending"):
        m.invoke(s, 0, READ, 0, None)
    with pytest.raises(Misuse, match="pending operation of this node is a write"):
        m.complete(s, 0, READ, 1)
    with pytest.raises(Misuse, match="no operation"):
        m.complete(s, 1, WRITE, None)
    s = m.complete(s, 0, WRITE, None)
    with pytest.raises(Misuse, match="a second time"):
        m.invoke(s, 1, WRITE, 0, 1)


def test_canonical_states_merge_equal_futures():
    """Two histories that allow the same futures give the same monitor state."""
    m = RegisterMonitor("x", False, (None,), 0, frozenset({"linearizable"}))

    def after(events):
        s = m.initial()
        for client, what, kind, key, value in events:
            s = (m.invoke(s, client, KINDS[kind], 0, value) if what == "invoke"
                 else m.complete(s, client, KINDS[kind], value if kind == "r" else None))
        return s
    assert after(W(0, 1) + R(1, 1)) == after(W(0, 1))
    assert after([inv(0, "w", 1), *R(1, 1)]) == after([inv(0, "w", 1), *R(1, 1), *R(2, 1)])
    assert after(R(1, 0)) == after([])
    m = RegisterMonitor("x", False, (None,), 0, frozenset({"writes_follow_reads"}))
    # only the latest versions a client read are kept: 1 is below 2 once 2 follows it
    assert after(W(0, 1) + R(1, 1) + W(1, 2) + R(2, 1) + R(2, 2)) == after(W(0, 1) + R(1, 1) + W(1, 2) + R(2, 2))
    # a failed check is one state, whatever the history
    assert after(W(0, 1) + R(1, 1) + W(1, 2) + R(2, 2) + R(2, 1)) == after(R(0, 2) + R(1, 1) + W(0, 1) + W(1, 2))


def random_history(rng: random.Random, clients=3, keys=(None,), events=8, recent=None):
    """A well-formed random history: one operation at a time per client, distinct
    written values, reads returning values that are plausible (often right); with
    `recent`, one of the last `recent` values written (reads that go back and forth
    between recent writes, where the write-order guarantees break)."""
    pending: dict = {}
    written = [0]
    out = []
    next_value = 1
    for _ in range(events):
        c = rng.randrange(clients)
        if c in pending:
            kind, key = pending.pop(c)
            out.append((c, "complete", kind, key, rng.choice(written[-recent:] if recent else written) if kind == "r" else None))
        else:
            kind, key = rng.choice("wr"), rng.choice(keys)
            pending[c] = (kind, key)
            if kind == "w":
                out.append((c, "invoke", "w", key, next_value))
                written.append(next_value)
                next_value += 1
            else:
                out.append((c, "invoke", "r", key, None))
    return out


@pytest.mark.parametrize("seed", range(150))
def test_against_brute_force(seed):
    rng = random.Random(seed)
    keys = (None,) if seed % 3 else ("a", "b")
    events = random_history(rng, keys=keys, events=rng.randrange(4, 11))
    verdicts = run(events, keys=keys)
    oracle = {"linearizable": brute.linearizable, "sequentially_consistent": brute.sequentially_consistent,
              "read_your_writes": brute.read_your_writes, "monotonic_reads": brute.monotonic_reads,
              "monotonic_writes": brute.monotonic_writes, "writes_follow_reads": brute.writes_follow_reads}
    for check, f in oracle.items():
        ok = True
        for i in range(len(events)):
            ok = ok and f(events[:i + 1])
            assert verdicts[i][check] == ok, (check, i, events[:i + 1])


@pytest.mark.parametrize("seed", range(150))
def test_write_orders_against_brute_force(seed):
    """monotonic_writes and writes_follow_reads on longer histories of reads that go
    back and forth between recent writes (where they break), after every event."""
    rng = random.Random(seed)
    keys = (None,) if seed % 3 else ("a", "b")
    events = random_history(rng, clients=2, keys=keys, events=rng.randrange(10, 21), recent=2)
    verdicts = run(events, keys=keys, checks=("monotonic_writes", "writes_follow_reads"))
    for check in ("monotonic_writes", "writes_follow_reads"):
        ok = True
        for i in range(len(events)):
            ok = ok and getattr(brute, check)(events[:i + 1])
            assert verdicts[i][check] == ok, (check, i, events[:i + 1])


def test_write_orders_random_histories_cover_both_verdicts():
    """The differential test above is not vacuous: both checks fail on some seeds."""
    failed = set()
    for seed in range(150):
        rng = random.Random(seed)
        keys = (None,) if seed % 3 else ("a", "b")
        events = random_history(rng, clients=2, keys=keys, events=rng.randrange(10, 21), recent=2)
        failed |= {c for c, ok in run(events, keys=keys)[-1].items() if not ok}
    assert {"monotonic_writes", "writes_follow_reads"} <= failed
