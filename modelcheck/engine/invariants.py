"""Checking invariants on states: the one place every search (one process, workers,
simulation, shrinking, the explorer page, `prove`'s counterexamples) turns a state
into the Violations it shows.

On packed states the check is memoised by what the invariants read: where every
invariant reads all a state's nodes, up, ghosts and time, by that alone
(`packed_invariants`: a state where those repeat costs one lookup); otherwise per
invariant, by the slots that invariant reads (`per_invariant`, from
CodeGen.source_parts): Paxos' "one value chosen" reads only the votes ghost, so it
is evaluated once per distinct ghost value.
"""
from __future__ import annotations

from operator import itemgetter

from . import packed
from .contract import Explorable
from .memo import AdaptiveMemo
from .model import State
from .result import Violation
from ..lang.values import SpecRuntimeError



def check_state(model: Explorable, state: State, collect: bool, memo: bool = True) -> list[Violation]:
    """The invariants `state` violates: the first one only, unless `collect`.
    `memo=False` (a compiled Model only) skips the model's own memo, for a search
    that memoises by its own, cheaper keys."""
    found = model.violated_invariants(state, collect) if memo else model.evaluate_invariants(state, collect)
    return [invariant_violation(inv, err) for inv, err in found]


def invariant_violation(inv, err: SpecRuntimeError | None) -> Violation:
    """The Violation of an invariant that is false (err None) or raised err."""
    if err is not None:
        return Violation("runtime_error", inv.name, f"while evaluating invariant '{inv.name}': {err.message}",
                         err.span, in_invariant=True)
    return Violation("invariant", inv.name, f"invariant '{inv.name}' is violated", inv.decl.expr.span)


def runtime_violation(err: SpecRuntimeError) -> Violation:
    return Violation(err.kind, None, err.message, err.span)


def packed_invariants(model: Explorable, pm: "packed.PackedModel", collect: bool):
    """(violations, its memo) for the searches on packed states: violations(p, read)
    gives the invariants p violates, where `read` is what they read of it,
    pm.reads(p) (the measures read the same, so the caller builds it
    once). Memoised by `read` while states share it (memo.AdaptiveMemo) where
    every invariant reads all of it; otherwise per invariant (per_invariant), an
    invariant reading everything keyed by `read` itself. A memo by `read` in front
    of the per-invariant ones would keep a second key per state for the lookups
    it saves (on Paxos, half the states: 3 MB, 50 bytes a state, for a few
    hundredths of a second)."""
    evaluate, memo = per_invariant(model, pm, collect)
    if evaluate is not None:
        return evaluate, memo
    inv_memo = AdaptiveMemo(packed.NET_MEMO_LIMIT)
    inv_table, inv_hits = inv_memo.table, inv_memo.hits

    def violations(p: tuple, read: tuple) -> list[Violation]:
        bad = inv_table.get(read)
        if bad is None:
            return inv_memo.store(read, check_state(model, pm.unpack(p), collect, memo=False))
        inv_hits[0] += 1
        return bad
    return violations, inv_memo


def part_indexes(pm: "packed.PackedModel", parts: frozenset | None) -> tuple[int, ...]:
    """The slots of a packed state that hold `parts` (CodeGen.source_parts; None:
    everything an invariant can read: nodes, up, ghosts, time)."""
    k, timed = pm.k, pm.timed
    if parts is None:
        return tuple(range(k + 1)) + (k + 3,) + ((k + 5,) if timed else ())
    out = set()
    for part in parts:
        if part == "nodes":
            out.update(range(k))
        elif part == "up":
            out.add(k)
        elif part == "ghosts":
            out.add(k + 3)
        elif part in ("now", "clock"):
            if timed:
                out.add(k + 5)
        else:
            _, role = part
            out.update(next(r.node_ids for r in pm.model.checked.roles if r.name == role))
    return tuple(sorted(out))


def per_invariant(model: Explorable, pm: "packed.PackedModel", collect: bool):
    """(evaluate, its memos): evaluate(p, read) gives the Violations packed state p
    shows (check_state on it), each invariant memoised by the slots it reads
    (part_indexes; `read`, pm.reads(p), where that is everything). An invariant
    over the ghosts alone (Paxos' "one value chosen", over every vote cast) is
    evaluated once per distinct ghost value, not once per combination of every
    node's variables. (None, None) where every invariant reads everything (the
    caller memoises by `read` alone)."""
    invs = list(model.invariants)
    full = part_indexes(pm, None)
    slots = [part_indexes(pm, getattr(inv, "parts", None)) for inv in invs]
    if not invs or all(s == full for s in slots):
        return None, None
    keys = [None if s == full else (lambda p: ()) if not s else itemgetter(*s) for s in slots]
    memos = [AdaptiveMemo(packed.NET_MEMO_LIMIT) for _ in invs]
    entries = list(zip(invs, keys, [m.table for m in memos], memos))

    def evaluate(p: tuple, read: tuple) -> list[Violation]:
        out, st = [], None
        for inv, key, table, memo in entries:
            kp = read if key is None else key(p)
            v = table.get(kp)
            if v is None:
                if st is None:
                    st = pm.unpack(p)
                try:
                    v = False if inv.holds(st) else invariant_violation(inv, None)
                except SpecRuntimeError as err:
                    v = invariant_violation(inv, err)
                memo.store(kp, v)
            else:
                memo.hits[0] += 1
            if v is not False:
                out.append(v)
                if not collect:
                    break
        return out
    return evaluate, memos
