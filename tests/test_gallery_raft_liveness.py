"""Gallery of real HA failures: Raft liveness under partial partitions (cases 1 and 2).

Case 1 (Cloudflare's 3-node chain, Howard & Abraham 2020): without PreVote, a
server that cannot hear the leader keeps starting elections, and the server in
the middle carries its higher term to the leader, which steps down; then the
roles swap. Case 2, variant 2c: with PreVote but without CheckQuorum, a leader
whose inbound links all drop keeps heartbeating; its followers keep hearing it
and never elect anyone else, and nothing commits.

The failures are liveness failures, checked as bounded invariants over a timed
model (see the specs' headers for why): `settles` (a leader that hears from a
majority is never deposed) and `no_hostage` (no server stays leader more than
an election timeout after it last heard from a majority). Both broken traces
are pinned step by step, the fixed spec (PreVote + CheckQuorum, one spec for
both cases, topology chosen by the const LINKS) must hold with exact state
counts, each part of the fix is shown to be needed, and the fixed spec is shown
not to be vacuous (elections, pre-votes, step-downs and commits do happen).
"""
from __future__ import annotations

import functools

import pytest

from conftest import ROOT, run_cli, verify_json

PREVOTE_BROKEN = "specs/raft_prevote_broken.ha"
CHECKQUORUM_BROKEN = "specs/raft_checkquorum_broken.ha"
FIXED = "specs/raft_prevote_fixed.ha"
FIXED_STATES = {1: 7_550, 2: 35_321}  # LINKS=1 (case 1's chain), LINKS=2 (case 2c)


@functools.lru_cache(maxsize=None)
def verify(path: str, *extra: str) -> tuple[int, dict]:
    return verify_json(path, *extra)


def steps(doc: dict) -> list[tuple[str, str | None, str | None]]:
    return [(s["kind"], s["node"], s["name"]) for s in doc["trace"]["steps"]]


def edited(tmp_path, spec: str, old: str, new: str, name: str = "edited.ha") -> str:
    text = (ROOT / spec).read_text()
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return str(path)


def with_probe(tmp_path, spec: str, probe: str, name: str = "probe.ha") -> str:
    path = tmp_path / name
    path.write_text((ROOT / spec).read_text() + f"\ninvariant probe: {probe}\n")
    return str(path)


TICK = ("tick", None, None)
START = [  # the harness starts the cluster; S3's Start arrives in the second tick
    ("action", "Cluster", "start"),
    ("deliver", "Server[0]", "Start"),
    ("deliver", "Server[1]", "Start"),
    TICK,
    ("deliver", "Server[2]", "Start"),           # S3 heartbeats from time 1
]

# Case 1 (S1..S3 = Server[0..2]; S3 leads term 1; the link S1-S3 drops both ways).
CASE1_STEPS = START + [
    ("deliver", "Server[1]", "AppendEntries"),   # S2 hears S3 ...
    ("deliver", "Server[2]", "AppendResp"),      # ... and S3 hears S2: a majority
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,                                        # now = 4; S1 has heard nothing
    ("action", "Server[0]", "election_timeout"), # case step 2: S1 stands for term 2
    ("deliver", "Server[1]", "RequestVote"),     # case step 3: S2 adopts term 2, votes for S1
    ("deliver", "Server[1]", "AppendEntries"),   # S2 answers S3's heartbeat with term 2
    ("deliver", "Server[2]", "AppendResp"),      # S3 steps down
]

# Case 1, the roles swap (case steps 4-5): S1 wins term 2, then S3 deposes it.
SWAP_STEPS = START + [
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "AppendResp"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "AppendResp"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,
    ("action", "Server[0]", "election_timeout"),  # S1: term 2
    ("deliver", "Server[1]", "RequestVote"),
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "AppendResp"),       # S3 deposed (term 1)
    TICK,
    ("deliver", "Server[0]", "Vote"),             # S1 leads term 2
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[0]", "AppendResp"),       # S1 hears from a majority
    ("deliver", "Server[2]", "Heartbeat"),        # S3's old timer, now idle
    TICK,
    ("deliver", "Server[0]", "Heartbeat"),
    TICK,
    ("deliver", "Server[0]", "Heartbeat"),
    ("deliver", "Server[1]", "AppendEntries"),
    TICK,                                         # now = 8; S3 has heard nothing since 4
    ("action", "Server[2]", "election_timeout"),  # S3: term 3
    ("deliver", "Server[1]", "RequestVote"),
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[0]", "AppendResp"),       # S1 deposed (term 2)
]

# Case 2c (S3 = L leads term 1; every link into S3 drops).
CASE2C_STEPS = START + [
    ("deliver", "Server[0]", "AppendEntries"),
    ("deliver", "Server[1]", "AppendEntries"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    ("deliver", "Server[0]", "AppendEntries"),
    ("deliver", "Server[1]", "AppendEntries"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    ("deliver", "Server[0]", "AppendEntries"),
    ("deliver", "Server[1]", "AppendEntries"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,                                         # now = 5: S3 still leads, no ack since 0
]


def node_vars(step: dict, node: str) -> dict:
    return step["state"]["nodes"][node]["vars"]


def test_case1_broken_spec_deposes_a_leader_with_a_majority():
    code, doc = verify(PREVOTE_BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant" and doc["violation"]["name"] == "settles"
    assert steps(doc) == CASE1_STEPS
    assert doc["stats"]["distinct_states"] == 392
    trace = doc["trace"]["steps"]
    assert trace[13]["sent"][0]["to"] == "Server[1]"  # S1's RequestVote reaches only S2
    assert trace[13]["sent"][0]["fields"] == {"term": 2}
    assert trace[15]["sent"][0]["fields"] == {"term": 2}  # S2's answer to S3 carries term 2
    last = trace[-1]
    assert last["state"]["ghosts"] == {"deposed": [["Server[2]", 1]]}
    assert last["state"]["time"]["now"] == 4
    assert node_vars(last, "Server[2]")["status"] == "follower"
    assert node_vars(last, "Server[2]")["term"] == 2
    assert node_vars(last, "Server[1]")["voted_for"] == "Server[0]"
    assert node_vars(last, "Server[0]")["status"] == "candidate"
    # the static topology: S1 and S3 reach only S2
    assert node_vars(last, "Server[0]")["reach"] == ["Server[1]"]
    assert node_vars(last, "Server[2]")["reach"] == ["Server[1]"]


def test_case1_broken_text_trace():
    proc = run_cli("verify", PREVOTE_BROKEN)
    assert proc.returncode == 1
    assert "Counterexample: invariant 'settles' is violated after 17 steps." in proc.stdout
    assert "Server[0] does election_timeout" in proc.stdout
    assert "ghost deposed: {} -> {(Server[2], 1)}" in proc.stdout


def test_case1_the_roles_swap(tmp_path):
    """Case steps 4-5: after S1 deposes S3 and leads, S3 (which never hears S1)
    deposes S1 in turn. The state is then the mirror of the first deposition."""
    spec = edited(tmp_path, PREVOTE_BROKEN, "invariant settles: deposed == {}",
                  "invariant settles: len(deposed) <= 1")
    code, doc = verify(spec)
    assert code == 1 and doc["violation"]["name"] == "settles"
    assert steps(doc) == SWAP_STEPS
    last = doc["trace"]["steps"][-1]
    assert last["state"]["ghosts"] == {"deposed": [["Server[0]", 2], ["Server[2]", 1]]}
    assert last["state"]["time"]["now"] == 8
    assert node_vars(last, "Server[0]")["status"] == "follower"
    assert node_vars(last, "Server[1]")["voted_for"] == "Server[2]"


def test_case2c_broken_spec_keeps_a_leader_that_hears_nobody():
    code, doc = verify(CHECKQUORUM_BROKEN)
    assert code == 1 and doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant" and doc["violation"]["name"] == "no_hostage"
    assert steps(doc) == CASE2C_STEPS
    assert doc["stats"]["distinct_states"] == 325
    last = doc["trace"]["steps"][-1]
    assert last["state"]["time"]["now"] == 5
    l3 = node_vars(last, "Server[2]")
    assert (l3["status"], l3["quorum_at"], l3["reach"]) == ("leader", 0, ["Server[0]", "Server[1]"])
    for f in ("Server[0]", "Server[1]"):
        v = node_vars(last, f)
        assert (v["status"], v["leader_known"], v["timer"], v["reach"]) == (
            "follower", True, 3, [s for s in ("Server[0]", "Server[1]") if s != f])
    # followers answer heartbeats only over live links: nothing is ever sent to S3
    assert all(m["to"] != "Server[2]" or m["from"] == "Server[2]" or m["kind"] == "Start"
               for s in doc["trace"]["steps"] for m in s["sent"])


COMMIT_OLD = """    } elif t == term and status == leader {
      quorum_at = clock
    }"""
def with_commits(tmp_path, spec: str) -> str:
    """The spec with a ghost `commits`: every leader that heard an answer of its
    own term (a majority, with itself: its entries of that term commit)."""
    text = (ROOT / spec).read_text()
    assert text.count(COMMIT_OLD) == 1
    text = text.replace(COMMIT_OLD, COMMIT_OLD.replace("quorum_at = clock", "quorum_at = clock\n      commits |= {self}"))
    text = text.replace("ghost var deposed", "ghost var commits: set<Server> = {}\nghost var deposed")
    path = tmp_path / "commits.ha"
    path.write_text(text)
    return str(path)


def test_case2c_broken_nothing_commits_and_nobody_else_leads(tmp_path):
    """Over the whole horizon: no leader ever hears an answer (nothing commits),
    and no server but S3 ever leads: the connected pair S1-S2 is held hostage."""
    spec = with_commits(tmp_path, CHECKQUORUM_BROKEN)
    probe = tmp_path / "hostage.ha"
    probe.write_text(open(spec).read() + "\ninvariant nothing_commits: commits == {}\n"
                     "invariant only_s3_leads: forall s in Server: s.status == leader => s == Server[2]\n")
    code, doc = verify(str(probe), "--invariant", "nothing_commits", "--invariant", "only_s3_leads")
    assert code == 0 and doc["verdict"] == "holds" and doc["stop_reason"] is None


@pytest.mark.parametrize("links", [1, 2])
def test_fixed_spec_holds_over_its_whole_state_space(links):
    code, doc = verify(FIXED, "--const", f"LINKS={links}")
    assert code == 0 and doc["verdict"] == "holds"
    assert doc["stop_reason"] is None
    assert doc["invariants"] == ["settles", "no_hostage"]
    assert doc["stats"]["distinct_states"] == FIXED_STATES[links]


def test_broken_and_fixed_share_bounds_and_invariants():
    docs = {spec: verify(spec, "--max-depth", "0")[1] for spec in (PREVOTE_BROKEN, CHECKQUORUM_BROKEN, FIXED)}
    consts = {spec: doc["options"]["consts"] for spec, doc in docs.items()}
    assert consts[PREVOTE_BROKEN] == consts[FIXED] == {"N": 3, "ET": 4, "T": 12, "MAX_TERM": 5, "LINKS": 1}
    assert consts[CHECKQUORUM_BROKEN] == {**consts[FIXED], "LINKS": 2}
    for doc in docs.values():
        assert doc["invariants"] == ["settles", "no_hostage"] and doc["faults"] == "none"


def test_checkquorum_broken_is_the_fixed_spec_without_checkquorum():
    fixed = (ROOT / FIXED).read_text()
    broken = (ROOT / CHECKQUORUM_BROKEN).read_text()
    body = lambda text: text[text.index("\nspec "):]
    cq = fixed[fixed.index("  # The leader's heartbeat timer"):fixed.index("  # Rules 3 and 4")]
    no_cq = broken[broken.index("  # The leader's heartbeat timer"):broken.index("  # Rules 3 and 4")]
    assert "quorum_at + ET" in cq and "quorum_at" not in no_cq
    expected = body(fixed).replace(cq, no_cq).replace("spec raft_prevote_fixed", "spec raft_checkquorum_broken")
    expected = expected.replace("const LINKS = 1 ", "const LINKS = 2 ")
    assert body(broken) == expected


def test_each_fix_covers_its_case():
    """PreVote's leader-recency test alone fixes case 1 (CheckQuorum never fires
    in the chain, so the state space is the fixed spec's); plain Raft fails
    case 2c exactly as PreVote without CheckQuorum does."""
    code, doc = verify(CHECKQUORUM_BROKEN, "--const", "LINKS=1")
    assert code == 0 and doc["stats"]["distinct_states"] == FIXED_STATES[1]
    code, doc = verify(PREVOTE_BROKEN, "--const", "LINKS=2")
    assert code == 1 and doc["violation"]["name"] == "no_hostage"
    assert steps(doc) == CASE2C_STEPS


# Gallery variant 1b: a pre-vote granted on the log alone (every log passes
# here), without the leader-recency test, fails the chain like plain Raft.
LEASE = "let grant = t > term and status != leader and (not leader_known or clock >= timer + ET)"
VARIANT_1B_STEPS = START + [
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "AppendResp"),
    TICK,
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "Heartbeat"),
    TICK,
    ("action", "Server[0]", "election_timeout"),  # S1 asks for pre-votes
    ("deliver", "Server[1]", "PreVote"),          # S2 grants although it hears S3
    ("deliver", "Server[0]", "PreVoteResp"),      # S1: term 2, RequestVote
    ("deliver", "Server[1]", "RequestVote"),      # S2 adopts term 2
    ("deliver", "Server[1]", "AppendEntries"),
    ("deliver", "Server[2]", "AppendResp"),       # S3 deposed
]


def test_prevote_without_the_recency_test_fails_case1(tmp_path):
    spec = edited(tmp_path, FIXED, LEASE, "let grant = t > term and status != leader")
    code, doc = verify(spec)
    assert code == 1 and doc["violation"]["name"] == "settles"
    assert steps(doc) == VARIANT_1B_STEPS


# The fixed spec is not vacuous.

def test_fixed_case1_the_cut_off_server_does_ask_for_pre_votes(tmp_path):
    spec = with_probe(tmp_path, FIXED, "Server[0].status != precandidate")
    code, doc = verify(spec, "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"
    assert steps(doc)[-1] == ("action", "Server[0]", "election_timeout")
    # and it is refused: over the whole horizon S1's term never moves
    spec = with_probe(tmp_path, FIXED, "Server[0].term == 1", name="term.ha")
    code, doc = verify(spec, "--invariant", "probe")
    assert code == 0 and doc["stats"]["distinct_states"] == FIXED_STATES[1]


def test_fixed_case2c_the_stale_leader_steps_down_and_a_new_one_commits(tmp_path):
    spec = with_probe(tmp_path, FIXED, "Server[2].status == leader", name="stepdown.ha")
    code, doc = verify(spec, "--const", "LINKS=2", "--invariant", "probe")
    assert code == 1 and steps(doc)[-1] == ("deliver", "Server[2]", "Heartbeat")
    assert doc["trace"]["steps"][-1]["state"]["time"]["now"] == 4  # CheckQuorum at ET

    spec = with_probe(tmp_path, FIXED, "forall s in Server: s.status == leader => s == Server[2]",
                      name="newleader.ha")
    code, doc = verify(spec, "--const", "LINKS=2", "--invariant", "probe")
    assert code == 1 and steps(doc)[-1] == ("deliver", "Server[0]", "Vote")

    probe = tmp_path / "commit.ha"
    probe.write_text(open(with_commits(tmp_path, FIXED)).read()
                     + "\ninvariant probe: commits - {Server[2]} == {}\n")
    code, doc = verify(str(probe), "--const", "LINKS=2", "--invariant", "probe")
    assert code == 1 and doc["violation"]["name"] == "probe"
    assert steps(doc)[-3:] == [("deliver", "Server[0]", "Vote"),
                               ("deliver", "Server[1]", "AppendEntries"),
                               ("deliver", "Server[0]", "AppendResp")]
    assert doc["trace"]["steps"][-1]["state"]["ghosts"]["commits"] == ["Server[0]"]


def test_the_term_bound_hides_nothing():
    """No guard stops an election at MAX_TERM: a bound too small is a run-time
    error with a trace, not a smaller state space that passes."""
    code, doc = verify(FIXED, "--const", "LINKS=2", "--const", "MAX_TERM=2")
    assert code == 1 and doc["violation"]["kind"] == "runtime_error"
    assert "outside its type 1..2" in doc["violation"]["message"]
