"""Run-time values: canonical ordering, map operations, range checks, rendering.

See `types.py` for how each type is represented. Everything here is pure and
deterministic: iteration over sets and maps always goes through `ordered`, so
results never depend on Python's hash order.
"""
from __future__ import annotations

from typing import Callable

from .syntax import int_text  # noqa: F401 - one definition, also used by cli
from .types import (AnyT, BoolT, EnumT, IntT, MapT, NodeT, NoneT, OptT, SeqT, SetT, TupleT, Type)


class SpecRuntimeError(Exception):
    """A run-time error in the spec (out of range, missing key, failed assert...).

    It becomes a counterexample: the trace ends in the step that raised it.
    """

    def __init__(self, message: str, span, kind: str = "runtime_error"):
        super().__init__(message)
        self.message = message
        self.span = span
        self.kind = kind  # "runtime_error" | "assert"


def sort_key(v):
    """A total order over all run-time values (None < bools < ints < tuples < sets)."""
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, int(v))
    if isinstance(v, int):
        return (2, v)
    if isinstance(v, tuple):
        return (3, tuple(sort_key(x) for x in v))
    if isinstance(v, frozenset):
        return (4, tuple(sorted(sort_key(x) for x in v)))
    raise TypeError(f"not a spec value: {v!r}")


_ORDERED: dict = {}


def ordered(values) -> list:
    """Values in canonical order (used for every iteration the user can observe).

    The order of a set of tuples of ints is memoised: the same few sets are
    iterated in millions of states (quantifiers in invariants) and sorting them by
    `sort_key` dominates. Only such sets: `True == 1`, so a set holding bools is
    equal to one holding ints and must not be answered with the other's elements."""
    if type(values) is frozenset and values and all(type(v) is tuple and all(type(x) is int for x in v)
                                                     for v in values):
        got = _ORDERED.get(values)
        if got is None:
            if len(_ORDERED) >= 100_000:
                _ORDERED.clear()
            got = _ORDERED[values] = tuple(sorted(values, key=sort_key))
        return got
    return _sorted(list(values))


_ORDERED_NO_BOOLS: dict = {}


def ordered_no_bools(values) -> list:
    """`ordered` for a set whose type holds no bool (types.holds_no_bools), memoised
    by value: no two such values of different types are equal. Sets of node ids and
    of log entries are iterated (`any`, comprehensions) in most steps of some specs."""
    if type(values) is not frozenset:
        return ordered(values)
    got = _ORDERED_NO_BOOLS.get(values)
    if got is None:
        if len(_ORDERED_NO_BOOLS) >= 100_000:
            _ORDERED_NO_BOOLS.clear()
        got = _ORDERED_NO_BOOLS[values] = tuple(_sorted(list(values)))
    return got


def _sorted(values: list) -> list:
    if all(type(v) is int for v in values):
        return sorted(values)
    return sorted(values, key=sort_key)


# ---- maps: a frozenset of (key, value) pairs, one pair per key -------------------------
# A frozenset (not a dict) so that maps are hashable, compare by content, and the
# empty map is the same value as the empty set literal `{}`.

def map_from(pairs) -> frozenset:
    d = {}
    for k, v in pairs:
        d[k] = v
    return frozenset(d.items())


def map_get(m: frozenset, key, span, shown: str | None = None):
    """m[key]; `shown` is the key as the user should read it (node names, enum members)."""
    for k, v in m:
        if k == key:
            return v
    raise SpecRuntimeError(f"missing map key {shown or _plain(key)}", span)


def map_has(m: frozenset, key) -> bool:
    return any(k == key for k, _ in m)


def map_set(m: frozenset, key, value) -> frozenset:
    return frozenset([(k, v) for k, v in m if k != key] + [(key, value)])


def map_keys(m: frozenset) -> list:
    return ordered(k for k, _ in m)


def map_items(m: frozenset) -> list:
    """Pairs in key order."""
    return sorted(m, key=lambda kv: sort_key(kv[0]))


def _plain(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


# ---- range checks ---------------------------------------------------------------------

def value_checker(t: Type, role_nodes: dict[str, range]) -> Callable[[object], bool] | None:
    """A predicate telling whether a value fits declared type `t` (None: always fits)."""
    if isinstance(t, IntT) and t.lo is not None:
        lo, hi = t.lo, t.hi
        return lambda v: lo <= v <= hi
    if isinstance(t, NodeT) and t.role is not None:
        ids = role_nodes[t.role]
        return lambda v: v in ids
    if isinstance(t, OptT):
        inner = value_checker(t.inner, role_nodes)
        return None if inner is None else (lambda v: v is None or inner(v))
    if isinstance(t, SetT):
        inner = value_checker(t.elem, role_nodes)
        return None if inner is None else (lambda v: all(inner(x) for x in v))
    if isinstance(t, SeqT):
        inner = value_checker(t.elem, role_nodes)
        mx = t.max
        if inner is None:
            return None if mx is None else (lambda v: len(v) <= mx)
        return lambda v: (mx is None or len(v) <= mx) and all(inner(x) for x in v)
    if isinstance(t, MapT):
        kc, vc = value_checker(t.key, role_nodes), value_checker(t.value, role_nodes)
        if kc is None and vc is None:
            return None
        kc = kc or (lambda v: True)
        vc = vc or (lambda v: True)
        return lambda m: all(kc(k) and vc(v) for k, v in m)
    if isinstance(t, TupleT):
        checks = [value_checker(i, role_nodes) for i in t.items]
        if all(c is None for c in checks):
            return None
        return lambda v: all(c is None or c(x) for c, x in zip(checks, v))
    return None


# ---- rendering --------------------------------------------------------------------------

class Renderer:
    """Type-directed rendering of run-time values, for traces (text) and JSON."""

    def __init__(self, node_names: list[str]):
        self.node_names = node_names

    def node(self, n: int) -> str:
        return self.node_names[n] if 0 <= n < len(self.node_names) else f"node#{n}"

    def text(self, v, t: Type) -> str:
        if v is None:
            return "none"
        if isinstance(t, OptT):
            return self.text(v, t.inner)
        if isinstance(t, BoolT) or isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(t, EnumT):
            return t.members[v] if 0 <= v < len(t.members) else str(v)
        if isinstance(t, NodeT):
            return self.node(v)
        if isinstance(t, SetT):
            return "{" + ", ".join(self.text(x, t.elem) for x in ordered(v)) + "}"
        if isinstance(t, SeqT):
            return "[" + ", ".join(self.text(x, t.elem) for x in v) + "]"
        if isinstance(t, MapT):
            return "{" + ", ".join(f"{self.text(k, t.key)}: {self.text(x, t.value)}" for k, x in map_items(v)) + "}"
        if isinstance(t, TupleT):
            inner = ", ".join(self.text(x, it) for x, it in zip(v, t.items))
            return "(" + inner + ("," if len(t.items) == 1 else "") + ")"
        if isinstance(t, (AnyT, NoneT)):
            return self._untyped(v)
        return int_text(v) if isinstance(v, int) else str(v)

    def _untyped(self, v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, frozenset):
            return "{" + ", ".join(self._untyped(x) for x in ordered(v)) + "}"
        if isinstance(v, tuple):
            return "(" + ", ".join(self._untyped(x) for x in v) + ")"
        return "none" if v is None else int_text(v) if isinstance(v, int) else str(v)

    def json(self, v, t: Type):
        """JSON-friendly form: node ids and enum members as names, sets as sorted lists,
        maps as lists of [key, value] pairs (keys need not be strings)."""
        if v is None:
            return None
        if isinstance(t, OptT):
            return self.json(v, t.inner)
        if isinstance(t, BoolT) or isinstance(v, bool):
            return bool(v)
        if isinstance(t, EnumT):
            return t.members[v]
        if isinstance(t, NodeT):
            return self.node(v)
        if isinstance(t, SetT):
            return [self.json(x, t.elem) for x in ordered(v)]
        if isinstance(t, SeqT):
            return [self.json(x, t.elem) for x in v]
        if isinstance(t, MapT):
            return [[self.json(k, t.key), self.json(x, t.value)] for k, x in map_items(v)]
        if isinstance(t, TupleT):
            return [self.json(x, it) for x, it in zip(v, t.items)]
        if isinstance(v, frozenset):
            return [self.json(x, t) for x in ordered(v)]
        if isinstance(v, tuple):
            return [self.json(x, t) for x in v]
        return v
