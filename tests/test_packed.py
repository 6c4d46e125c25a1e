"""The packed fast path (modelcheck/engine/packed.py) against the search on `State`s.

Packing must be invisible: the same states in the same order, so the same counts,
depth, first violation and step-for-step trace, in every mode the fast path takes
(plain, collect-all as the matrix uses it, fingerprints, state and depth limits,
run-time errors). Compared on every example spec it applies to and on the random
specs of test_reduction_random.py.
"""
from __future__ import annotations

import os

import pytest

from conftest import ROOT, pipeline
from test_reduction_random import SEEDS, make_spec

from modelcheck.engine import packed
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import build
from modelcheck.lang.parser import parse

SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.ha"))
CAP = 20_000  # states per comparison: both searches stop at the same state


def _model(name: str):
    """The spec's invariants only (properties need the graph, which packing skips)."""
    path = ROOT / "specs" / name
    source = Source(str(path), path.read_text())
    checked = check(parse(source), {})
    return build(checked, source, invariant_names=[d.name for d in checked.invariants] or None)


def _same(a, b) -> None:
    assert a.verdict == b.verdict
    assert a.stop_reason == b.stop_reason
    assert (a.stats.distinct_states, a.stats.transitions, a.stats.depth) == \
        (b.stats.distinct_states, b.stats.transitions, b.stats.depth)
    assert (a.violation.message if a.violation else None) == (b.violation.message if b.violation else None)
    assert a.trace == b.trace
    assert list(a.findings) == list(b.findings)
    for name, f in a.findings.items():
        assert f.trace == b.findings[name].trace, name


def _pair(model, **kw):
    fast = explore(model, Options(**kw))
    slow = explore(model, Options(packed=False, **kw))
    return fast, slow


@pytest.mark.parametrize("name", SPECS)
def test_example_specs_same_search(name):
    model = _model(name)
    assert packed.applicable(model)
    _same(*_pair(model, max_states=CAP))
    _same(*_pair(model, max_states=CAP, collect_all=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_specs_same_search(seed):
    model = pipeline(make_spec(seed))
    fast, slow = _pair(model, collect_all=True, max_states=CAP)
    _same(fast, slow)
    _same(*_pair(model, fingerprints=True, max_states=CAP))


def test_fingerprints_depth_limit_and_timeout_paths():
    model = _model("majority_election.ha")
    _same(*_pair(model, fingerprints=True, max_states=CAP))
    _same(*_pair(model, max_depth=4))
    fast, slow = _pair(model, max_depth=40)  # deeper than the state space: complete
    _same(fast, slow)
    assert fast.verdict == "holds"
    res = explore(model, Options(timeout=1e-6))
    assert res.verdict == "incomplete" and res.stop_reason == "timeout"


ERROR = """
spec err
message Ping(v: 0..3)
role A[2] {
  var x: 0..2 = 0
  action bump { x += 1 }
  on Ping(v) { x = v }
  action ping when x == 1 { broadcast Ping(x + 2) }
}
faults { crash at most 1
  restart }
invariant small: forall a in A: a.x <= 2
"""


def test_run_time_errors_same_finding():
    model = pipeline(ERROR)
    fast, slow = _pair(model)
    _same(fast, slow)
    assert fast.violation.kind == "runtime_error"
    fast, slow = _pair(model, collect_all=True, max_states=CAP)  # pings pile up without end
    _same(fast, slow)


RESTART = """
spec restart_body
message Hello(v: 0..2)
ghost var rebooted: set<A> = {}
role A[2] {
  persistent var n: 0..2 = 0
  var seen: bool = false
  var said: bool = false
  on restart {
    n = (n + 1) % 3
    rebooted |= {self}
    broadcast Hello(n)
  }
  on Hello(v) from p { seen = true }
  action go when not said { said = true
    broadcast Hello(n) }
}
faults {
  crash at most 2
  restart
  partition at most 1
  one_way at most 1
  heal
  duplicate at most 1
  loss at most 1
}
invariant one_reboot: len(rebooted) <= 1
"""


def test_restart_bodies_ghosts_and_every_fault_kind():
    model = pipeline(RESTART)
    fast, slow = _pair(model, collect_all=True)
    _same(fast, slow)
    assert fast.verdict == "violated"
    fast, slow = _pair(pipeline(RESTART.replace("<= 1", "<= 2")))
    _same(fast, slow)
    assert fast.verdict == "holds" and fast.stats.distinct_states > 1000


def test_the_generated_code_holds_no_spec_text():
    model = pipeline(RESTART)
    src = packed.PackedModel(model).source
    for word in ("Hello", "rebooted", "restart_body", "seen"):
        assert word not in src


# ---- time blocks: random timed specs ---------------------------------------------------

TIMED_FAULTS = ["pause at most 1 for 2", "pause N at most 1 for 1", "crash N at most 1", "restart", "loss at most 1",
                "partition at most 1", "heal", "duplicate at most 1"]


def make_timed_spec(seed: int) -> str:
    """Nodes that ping each other on their clocks; every time feature and fault kind."""
    import random

    rnd = random.Random(seed)
    n = rnd.choice([1, 2, 3])
    mode = rnd.choice(["unordered", "fifo", "set"])
    clauses = [f"max {rnd.choice([2, 3]) if n < 3 else 2}"]
    if mode != "set" and rnd.random() < 0.6:
        clauses.append(f"delivery within {rnd.choice([1, 2])}")
    if n < 3 and rnd.random() < 0.4:  # (three nodes with skewed clocks: too many states to compare quickly)
        clauses.append("skew 1")
    faults = rnd.sample(TIMED_FAULTS, rnd.randint(0, 3))
    if mode == "set":
        faults = [f for f in faults if not f.startswith("duplicate")]
    guard = rnd.choice(["seen < clock", "clock > last", "true"])
    restart = "  on restart { last = 0 }\n" if rnd.random() < 0.3 else ""
    inv = rnd.choice(["forall x in N: x.seen <= 3", "now < 3 or count(x in N where x.seen > 0) < 2",
                      "forall x in N: x.last <= now + 1", "pings <= 2",
                      "N[0].last <= 1 or pings < 2"])  # names N[0]: the other nodes stay interchangeable
    return f"""
spec timed{seed}
network {{ delivery {mode} }}
time {{ {'  '.join(clauses)} }}
message Ping(at: -1..4)
ghost var pings: 0..9 = 0
role N[{n}] {{
  var seen: -1..4 = 0
  var last: -1..4 = 0
  var sent: 0..1 = 0
  action ping(p: N) when {guard} and sent < 1 {{
    seen = clock
    sent += 1
    pings += 1
    send Ping(clock) to p
  }}
  on Ping(at) {{ last = at }}
{restart}}}
faults {{
{chr(10).join("  " + f for f in faults)}
}}
invariant check: {inv}
"""


TIMED_SEEDS = range(int(os.environ.get("MC_TIMED_SEEDS", 40)))  # MC_TIMED_SEEDS=400 for a long run


@pytest.mark.parametrize("seed", TIMED_SEEDS)
def test_random_timed_specs_same_search(seed):
    model = pipeline(make_timed_spec(seed))
    _same(*_pair(model, max_states=CAP))
    _same(*_pair(model, max_states=CAP, collect_all=True))


@pytest.mark.parametrize("seed", TIMED_SEEDS)
def test_random_timed_specs_with_symmetry(seed):
    """Symmetry on packed timed states against the plain search (and the State one)."""
    model = pipeline(make_timed_spec(seed))
    base = explore(model, Options(collect_all=True, max_states=CAP))
    if base.verdict == "incomplete":
        pytest.skip("too many states for a quick comparison")
    for use_packed in (True, False):
        other = explore(model, Options(symmetry=True, collect_all=True, packed=use_packed))
        assert other.verdict == base.verdict
        assert {n: f.length for n, f in other.findings.items()} == {n: f.length for n, f in base.findings.items()}
        if other.symmetric_roles:
            assert other.stats.states_without_symmetry == base.stats.distinct_states


def test_the_timed_generator_covers_what_it_should():
    texts = [make_timed_spec(s) for s in TIMED_SEEDS]
    for needle in ("delivery within", "skew 1", "pause at most", "pause N", "crash", "restart", "loss",
                   "partition", "duplicate", "delivery fifo", "N[3]", "on restart", "N[0].last"):
        assert any(needle in t for t in texts), needle
    verdicts = [explore(pipeline(t), Options(max_states=CAP)).verdict for t in texts[:20]]
    assert "violated" in verdicts and "holds" in verdicts


# ---- networks as bytes (packed.NetCodec) --------------------------------------------

WIDE = """
spec wide
const V = 140
message Put(v: 0..V, w: 0..1)
message Ack(v: 0..V)
network {{ delivery {mode} }}
role Writer {{
  var sent: 0..V = 0
  var acked: bool = true
  action put when sent < V and acked {{
    sent += 1
    acked = false
    send Put(sent, 0) to Reader
    send Put(sent, 1) to Reader
  }}
  on Ack(v) when v == sent {{ acked = true }}
}}
{reader}
faults {{ {faults} }}
invariant small: Writer.sent <= V
"""

# consumed modes: the round's second Put acks it, so at most two messages are in flight
COUNTING_READER = """role Reader {
  var half: bool = false
  on Put(v, w) from s {
    if half {
      half = false
      reply Ack(v)
    } else {
      half = true
    }
  }
}"""

# `delivery set` keeps every message ever sent: the handler's guard makes a stale one
# unreceivable, and nothing is lost (a loss would pick any of hundreds)
GUARDED_READER = """role Reader {
  var got: 0..V = 0
  on Put(v, w) from s when v > got {
    got = v
    reply Ack(v)
  }
}"""


@pytest.mark.parametrize("mode", ["unordered", "set", "fifo"])
def test_message_ids_past_one_byte_same_search(mode):
    """More than 256 distinct messages: networks with ids from 256 on are str (one
    character per id; fifo through the general path of the mode), and the search is
    still the same."""
    # a few states per round, 3 x 140 distinct messages
    if mode == "set":
        text = WIDE.format(mode=mode, reader=GUARDED_READER, faults="")
    else:
        text = WIDE.format(mode=mode, reader=COUNTING_READER, faults="loss at most 1")
    model = pipeline(text)
    a, b = _pair(model, collect_all=True)
    _same(a, b)
    pm = packed.PackedModel(model)
    seen, level = {pm.initial}, [pm.initial]
    while level:
        level = [t for s in level for t in pm.successors(s) if t not in seen and not seen.add(t)]
    assert len(pm.msgs.values) > 256 and any(type(s[3]) is str for s in seen)
    assert len(seen) == a.stats.distinct_states


@pytest.mark.parametrize("mode", ["unordered", "set", "fifo"])
def test_net_codec_round_trips(mode):
    """Every network has one flat form, chosen by its largest message id: bytes
    below 256, a str of one character per id above. The fast paths (deliver one
    copy, send) give exactly the form the mode's own operations give, including a
    str network that drops back to bytes when its last long id leaves it."""
    import random

    from modelcheck.network import MODES

    net_mode = MODES[mode]()
    codec = packed.NetCodec(net_mode, packed.Interner())
    msgs = [(0, 1, 0, (v,)) for v in (3, 300, 1, 3, 700, 0)] + [(1, 0, 0, (v,)) for v in range(260)]
    for m in msgs:  # ids in this order: the last ten distinct messages get ids 255-264
        codec.msgs.id(m)

    def check(net):
        b = codec.id(net)
        assert type(b) is (bytes if max(codec.ids(b), default=0) < 256 else str)
        codec._cache.clear()
        assert codec.values[b] == net and codec.id(codec.values[b]) == b
        want = [(codec.msgs.id(m), codec.id(after)) for m, after in net_mode.deliverable(net)]
        assert codec.deliveries(b) == want
        for extra in (msgs[:2], msgs[-3:], msgs[250:252]):
            ids = [codec.msgs.id(m) for m in extra]
            assert codec.send(b, codec.sendable(ids)) == codec.id(net_mode.send(net, extra))
        return b

    for cut in (3, 6, 40, len(msgs)):
        check(net_mode.send(net_mode.empty, msgs[:cut]))
    rng = random.Random(7)
    forms = set()
    for _ in range(60):  # around the boundary: ids 250-264, some of them long
        pick = [msgs[6 + rng.randrange(244, 259)] for _ in range(rng.randrange(1, 5))]
        forms.add(type(check(net_mode.send(net_mode.empty, pick))))
    assert forms == {bytes, str}
    # a long id delivered away: the str network is bytes again, equal to the mode's
    one = net_mode.send(net_mode.empty, [msgs[10], msgs[-1]])
    b = codec.id(one)
    assert type(b) is str
    if net_mode.consumes and net_mode.sorted_bag:  # (a set keeps what it delivers; fifo offers the head)
        left = [after for i, after in codec.deliveries(b) if i > 255]
        assert left == [codec.id(net_mode.send(net_mode.empty, [msgs[10]]))] and type(left[0]) is bytes


def test_net_codec_forms_past_the_last_character():
    """Past the last character (over a million distinct messages) a network is a
    tuple of its ids: the general paths, still one form per network."""
    enc = packed.NetCodec._encode
    assert enc([]) == b"" and enc([3, 255]) == bytes([3, 255])
    assert enc([3, 256]) == "\x03\u0100" and enc([0x10FFFF]) == chr(0x10FFFF)
    assert enc([3, packed.STR_IDS]) == (3, packed.STR_IDS)
    for ids in ([], [0, 255], [1, 256, 70000], [5, packed.STR_IDS + 9]):
        assert packed.NetCodec.ids(enc(ids)) == ids
    assert packed.NetCodec.narrowed("\x05") == b"\x05" and packed.NetCodec.narrowed("") == b""
