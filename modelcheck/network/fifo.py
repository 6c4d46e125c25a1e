"""`delivery fifo`: per link (src, dst), messages arrive in sending order; only a
queue's head can be delivered. Kept as a sorted tuple of ((src, dst), queue) for
non-empty queues."""
from __future__ import annotations

from .base import DeliveryMode, Message, older, replace_queue


class Fifo(DeliveryMode):
    name = "fifo"
    consumes = True
    z3_encoded = False
    collectable = False  # a message holds back the ones behind it on its link
    sorted_bag = False
    ordered = True

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
        return [(q[0], replace_queue(net, i, q[1:])) for i, (_, q) in enumerate(net)]

    def lose(self, net: tuple) -> list[tuple[Message, tuple]]:
        out = []
        for i, (_, q) in enumerate(net):
            for j, m in enumerate(q):
                if j > 0 and q[j - 1] == m:
                    continue  # dropping either of two adjacent equal copies gives the same queue
                out.append((m, replace_queue(net, i, q[:j] + q[j + 1:])))
        return out

    def duplicate(self, net: tuple) -> list[tuple[Message, tuple]]:
        out = []
        for _, q in net:
            for m in dict.fromkeys(q):
                out.append((m, self.send(net, [m])))
        return out

    def age(self, net: tuple, cap: int) -> tuple:
        return tuple((link, tuple(older(m, cap) for m in q)) for link, q in net)
