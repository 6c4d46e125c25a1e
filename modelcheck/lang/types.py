"""Static types of the .ha language and their run-time value conventions.

Run-time values are plain, hashable Python values chosen for compact states:

    bool          -> bool
    LO..HI        -> int
    enum member   -> int (index of the member in its enum)
    node id       -> int (global node index, in declaration order)
    none          -> None
    set<T>        -> frozenset
    seq<T, M>     -> tuple
    (T1, T2)      -> tuple
    map<K, V>     -> frozenset of (key, value) pairs, one per key

Because enums and node ids are ints at run time, rendering a value for a user
is type-directed (`render_value`).
"""
from __future__ import annotations

from dataclasses import dataclass


class Type:
    # How the type is written, filled in with its fields (`set<{elem}>`); types
    # whose spelling depends on their values override describe instead.
    shape: str = ""

    def describe(self) -> str:
        if not self.shape:
            raise NotImplementedError(type(self).__name__)
        return self.shape.format(**{f: getattr(self, f) for f in self.__dataclass_fields__})

    def __str__(self) -> str:
        return self.describe()


def holds_no_bools(t: Type) -> bool:
    """Whether no value of type t is or contains a bool. Then no two of its values of
    different types are equal (`True == 1` is the one such case among spec values),
    so values.ordered_no_bools may memoise by value."""
    if isinstance(t, (IntT, EnumT, NodeT, NoneT)):
        return True
    if isinstance(t, OptT):
        return holds_no_bools(t.inner)
    if isinstance(t, (SetT, SeqT)):
        return holds_no_bools(t.elem)
    if isinstance(t, MapT):
        return holds_no_bools(t.key) and holds_no_bools(t.value)
    if isinstance(t, TupleT):
        return all(holds_no_bools(i) for i in t.items)
    return False  # bool, or a type not known here


@dataclass(frozen=True)
class BoolT(Type):
    shape = "bool"


@dataclass(frozen=True)
class IntT(Type):
    """An integer; declared types carry bounds, expression results usually do not."""

    lo: int | None = None
    hi: int | None = None

    def describe(self):
        return f"{self.lo}..{self.hi}" if self.lo is not None else "int"


@dataclass(frozen=True)
class EnumT(Type):
    name: str
    members: tuple[str, ...]

    def describe(self):
        return self.name


@dataclass(frozen=True)
class NodeT(Type):
    """A node id; `role` None means any node (the `node` type)."""

    role: str | None = None

    def describe(self):
        return self.role or "node"


@dataclass(frozen=True)
class OptT(Type):
    inner: Type
    shape = "{inner}?"


@dataclass(frozen=True)
class SetT(Type):
    elem: Type
    shape = "set<{elem}>"


@dataclass(frozen=True)
class MapT(Type):
    key: Type
    value: Type
    shape = "map<{key}, {value}>"


@dataclass(frozen=True)
class SeqT(Type):
    elem: Type
    max: int | None = None

    def describe(self):
        return f"seq<{self.elem}, {self.max}>" if self.max is not None else f"seq<{self.elem}>"


@dataclass(frozen=True)
class TupleT(Type):
    items: tuple[Type, ...]

    def describe(self):
        return "(" + ", ".join(str(t) for t in self.items) + ")"


@dataclass(frozen=True)
class NoneT(Type):
    """The type of the literal `none` before it meets an optional type."""

    def describe(self):
        return "none"


@dataclass(frozen=True)
class AnyT(Type):
    """Element type of `{}` and `[]`: unknown until context fixes it."""

    def describe(self):
        return "?"


BOOL = BoolT()
INT = IntT()
ANY = AnyT()
NONE = NoneT()


def assignable(src: Type, dst: Type) -> bool:
    """Can a value of static type `src` be stored where `dst` is declared?

    Int ranges and node roles are checked at run time (a value outside the range
    is a spec error with a trace), so any int fits any int type statically, and a
    `node` fits a role type.
    """
    if isinstance(src, AnyT) or isinstance(dst, AnyT):
        return True
    if isinstance(dst, OptT):
        if isinstance(src, NoneT):
            return True
        if isinstance(src, OptT):
            return assignable(src.inner, dst.inner)
        return assignable(src, dst.inner)
    if isinstance(src, IntT):
        return isinstance(dst, IntT)
    if isinstance(src, NodeT):
        return isinstance(dst, NodeT) and (dst.role is None or src.role is None or src.role == dst.role)
    if isinstance(src, SetT):
        if isinstance(dst, MapT) and isinstance(src.elem, AnyT):
            return True  # `{}` is also the empty map
        return isinstance(dst, SetT) and assignable(src.elem, dst.elem)
    if isinstance(src, SeqT):
        return isinstance(dst, SeqT) and assignable(src.elem, dst.elem)
    if isinstance(src, MapT):
        return isinstance(dst, MapT) and assignable(src.key, dst.key) and assignable(src.value, dst.value)
    if isinstance(src, TupleT):
        return (isinstance(dst, TupleT) and len(src.items) == len(dst.items)
                and all(assignable(a, b) for a, b in zip(src.items, dst.items)))
    return src == dst


def join(a: Type, b: Type) -> Type | None:
    """The least type holding both (for `==`, set literals, if-then-else), or None."""
    if isinstance(a, AnyT):
        return b
    if isinstance(b, AnyT):
        return a
    if isinstance(a, NoneT) and isinstance(b, NoneT):
        return a
    if isinstance(a, NoneT):
        return b if isinstance(b, OptT) else OptT(b)
    if isinstance(b, NoneT):
        return a if isinstance(a, OptT) else OptT(a)
    if isinstance(a, OptT) or isinstance(b, OptT):
        inner = join(a.inner if isinstance(a, OptT) else a, b.inner if isinstance(b, OptT) else b)
        return OptT(inner) if inner is not None else None
    if isinstance(a, IntT) and isinstance(b, IntT):
        return INT
    if isinstance(a, NodeT) and isinstance(b, NodeT):
        return a if a.role == b.role else NodeT(None)
    if isinstance(a, SetT) and isinstance(a.elem, AnyT) and isinstance(b, MapT):
        return b
    if isinstance(b, SetT) and isinstance(b.elem, AnyT) and isinstance(a, MapT):
        return a
    if isinstance(a, SetT) and isinstance(b, SetT):
        e = join(a.elem, b.elem)
        return SetT(e) if e is not None else None
    if isinstance(a, SeqT) and isinstance(b, SeqT):
        e = join(a.elem, b.elem)
        return SeqT(e) if e is not None else None
    if isinstance(a, MapT) and isinstance(b, MapT):
        k, v = join(a.key, b.key), join(a.value, b.value)
        return MapT(k, v) if k is not None and v is not None else None
    if isinstance(a, TupleT) and isinstance(b, TupleT) and len(a.items) == len(b.items):
        items = [join(x, y) for x, y in zip(a.items, b.items)]
        return None if any(i is None for i in items) else TupleT(tuple(items))
    return a if a == b else None


def collection_elem(t: Type) -> Type | None:
    """The element type when iterating `t` (sets, seqs; maps iterate their keys)."""
    if isinstance(t, (SetT, SeqT)):
        return t.elem
    if isinstance(t, MapT):
        return t.key
    return None
