"""Hashes of spec values that are the same in every process.

Python's `hash` of a string depends on the process's hash seed, and a packed
state's intern ids on the order a process met its values. Two things must not
depend on either: which worker owns a state (engine/parallel/wire.py), and whether
a worker on another machine built the search's model (wire.model_signature). (Which
renaming symmetry stores is decided by value too: engine/symmetry.value_key.)
"""
from __future__ import annotations

import hashlib

MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix(h: int) -> int:
    """A 64-bit finaliser (splitmix64's): spreads sums of terms over all bits."""
    h = (h + _GOLDEN) & MASK
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & MASK
    return h ^ (h >> 31)


def _digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def stable_hash(v) -> int:
    """A 64-bit hash of a spec value that is the same in every process whatever its
    hash seed (Python's `hash` of a string is not). Sets hash as the sum of their
    elements' hashes, so their iteration order does not matter. Values equal in
    Python hash equal, as intern tables take them for one: False is 0, True is 1."""
    t = type(v)
    if v is None:
        return 0x5EED
    if t is int or t is bool:
        return mix(v & MASK) ^ 0x1
    if t is str:
        return _digest(b"s" + v.encode("utf-8", "surrogatepass"))
    if t is bytes:
        return _digest(b"b" + v)
    if t is tuple or t is list:
        h = 0x7A
        for x in v:
            h = mix((h * 31 + stable_hash(x)) & MASK)
        return h
    if t is frozenset or t is set:
        return mix((0x5E7 + sum(stable_hash(x) for x in v)) & MASK)
    return _digest(b"o" + f"{t.__module__}.{t.__qualname__}:{v!r}".encode())
