"""`delivery set`: messages are never consumed, so any message sent may be received
again, any number of times (TLA+'s message set). Kept as a sorted tuple without
repetition."""
from __future__ import annotations

from .base import DeliveryMode, Message, msg_key


class MessageSet(DeliveryMode):
    """A monotone set, kept as a sorted tuple without repetition so that reading it
    (every state, for deliveries) needs no sorting; only sending sorts."""

    name = "set"
    ordered = False
    consumes = False
    z3_encoded = True  # one Bool per possible message
    collectable = True  # a sorted tuple of messages: dropping some leaves the rest as they were
    sorted_bag = True

    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        new = [m for m in msgs if m not in net]
        if not new:
            return net
        return tuple(sorted(set(net).union(new), key=msg_key))

    def messages(self, net: tuple) -> list[Message]:
        return list(net)

    def from_messages(self, msgs: list[Message]) -> tuple:
        return tuple(msgs)  # `messages` lists them in sorted order already

    def without(self, net: tuple, dead: set) -> tuple:
        return tuple(m for m in net if m not in dead)

    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, net) for m in net]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, net[:i] + net[i + 1:]) for i, m in enumerate(net)]

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        return []  # a set already lets every message be received again
