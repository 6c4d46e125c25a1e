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
