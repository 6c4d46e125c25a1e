"""Gallery of real HA failures: leases (case 5, and case 4's Consul lease variant).

Case 5 (Kleppmann 2016): a client holding a lease-based lock pauses (GC), its
lease expires, another client takes the lock and writes, and the first client
resumes and writes over the newer write. The broken spec's shortest
counterexample is pinned step by step, and the case's own trace (a pause longer
than the lease, nothing slow in the network) is replayed as a behaviour of it;
the fixed spec (fencing tokens checked at the storage) must hold over its whole
reachable state space under the same faults and time bounds, with an exact
state count, and each part of the fix is shown to be needed. What fencing does
not give (atomic read-modify-write) is pinned too.

Case 4, lease variant (Consul): a leader answers reads while its lease is
unexpired on its own clock; a pause makes it count an old acknowledgement as
fresh, and it serves a stale read. Only the broken spec exists; the fix is
ReadIndex (stale_read_fixed.ha).

Speed: the three runs of lease_read_broken (the spec, --no-faults, and the
send-time lease variant) are three different state spaces, each explored once
(about a minute together); every spec of the repository is verified at most
once per option set (`verify` caches by path and arguments), and the checks
on the same run share it.
"""
from __future__ import annotations

import functools

import pytest

from conftest import ROOT, pipeline, verify_json

BROKEN = "specs/lease_lock_broken.ha"
FIXED = "specs/lease_lock_fixed.ha"
# The two clients are interchangeable, so `verify` explores each state once per
# renaming of them (symmetry, on by default); --no-symmetry counts are in comments.
FIXED_STATES = 9_623               # 19,214 with --no-symmetry
BROKEN_STATES = 8_620              # 16,866
NO_PAUSE_STATES = 775              # the broken spec with --no-faults: it holds (1,533)
READ_BROKEN = "specs/lease_read_broken.ha"
# lease_read_broken: Server[1] and Server[2] are interchangeable (symmetry)
READ_BROKEN_STATES = 109_340       # states explored before the stale read is found (215,472)
READ_NO_PAUSE_STATES = 25_847      # with --no-faults: it holds (51,521)
READ_SEND_TIME_STATES = 174_809    # with the lease from the round's send time: it holds (348,913)


def verify(path: str, *extra: str) -> tuple[int, dict]:
    """`modelcheck verify --format json`; a spec of the repository is run once
    per argument list for the whole module (edited copies, under tmp_path, are
    always run)."""
    if str(path).startswith("specs/"):
        return _verify_repo_spec(str(path), *extra)
    return verify_json(path, *extra)


@functools.lru_cache(maxsize=None)
def _verify_repo_spec(path: str, *extra: str) -> tuple[int, dict]:
    return verify_json(path, *extra)


def steps(doc: dict) -> list[tuple[str, str | None, str | None]]:
    return [(s["kind"], s["node"], s["name"]) for s in doc["trace"]["steps"]]


def edited(tmp_path, spec: str, old: str, new: str, name: str = "edited.ha") -> str:
    text = (ROOT / spec).read_text()
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return str(path)


def _copy(tmp_path, spec: str):
    path = tmp_path / "copy.ha"
    path.write_text((ROOT / spec).read_text())
    return path


# C1, C2 = Client[0], Client[1]. Kleppmann: C1 acquires; C1 pauses; the lease
# expires; C2 acquires, reads, writes W2; C1 resumes and writes W1 over W2.
CASE_STEPS = [
    ("action", "Client[0]", "acquire"),      # C1 asks for the lock
    ("deliver", "LockService", "Acquire"),   # lease 1 to C1, until its clock passes 4
    ("action", "Client[1]", "acquire"),      # C2 asks; waits at the lock service
    ("deliver", "Client[0]", "Grant"),       # C1 holds the lock; reads
    ("deliver", "Storage", "Read"),          # the file (0) goes back to C1
    ("tick", None, None),                    # now = 1
    ("pause", "Client[0]", None),            # C1: GC pause, 3 ticks
    ("tick", None, None),                    # now = 2
    ("tick", None, None),                    # now = 3
    ("tick", None, None),                    # now = 4: C1 resumes
    ("deliver", "Client[0]", "Data"),        # C1 modifies: W1 = 1, on its way
    ("tick", None, None),                    # now = 5: lease 1 has expired
    ("deliver", "LockService", "Acquire"),   # lease 2 to C2
    ("deliver", "Client[1]", "Grant"),       # C2 reads
    ("deliver", "Storage", "Read"),          # the file (0) goes back to C2
    ("deliver", "Client[1]", "Data"),        # W2 = 1
    ("deliver", "Storage", "Write"),         # W2 applied
    ("deliver", "Storage", "Write"),         # W1 applied over W2
]


def test_broken_spec_lets_a_paused_client_overwrite_a_newer_write():
    code, doc = verify(BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant"
    assert doc["violation"]["name"] == "no_stale_overwrite"
    assert steps(doc) == CASE_STEPS
    assert doc["stats"]["distinct_states"] == BROKEN_STATES
    trace = doc["trace"]["steps"]
    assert [s["detail"] for s in trace if s["kind"] == "tick"] == [{"now": t} for t in (1, 2, 3, 4, 5)]
    assert trace[6]["detail"] == {"ticks": 3}
    assert trace[1]["state"]["nodes"]["LockService"]["vars"]["lease_until"] == 4
    # W2 from C2 lands first; W1 from C1, sent at now = 4, lands over it
    assert [(s["message"]["from"], s["message"]["fields"]) for s in trace[16:]] == [
        ("Client[1]", {"v": 1}), ("Client[0]", {"v": 1})]
    assert trace[10]["sent"][0]["fields"] == {"v": 1}
    last = trace[-1]["state"]
    assert last["ghosts"]["file_lease"] == 1 and last["ghosts"]["newest_written"] == 2
    assert dict(map(tuple, last["ghosts"]["lease_of"])) == {"Client[0]": 1, "Client[1]": 2}
    assert last["nodes"]["LockService"]["vars"]["holder"] == "Client[1]"
    # two writes acknowledged, the counter at 1: C2's increment is lost too
    assert last["nodes"]["Storage"]["vars"]["data"] == 1
    assert last["time"]["now"] == 5 and last["time"]["paused"] == {}


def test_the_lease_covers_a_cycle_without_a_pause():
    """Four messages, each within a tick, fit in the 4-tick lease: no pause, no bug."""
    code, doc = verify(BROKEN, "--no-faults")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == NO_PAUSE_STATES


def test_kleppmanns_trace_step_for_step():
    """The case's trace exactly: C1 pauses for 5 ticks (longer than the 4-tick
    lease) right after the storage answered, and no message waits for time to
    pass. It is a behaviour of the broken spec, as short as the printed one."""
    model = pipeline((ROOT / BROKEN).read_text(), path=BROKEN)
    names = model.checked.node_names
    c1, c2, lock = names.index("Client[0]"), names.index("Client[1]"), names.index("LockService")
    inv = model.invariants[0]
    path = [
        ("action", "Client[0]", "acquire", None),
        ("deliver", "LockService", "Acquire", None),
        ("deliver", "Client[0]", "Grant", None),
        ("action", "Client[1]", "acquire", None),
        ("deliver", "Storage", "Read", None),
        ("pause", "Client[0]", None, 5),          # C1 pauses longer than the lease
        ("tick", None, None, 1), ("tick", None, None, 2), ("tick", None, None, 3),
        ("tick", None, None, 4), ("tick", None, None, 5),   # lease expires; C1 resumes
        ("deliver", "LockService", "Acquire", None),        # C2 acquires
        ("deliver", "Client[1]", "Grant", None),            # C2 reads
        ("deliver", "Storage", "Read", None),
        ("deliver", "Client[1]", "Data", None),             # C2 writes W2
        ("deliver", "Storage", "Write", None),
        ("deliver", "Client[0]", "Data", None),             # C1 writes W1 (from its old read)
        ("deliver", "Storage", "Write", None),              # W1 over W2
    ]
    assert len(path) == len(CASE_STEPS)
    state = model.initial
    for i, (kind, node, name, detail) in enumerate(path):
        assert inv.holds(state)
        if kind == "tick":
            # nothing slow in the network: only messages to the paused C1, and
            # C2's acquire waiting for the lease to expire, are in flight
            assert all(m[1] == c1 or (m[0] == c2 and m[1] == lock) for m in state.net)
        want_node = None if node is None else names.index(node)
        matches = [tr for tr in model.successors(state)
                   if tr.step.kind == kind and tr.step.node == want_node and tr.step.name == name
                   and (detail is None or tr.step.detail == detail)]
        assert len(matches) == 1, f"step {i + 1} {kind} {node} {name} is not enabled"
        state = matches[0].state
    assert not inv.holds(state)


def test_a_write_delayed_in_the_network_needs_no_pause(tmp_path):
    """The case's other fault: without a delivery bound, W1 sent while the lease
    was valid can arrive after W2."""
    path = edited(tmp_path, BROKEN, "time {\n  max MAXT\n  delivery within 1\n}", "time {\n  max MAXT\n}")
    code, doc = verify(path, "--no-faults")
    assert code == 1 and doc["violation"]["name"] == "no_stale_overwrite"
    assert steps(doc) == [
        *CASE_STEPS[:5],
        ("deliver", "Client[0]", "Data"),    # W1 sent at time 0, lease valid
        *[("tick", None, None)] * 5,
        *CASE_STEPS[12:],
    ]


def test_fixed_spec_holds_over_its_whole_state_space():
    code, doc = verify(FIXED)
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stop_reason"] is None
    assert doc["stats"]["distinct_states"] == FIXED_STATES
    code, doc = verify(FIXED, "--no-symmetry")
    assert code == 0 and doc["stats"]["distinct_states"] == 19_214


def test_broken_and_fixed_share_faults_and_bounds():
    _, broken = verify(BROKEN)      # the runs above, not new ones
    _, fixed = verify(FIXED)
    assert broken["faults"] == fixed["faults"] == "pause Client at most 1 for 5"
    assert broken["invariants"] == fixed["invariants"] == ["no_stale_overwrite"]
    assert broken["options"]["consts"] == fixed["options"]["consts"]
    for name in (BROKEN, FIXED):
        text = (ROOT / name).read_text()
        assert "time {\n  max MAXT\n  delivery within 1\n}" in text


# Each part of the fix is needed: edit it out of the fixed spec and the
# broken spec's trace comes back.
ABLATIONS = {
    # the storage accepts every write again
    "storage_accepts_all": ("    if t >= max_token {", "    if true {"),
    # the storage does not remember the highest token it has seen
    "storage_forgets": ("      max_token = t\n", ""),
    # the lock service's tokens do not grow
    "tokens_do_not_grow": ("    token += 1\n", "    token = 1\n"),
}


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_each_part_of_fencing_is_needed(name, tmp_path):
    old, new = ABLATIONS[name]
    code, doc = verify(edited(tmp_path, FIXED, old, new, f"{name}.ha"))
    assert code == 1 and doc["violation"]["name"] == "no_stale_overwrite"
    assert steps(doc) == CASE_STEPS


# The fixed spec is not vacuous: both writes can be accepted, and a late write
# can be rejected.
def test_fixed_spec_accepts_both_writes(tmp_path):
    probe = tmp_path / "probe.ha"
    probe.write_text((ROOT / FIXED).read_text() + "\ninvariant probe: Storage.data < 2\n")
    code, doc = verify(str(probe), "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"


def test_fixed_spec_rejects_a_late_write(tmp_path):
    path = edited(tmp_path, FIXED, "      reply Rejected\n", "      rejected = true\n      reply Rejected\n")
    text = open(path).read().replace("ghost var grants", "ghost var rejected: bool = false\nghost var grants")
    open(path, "w").write(text + "\ninvariant probe: not rejected\n")
    code, doc = verify(path, "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"
    # the case's trace, the late write now rejected
    assert steps(doc) == CASE_STEPS


# What fencing does not give: atomic read-modify-write. Count accepted writes;
# the counter should equal the count. A client whose lease expired can write
# first, under its old token (no larger token seen yet), and the new holder's
# write, computed from the file before it, replaces it.
LOST_UPDATE = [
    *CASE_STEPS[:11],                        # C1 pauses; resumes with W1 = 1 (token 1) on its way
    ("tick", None, None),                    # lease 1 expires
    ("deliver", "LockService", "Acquire"),   # lease 2 (token 2) to C2
    ("deliver", "Client[1]", "Grant"),
    ("deliver", "Storage", "Read"),          # C2 reads 0
    ("deliver", "Client[1]", "Data"),        # W2 = 1 (token 2)
    ("deliver", "Storage", "Write"),         # W1 (token 1) lands first: accepted
    ("deliver", "Storage", "Write"),         # W2 (token 2) replaces it: C1's increment is lost
]


def _count_applied(path: str) -> str:
    text = open(path).read()
    text = text.replace("ghost var grants", "ghost var applied: 0..W = 0\nghost var grants")
    assert text.count("      data = v\n") == 1
    text = text.replace("      data = v\n", "      data = v\n      applied += 1\n")
    open(path, "w").write(text + "\ninvariant no_lost_update: Storage.data == applied\n")
    return path


def test_fencing_on_writes_does_not_make_read_modify_write_atomic(tmp_path):
    path = _count_applied(str(_copy(tmp_path, FIXED)))
    code, doc = verify(path)
    assert code == 1 and doc["violation"]["name"] == "no_lost_update"
    assert steps(doc) == LOST_UPDATE
    writes = [s for s in doc["trace"]["steps"] if s["kind"] == "deliver" and s["name"] == "Write"]
    assert [w["state"]["nodes"]["Storage"]["vars"]["max_token"] for w in writes] == [1, 2]


def test_fencing_reads_too_prevents_lost_updates(tmp_path):
    """Checking the token on reads as well (a read counts as seen, a smaller one
    is rejected) closes the gap: both invariants hold."""
    path = _count_applied(str(_copy(tmp_path, FIXED)))
    text = open(path).read()
    for old, new in [
        ("message Read\n", "message Read(token: 1..G)\n"),
        ("    send Read to Storage\n", "    send Read(token) to Storage\n"),
        ("  on Read from c {\n    reply Data(data)\n  }",
         "  on Read(t) from c {\n    if t >= max_token {\n      max_token = t\n      reply Data(data)\n"
         "    } else {\n      reply Rejected\n    }\n  }"),
        ("  on Rejected when phase == writing {", "  on Rejected when phase == writing or phase == reading {"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    open(path, "w").write(text)
    code, doc = verify(path)
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["invariants"] == ["no_stale_overwrite", "no_lost_update"]


# Case 4, the Consul lease variant. S1..S3 = Server[0..2]; client B = Reader.
READ_CASE_STEPS = [
    ("action", "Server[0]", "heartbeat"),         # S1's heartbeat round, at time 0
    ("deliver", "Server[1]", "Heartbeat"),        # S2 acknowledges
    ("deliver", "Server[2]", "Heartbeat"),        # S3 acknowledges
    ("tick", None, None),                         # now = 1
    ("pause", "Server[0]", None),                 # S1 pauses for 2 ticks; the acks wait
    ("tick", None, None),                         # now = 2
    ("tick", None, None),                         # now = 3: S1 resumes
    ("deliver", "Server[0]", "HeartbeatAck"),     # S1 counts S2's old ack as contact now: lease until 5
    ("action", "Server[1]", "timeout"),           # S2's timer ran out: term 2
    ("deliver", "Server[2]", "RequestVote"),      # S3's too: it votes for S2
    ("deliver", "Server[1]", "Vote"),             # S2 leads term 2
    ("action", "Server[1]", "write"),             # A writes x=2 via S2
    ("deliver", "Server[2]", "AppendEntries"),
    ("deliver", "Server[1]", "AppendAck"),        # committed and acknowledged
    ("action", "Reader", "read"),                 # B reads at S1
    ("deliver", "Server[0]", "Read"),             # S1's lease is unexpired on its clock: x=1
    ("deliver", "Reader", "ReadResp"),
]


def test_lease_read_spec_serves_a_stale_read():
    code, doc = verify(READ_BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant"
    assert doc["violation"]["name"] == "linearizable_read"
    assert steps(doc) == READ_CASE_STEPS
    assert doc["stats"]["distinct_states"] == READ_BROKEN_STATES
    trace = doc["trace"]["steps"]
    assert trace[4]["detail"] == {"ticks": 2}
    assert trace[7]["state"]["nodes"]["Server[0]"]["vars"]["lease_until"] == 5
    assert trace[15]["sent"][0]["fields"] == {"x": 1}
    last = trace[-1]["state"]
    assert last["ghosts"] == {"acked": 2, "read_floor": 2}
    assert last["nodes"]["Reader"]["vars"]["result"] == 1
    s1, s2 = last["nodes"]["Server[0]"]["vars"], last["nodes"]["Server[1]"]["vars"]
    assert (s1["leader"], s1["term"], s1["last_heard"]) == (True, 1, 0)
    assert (s2["leader"], s2["term"], s2["commit"]) == (True, 2, 2)
    assert last["time"]["now"] == 3


def test_lease_read_holds_without_a_pause():
    """Acknowledgements at most a tick old and a one-tick margin: the lease works
    as long as nothing pauses."""
    code, doc = verify(READ_BROKEN, "--no-faults")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == READ_NO_PAUSE_STATES


def test_a_lease_from_the_rounds_send_time_survives_the_pause(tmp_path):
    """Raft thesis §6.4.1: start the lease when the heartbeat round was sent.
    Then the pause cannot stretch it, and the spec verifies: the language's
    clocks have fixed offsets and cannot drift, which is what breaks that design."""
    path = _copy(tmp_path, READ_BROKEN)
    text = path.read_text()
    for old, new in [
        ("  var lease_until: 0..MAXT+LEASE = 0", "  var hb_start: 0..MAXT = 0\n  var lease_until: 0..MAXT+LEASE = 0"),
        ("    hb_sent = true\n", "    hb_sent = true\n    hb_start = clock\n"),
        ("      lease_until = clock + LEASE\n", "      lease_until = hb_start + LEASE\n"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    code, doc = verify(str(path))
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stats"]["distinct_states"] == READ_SEND_TIME_STATES
