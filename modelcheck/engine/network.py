"""The three delivery modes (docs/language.md), behind one small interface.

A message is the tuple `(src, dst, kind, payload)`, or `(src, dst, kind, payload,
age)` when the spec bounds delivery time (`time { delivery within D }`). Each mode keeps the
messages in flight in a canonical, hashable form, so two states with the same
messages in flight compare equal however they got there.

    unordered  a sorted tuple with repetition (a multiset); delivery consumes one copy
    fifo       a sorted tuple of ((src, dst), queue) for non-empty queues; only heads deliver
    set        a sorted tuple without repetition; delivery does not consume (TLA+'s message set)
"""
from __future__ import annotations

from ..lang.values import sort_key

Message = tuple  # (src, dst, kind, payload)


_KEYS: dict = {}


def _msg_key(m: Message):
    """Canonical sort key of a message, memoised: the same few messages recur in
    millions of states, and `sort_key` walks the whole payload."""
    k = _KEYS.get(m)
    if k is None:
        k = _KEYS[m] = sort_key(m)
    return k


class Unordered:
    name = "unordered"
    empty: tuple = ()

    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        if not msgs:
            return net
        return tuple(sorted(net + tuple(msgs), key=_msg_key))

    def messages(self, net: tuple) -> list[Message]:
        return list(net)

    def distinct(self, net: tuple) -> list[Message]:
        out, last = [], None
        for m in net:
            if m != last:
                out.append(m)
                last = m
        return out

    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        """Every distinct message that could be delivered next, with the network after."""
        return [(m, _remove_one(net, m)) for m in self.distinct(net)]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        return self.deliverable(net)

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, self.send(net, [m])) for m in self.distinct(net)]

    def age(self, net: tuple, cap: int) -> tuple:
        """Every message one tick older (messages carry their age last; see model._stamp)."""
        return tuple(sorted((_older(m, cap) for m in net), key=_msg_key))


class Fifo:
    name = "fifo"
    empty: tuple = ()

    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        if not msgs:
            return net
        queues = dict(net)
        for m in msgs:
            link = (m[0], m[1])
            queues[link] = queues.get(link, ()) + (m,)
        return tuple(sorted(queues.items()))

    def messages(self, net: tuple) -> list[Message]:
        return [m for _, q in net for m in q]

    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(q[0], _replace_queue(net, i, q[1:])) for i, (_, q) in enumerate(net)]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        out = []
        for i, (_, q) in enumerate(net):
            for j, m in enumerate(q):
                if j > 0 and q[j - 1] == m:
                    continue  # dropping either of two adjacent equal copies gives the same queue
                out.append((m, _replace_queue(net, i, q[:j] + q[j + 1:])))
        return out

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        out = []
        for _, q in net:
            for m in dict.fromkeys(q):
                out.append((m, self.send(net, [m])))
        return out

    def age(self, net: tuple, cap: int) -> tuple:
        return tuple((link, tuple(_older(m, cap) for m in q)) for link, q in net)


class MessageSet:
    """A monotone set, kept as a sorted tuple without repetition so that reading it
    (every state, for deliveries) needs no sorting; only sending sorts."""

    name = "set"
    empty: tuple = ()

    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        new = [m for m in msgs if m not in net]
        if not new:
            return net
        return tuple(sorted(set(net).union(new), key=_msg_key))

    def messages(self, net: tuple) -> list[Message]:
        return list(net)

    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, net) for m in net]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, net[:i] + net[i + 1:]) for i, m in enumerate(net)]

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        return []  # a set already lets every message be received again


MODES = {"unordered": Unordered, "fifo": Fifo, "set": MessageSet}


def _older(m: Message, cap: int) -> Message:
    return m[:4] + (min(m[4] + 1, cap),)


def _remove_one(net: tuple, m: Message) -> tuple:
    i = net.index(m)
    return net[:i] + net[i + 1:]


def _replace_queue(net: tuple, i: int, q: tuple) -> tuple:
    if q:
        return net[:i] + ((net[i][0], q),) + net[i + 1:]
    return net[:i] + net[i + 1:]
