"""Canonical labelling of a state's interchangeable nodes: partition refinement and
individualisation (the scheme of nauty, bliss and Traces), shared by both symmetry
canonicalisers (engine/symmetry.py).

Symmetry stores one state per orbit only if every state of an orbit is mapped to
the same representative. Sorting nodes by what each holds (its key) leaves ties;
trying every order of the tied nodes is exact but costs k! renamings, so it was
capped, and past the cap renamed copies stayed apart (TwoPhase with 12 resource
managers: 196,623 states for 6,656 orbits). Here:

  1. Refinement. Each node starts with a colour: its key (fixed nodes, those of
     no symmetric group, a colour of their own). Then, round after round, a node's
     colour becomes (its colour, the sorted colours of the nodes it points at with
     each label, the sorted colours of those pointing at it): "who refers to whom"
     (a variable holding a node, a message from one node to another or naming a
     node) tells tied nodes apart. Colours are ranks of sorted signatures, so they
     do not depend on how nodes are named.
  2. Individualisation. If a cell of tied nodes is left, each of its nodes in turn
     is given a colour of its own and the refinement runs again, down to leaves
     where every node has its own colour: a leaf is a renaming (nodes of a group
     sorted by colour). The representative is the least state over all leaves.
     Every step depends only on the state up to renaming, so the set of leaves is
     the same for every state of an orbit, and so is its least element: exact.
  3. Pruning. If swapping two nodes u, v of a cell leaves the state unchanged (an
     automorphism), v's subtree is u's renamed and gives the same leaves: it is
     not searched. Identical nodes (the usual case: twelve resource managers that
     have not voted) thus cost one branch per level, not k!. When the first node of
     a cell swapped with each other one fixes the state, every order of the cell
     does (those swaps generate them all): the cell's subtrees are all alike, the
     first is searched and counted m times, and the levels below that meet the rest
     of the cell know it without asking again. If moreover no node of such a cell
     is linked to a node still tied, individualising one changes no other cell, so
     the levels below would take the rest one by one, lowest node first: that
     order is taken at once (m! leaves alike), with the same leaf.

The number of leaves that give the least state is the number of renamings that
fix it (counted through pruned branches too), so the orbit size is exact as well
(`Result`'s "without symmetry" total).

Only the order of keys, labels and colours matters to every step above (they are
compared, never read), so any order-preserving renumbering of them gives the same
colours, leaves and representative. `search` takes the graph in that form: labels
as ints (a label's rank among the labels), each (label, colour) pair one int,
label * k + colour; PackedSymmetry keeps its edges in it, per part of a state and
with labels ranked once for the whole run, so a state costs a few list joins and
the rounds of refinement, not a ranking of its labels. `canonical` ranks a state's
own labels and keys (Symmetry, on States).
"""
from __future__ import annotations

import math
from typing import Callable, Hashable


def canonical(k: int, groups: list[list[int]], keys: dict, edges: list[tuple[int, Hashable, int]],
              leaf: Callable[[tuple], tuple], fixes: Callable[[int, int], bool]) -> tuple:
    """(sort key, value) of the least leaf, and how many leaves give it.

    k       the number of nodes (0..k-1); nodes in no group stay in place
    groups  the symmetric groups: a renaming permutes each group's nodes
    keys    per grouped node, a comparable key that renamings preserve
    edges   (a, label, b): node a refers to node b (labels comparable, renaming-invariant)
    leaf    leaf(pi) -> (sort key, value) for the renaming pi (pi[i]: node i's new name)
    fixes   fixes(u, v): swapping u and v leaves the state unchanged
    """
    ranks: dict = {}
    for g in groups:  # keys are compared within a group only
        ranks.update(zip(g, _ranks([keys[i] for i in g])))
    labels = _ranks([label for _, label, _ in edges])
    out: list[list] = [[] for _ in range(k)]
    into: list[list] = [[] for _ in range(k)]
    for (a, _, b), r in zip(edges, labels):
        out[a].append((r * k, b))
        into[b].append((r * k, a))
    return search(k, groups, initial_colours(k, groups, ranks), out, into, leaf, fixes)


def initial_colours(k: int, groups: list[list[int]], ranks: dict) -> list[int]:
    """The colours refinement starts from: a grouped node's (group, rank of its key),
    a node of no group one of its own (ranks: grouped node -> its key's rank)."""
    sigs: list = [(0, i) for i in range(k)]
    for g, nodes in enumerate(groups):
        for i in nodes:
            sigs[i] = (1, g, ranks[i])
    return _ranks(sigs)


def search(k: int, groups: list[list[int]], colours: list[int], out: list, into: list,
           leaf: Callable[[tuple], tuple], fixes: Callable[[int, int], bool]) -> tuple:
    """`canonical` on the ranked graph: colours (ints from 0), and per node, the
    (label * k, other node) of the edges out of it (`out`) and into it (`into`),
    labels ranked as ints."""
    return _Search(k, groups, out, into, leaf, fixes).run(colours)


def _ranks(sigs: list) -> list[int]:
    order = {s: r for r, s in enumerate(sorted(set(sigs)))}
    return [order[s] for s in sigs]


class _Search:
    def __init__(self, k, groups, out, into, leaf, fixes):
        self.k, self.groups, self.out, self.into = k, groups, out, into
        self.leaf, self.fixes = leaf, fixes
        self.linked = any(out)  # without edges refinement has nothing to add
        self.grouped = sorted(i for g in groups for i in g)
        # node -> a token shared by nodes any order of which fixes the state (a cell
        # whose every node swapped with its first leaves the state as it is): deeper
        # levels meet the rest of that cell again and need not ask `fixes` again
        self.swapped: dict = {}

    def refine(self, colours: list[int]) -> list[int]:
        if not self.linked:
            return colours
        k = self.k
        cells = len(set(colours))
        out, into = self.out, self.into
        while cells < k:  # a discrete partition is stable: a round would only rank it again
            # Only nodes that share their colour get a signature: a node alone in its
            # cell keeps (its colour,), which no other signature starts with, so the
            # ranks, and every colour below, are what signing every node gives
            # (TwoPhase with 12 managers: about 9 cells of 13 nodes a round)
            seen, shared = set(), set()
            for c in colours:
                if c in seen:
                    shared.add(c)
                seen.add(c)
            sigs = []
            for i, c in enumerate(colours):
                if c in shared:
                    o = [lk + colours[j] for lk, j in out[i]]
                    o.sort()
                    n = [lk + colours[j] for lk, j in into[i]]
                    n.sort()
                    sigs.append((c, *o, -1, *n))  # -1: where the edges in start (colours >= 0)
                else:
                    sigs.append((c,))
            colours = _ranks(sigs)
            n = len(set(colours))
            if n == cells:  # no cell split: stable
                return colours
            cells = n
        return colours

    def run(self, colours: list[int]) -> tuple:
        colours = self.refine(colours)
        cells: dict = {}
        for i in self.grouped:
            cells.setdefault(colours[i], []).append(i)
        tied = [c for c, nodes in cells.items() if len(nodes) > 1]
        if not tied:
            pi = list(range(self.k))
            for g in self.groups:
                for pos, old in enumerate(sorted(g, key=colours.__getitem__)):
                    pi[old] = g[pos]
            key, value = self.leaf(tuple(pi))
            return key, value, 1
        cell = cells[min(tied)]
        first = cell[0]
        token = self.swapped.get(first)
        alike = token is not None and all(self.swapped.get(v) is token for v in cell)
        with_first: dict = {}
        if not alike:
            # swapping the first node with each other one: if every swap fixes the
            # state, so does every order of the cell (the swaps generate them all)
            for v in cell[1:]:
                with_first[v] = self.fixes(first, v)
                if not with_first[v]:
                    break
            else:
                alike, token = True, object()
                for v in cell:
                    self.swapped[v] = token
        if alike:
            # each subtree is the first one renamed, with the same leaves (what the
            # loop below finds, one `fixes` per node); deeper levels that meet the
            # rest of this cell again know it without asking
            out, into = self.out, self.into
            tied_nodes = {i for c in tied for i in cells[c]}
            if all(j not in tied_nodes for v in cell for edges in (out[v], into[v]) for _, j in edges):
                # nodes whose every neighbour is alone in its cell: individualising one
                # changes no other node's cell (the neighbours' signatures change, but
                # each is alone already), so the levels below take the rest of the
                # cell one by one, lowest node first, and nothing else: that order at
                # once, with m! leaves alike
                pos = {v: r for r, v in enumerate(cell)}
                res = self.run(_ranks([(c, pos.get(i, 0)) for i, c in enumerate(colours)]))
                return res[0], res[1], res[2] * math.factorial(len(cell))
            res = self._below(colours, first)
            return res[0], res[1], res[2] * len(cell)
        best, count = None, 0
        done: list = []  # (node, its result)
        for v in cell:
            res = next((r for u, r in done if (with_first[v] if u == first and v in with_first
                                                else self.fixes(u, v))), None)
            if res is None:
                res = self._below(colours, v)
            done.append((v, res))
            if best is None or res[0] < best[0]:
                best, count = res, res[2]
            elif res[0] == best[0]:
                count += res[2]
        return best[0], best[1], count

    def _below(self, colours: list[int], v: int) -> tuple:
        """The search below colours with v individualised: v alone, just before the
        rest of its cell."""
        c2 = [2 * c for c in colours]
        c2[v] -= 1
        return self.run(_ranks(c2))
