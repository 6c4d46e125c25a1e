"""`delivery unordered`: any message in flight may arrive next; delivery consumes
one copy. Kept as a sorted tuple with repetition (a multiset)."""
from __future__ import annotations

from .base import DeliveryMode, Message, msg_key, older, remove_one


class Unordered(DeliveryMode):
    name = "unordered"
    ordered = False
    consumes = True
    z3_encoded = True  # an exact multiset: one counter per possible message
    collectable = True  # a sorted tuple of messages: dropping some leaves the rest as they were
    sorted_bag = True

    def send(self, net: tuple, msgs: list[Message]) -> tuple:
        if not msgs:
            return net
        return tuple(sorted(net + tuple(msgs), key=msg_key))

    def messages(self, net: tuple) -> list[Message]:
        return list(net)

    def from_messages(self, msgs: list[Message]) -> tuple:
        return tuple(msgs)  # `messages` lists them in sorted order already

    def without(self, net: tuple, dead: set) -> tuple:
        return tuple(m for m in net if m not in dead)

    def distinct(self, net: tuple) -> list[Message]:
        out, last = [], None
        for m in net:
            if m != last:
                out.append(m)
                last = m
        return out

    def deliverable(self, net: tuple) -> list[tuple[Message, tuple]]:
        """Every distinct message that could be delivered next, with the network after."""
        return [(m, remove_one(net, m)) for m in self.distinct(net)]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        return self.deliverable(net)

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        return [(m, self.send(net, [m])) for m in self.distinct(net)]

    def age(self, net: tuple, cap: int) -> tuple:
        """Every message one tick older (messages carry their age last; see model._stamp)."""
        return tuple(sorted((older(m, cap) for m in net), key=msg_key))
