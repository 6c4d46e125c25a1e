"""`partition [at most K]`: the nodes split into two sides that cannot reach each
other (every link between the sides is cut, both ways); links inside a side stay.

One step per split of the nodes into two non-empty sides (2^(n-1) - 1 of them),
enabled while some link of that split is still intact."""
from __future__ import annotations

from .base import CutShape, symmetric

MAX_PARTITION_NODES = 16  # 2^15 - 1 splits per state beyond which `one_way` or `link` serve better


def bipartitions(n: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every split of nodes 0..n-1 into two non-empty sides, each split once.

    The last node is always on the second side, so {A, B} and {B, A} are not
    both listed: 2^(n-1) - 1 splits.
    """
    out = []
    if n < 2:  # nothing to split (a spec without nodes, or with one)
        return out
    for mask in range(1, 2 ** (n - 1)):
        a = tuple(i for i in range(n - 1) if mask >> i & 1)
        b = tuple(i for i in range(n) if not (i < n - 1 and mask >> i & 1))
        out.append((a, b))
    return out


class Partition(CutShape):
    keyword = "partition"
    max_nodes, plural, count = MAX_PARTITION_NODES, "partitions", "2^{n1} - 1 splits"

    def shapes(self, n):
        return [((a, b), symmetric((x, y) for x in a for y in b)) for a, b in bipartitions(n)]

    def label(self, detail):
        return f"{detail[0]}|{detail[1]}"

    def headline(self, d, step):
        a, b = step.detail
        return f"fault: network partition {d.nodes(a)} | {d.nodes(b)}"

    def detail_json(self, d, step):
        a, b = step.detail
        return {"sides": [[d.node(n) for n in a], [d.node(n) for n in b]]}

    def note(self, d, step, i):
        a, b = step.detail
        return f"{i}. partition {d.nodes(a)} | {d.nodes(b)}", "note fault"
