"""An independent brute-force checker of small histories, for differential tests of
modelcheck.consistency: it enumerates every total order of the operations (and every
choice of which pending writes took effect) and tests each directly. Exponential:
for histories of a handful of operations only.

A history is a list of events (client, "invoke", kind, key, value) and
(client, "complete", kind, key, result); kind "w" or "r"."""
from __future__ import annotations

import itertools


def operations(events):
    """(client, kind, key, value, invoked at, completed at or None), value: written or returned."""
    ops, open_ = [], {}
    for i, (client, what, kind, key, value) in enumerate(events):
        if what == "invoke":
            open_[client] = len(ops)
            ops.append([client, kind, key, value if kind == "w" else None, i, None])
        else:
            j = open_.pop(client)
            ops[j][5] = i
            if kind == "r":
                ops[j][3] = value
    return [tuple(o) for o in ops]


def _legal(order, init):
    state = {}
    for _, kind, key, value, _, _ in order:
        if kind == "w":
            state[key] = value
        elif state.get(key, init) != value:
            return False
    return True


def _candidates(ops):
    done = [o for o in ops if o[5] is not None]
    pending_writes = [o for o in ops if o[5] is None and o[1] == "w"]
    for r in range(len(pending_writes) + 1):
        for extra in itertools.combinations(pending_writes, r):
            yield done + list(extra)


def linearizable(events, init=0) -> bool:
    ops = operations(events)
    for chosen in _candidates(ops):
        for order in itertools.permutations(chosen):
            if all(not (b[5] is not None and b[5] < a[4]) for i, a in enumerate(order) for b in order[i + 1:]) \
                    and _legal(order, init):
                return True
    return False


def sequentially_consistent(events, init=0) -> bool:
    ops = operations(events)
    for chosen in _candidates(ops):
        for order in itertools.permutations(chosen):
            if all(not (a[0] == b[0] and b[4] < a[4]) for i, a in enumerate(order) for b in order[i + 1:]) \
                    and _legal(order, init):
                return True
    return False


def _session(events, init, own_writes):
    """Some total order of versions (key, value), the initial value first, puts every
    read at or after the client's last write (own_writes) / last read of that key."""
    ops = [o for o in operations(events) if o[5] is not None]
    ops.sort(key=lambda o: o[5])
    constraints = []
    last = {}
    for client, kind, key, value, _, _ in ops:
        if own_writes:
            if kind == "w":
                last[(client, key)] = value
                continue
            before = last.get((client, key))
        else:
            if kind == "w":
                continue
            before = last.get((client, key))
            last[(client, key)] = value
        if before is not None and before != value:
            constraints.append(((key, before), (key, value)))
    versions = sorted({v for c in constraints for v in c}, key=repr)
    for order in itertools.permutations(versions):
        pos = {v: i for i, v in enumerate(order)}
        if any(v[1] == init and pos[v] != min(pos[w] for w in versions if w[0] == v[0]) for v in versions):
            continue
        if all(pos[a] < pos[b] for a, b in constraints):
            return True
    return not versions


def read_your_writes(events, init=0) -> bool:
    return _session(events, init, True)


def monotonic_reads(events, init=0) -> bool:
    return _session(events, init, False)


def _observed(events, forced_edges) -> bool:
    """monotonic_writes / writes_follow_reads (Terry et al. 1994; Jepsen: "all
    processes observe w1 before w2"). `forced_edges(prefix)` gives the version pairs
    (key, a) -> (key, b) the guarantee forces from the events of `prefix`. The history
    satisfies the guarantee when some total order of versions contains every forced
    pair, and no client reads a version after having read one that the pairs forced by
    then put after it (transitively)."""
    edges = forced_edges(events)
    versions = sorted({v for e in edges for v in e}, key=repr)
    if not any(all(order.index(a) < order.index(b) for a, b in edges)
               for order in itertools.permutations(versions)):
        return False
    seen = {}
    for i, (client, what, kind, key, value) in enumerate(events):
        if what != "complete" or kind != "r":
            continue
        now = _closure(forced_edges(events[:i + 1]))
        if any(((key, value), (key, v)) in now for v in seen.get((client, key), [])):
            return False
        seen.setdefault((client, key), []).append(value)
    return True


def _closure(edges):
    pairs = set(edges)
    while True:
        more = {(a, d) for a, b in pairs for c, d in pairs if b == c} - pairs
        if not more:
            return pairs
        pairs |= more


def _write_edges(events, after_reads):
    """Per client and key: each write invocation after the client's earlier writes
    (monotonic writes) or after the values it read before (writes follow reads)."""
    edges, history = set(), {}
    for client, what, kind, key, value in events:
        past = history.setdefault((client, key), [])
        if what == "invoke" and kind == "w":
            edges |= {((key, p), (key, value)) for k, p in past if k == ("r" if after_reads else "w")}
            past.append(("w", value))
        elif what == "complete" and kind == "r":
            past.append(("r", value))
    return edges


def monotonic_writes(events, init=0) -> bool:
    return _observed(events, lambda ev: _write_edges(ev, after_reads=False))


def writes_follow_reads(events, init=0) -> bool:
    return _observed(events, lambda ev: _write_edges(ev, after_reads=True))
