"""What a delivery mode is: the `DeliveryMode` interface and helpers its modes share.

Each mode (docs/language.md, Network) lives in its own module of this package and
is registered in `MODES` (modelcheck/network/__init__.py).

A message is the tuple `(src, dst, kind, payload)`, or `(src, dst, kind, payload,
age)` when the spec bounds delivery time (`time { delivery within D }`). Each mode keeps the
messages in flight in a canonical, hashable form, so two states with the same
messages in flight compare equal however they got there.

    unordered  a sorted tuple with repetition (a multiset); delivery consumes one copy
    fifo       a sorted tuple of ((src, dst), queue) for non-empty queues; only heads deliver
    set        a sorted tuple without repetition; delivery does not consume (TLA+'s message set)
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from ..lang.values import sort_key

Message = tuple  # (src, dst, kind, payload)


_KEYS: dict = {}


def msg_key(m: Message):
    """Canonical sort key of a message, memoised: the same few messages recur in
    millions of states, and `sort_key` walks the whole payload."""
    k = _KEYS.get(m)
    if k is None:
        k = _KEYS[m] = sort_key(m)
    return k


class DeliveryMode(ABC):
    """One delivery mode. The engines only call these methods; the facts below are
    what the reductions and the z3 encoding must know about a mode:

        ordered     deliveries on one link happen in sending order, so any two
                    operations on a link's messages conflict (engine/reduction.py
                    gives each link one footprint bit instead of one per message)
        consumes    delivering a message removes it (a message set keeps it, so no
                    delivery can ever be due: `delivery within` needs consumption)
        z3_encoded  smt/symbolic.py can encode it (prove); otherwise `prove` says
                    it is unsupported
        collectable a message in flight can be removed without changing when the
                    others can be delivered (not with queues: a message holds back
                    the ones behind it), so dead messages may be dropped
                    (modelcheck/prune/dead.py)
        sorted_bag  the network is its messages sorted by `msg_key`, with repetition
                    if it consumes, without if not; delivery offers each distinct
                    message in that order. The packed engine then delivers and sends
                    on message ids without building the network (engine/packed.py,
                    NetCodec); any other mode goes through these methods.
    """

    name: str
    ordered: bool
    consumes: bool
    z3_encoded: bool
    collectable: bool
    sorted_bag: bool
    empty: tuple = ()

    FACTS = ("name", "ordered", "consumes", "z3_encoded", "collectable", "sorted_bag")

    def __init_subclass__(cls, **kw):
        """Every mode states every fact itself: a default could make a new ordered
        mode look unordered to the sleep-set reduction, which would be unsound."""
        super().__init_subclass__(**kw)
        missing = [f for f in cls.FACTS if f not in cls.__dict__]
        if missing:
            raise TypeError(f"delivery mode {cls.__name__} must set {', '.join(missing)}")

    @abstractmethod
    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        """The network after these messages are sent, in canonical form."""

    @abstractmethod
    def messages(self, net: tuple) -> list[Message]:
        """Every message in flight, in the network's canonical order."""

    def from_messages(self, msgs: list[Message]) -> tuple:
        """The network whose `messages` are exactly `msgs`, in that order: the inverse
        of `messages`, which lets the packed engine keep a network as the list of its
        messages' ids (engine/packed.py, NetCodec)."""
        return self.send(self.empty, msgs)

    @abstractmethod
    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        """Every distinct message that could be delivered next, with the network after."""

    @abstractmethod
    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        """Every distinct way to drop one message: (message, network after)."""

    @abstractmethod
    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        """Every distinct way to duplicate one message: (message, network after)."""

    def without(self, net: tuple, dead: set) -> tuple:
        """The network with every copy of these messages removed (collectable modes)."""
        raise NotImplementedError(f"delivery {self.name} cannot drop messages")

    def age(self, net: tuple, cap: int) -> tuple:
        """Every message one tick older (messages carry their age last; see
        Model._stamp). Only modes that consume messages are ever aged."""
        raise NotImplementedError(f"delivery {self.name} cannot bound delivery time")


def older(m: Message, cap: int) -> Message:
    return m[:4] + (min(m[4] + 1, cap),)


def remove_one(net: tuple, m: Message) -> tuple:
    i = net.index(m)
    return net[:i] + net[i + 1:]


def replace_queue(net: tuple, i: int, q: tuple) -> tuple:
    if q:
        return net[:i] + ((net[i][0], q),) + net[i + 1:]
    return net[:i] + net[i + 1:]
