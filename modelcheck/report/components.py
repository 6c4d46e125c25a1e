"""`modelcheck graph --components`: the strongly connected components of the drawn graph.

Why: a component is a set of states that can all reach one another, so where a
system can go round forever (a liveness counterexample's cycle lies inside one),
and a terminal component, which no edge leaves, is where every run that enters it
stays. On a drawing of a few hundred states neither is visible by eye, so the
option boxes each component of more than one state and says which are terminal.
They are computed with networkx (engine/nxgraph.py: components and condensation)
over the drawn edges: every step, fault steps included; failing steps, which lead
to an error node and to no state, are not edges between states.
"""
from __future__ import annotations

from ..engine import nxgraph
from ..engine.liveness import Graph


def _facts(g: Graph) -> tuple[list[list[int]], list[bool]]:
    return nxgraph.components(nxgraph.digraph(g))


def _boxes(g: Graph):
    """(number, states, title) of each component of more than one state, by smallest state."""
    comps, terminal = _facts(g)
    n = 0
    for comp, term in zip(comps, terminal):
        if len(comp) > 1:
            yield n, comp, f"C{n}: {len(comp)} states{', terminal' if term else ''}"
            n += 1


def dot_clusters(g: Graph) -> list[str]:
    """DOT lines boxing each component (the states are declared before)."""
    out = []
    for n, comp, title in _boxes(g):
        out.append(f'  subgraph cluster_c{n} {{ label="{title}"; style="dashed"; color="blue"; '
                   + " ".join(f"s{s};" for s in comp) + " }")
    return out


def mermaid_subgraphs(g: Graph) -> list[str]:
    """Mermaid subgraphs boxing each component (no links: link numbers stay)."""
    out = []
    for n, comp, title in _boxes(g):
        out.append(f'    subgraph c{n}["{title}"]')
        out += [f"        s{s}" for s in comp]
        out.append("    end")
    return out


def summary(g: Graph) -> str:
    """One line for stderr: how many components, how many boxed, and the terminal
    ones (a box's name, or a single state's)."""
    comps, terminal = _facts(g)
    names, boxed = [], 0
    for comp, term in zip(comps, terminal):
        if term:
            names.append(f"C{boxed}" if len(comp) > 1 else f"s{comp[0]}")
        boxed += len(comp) > 1
    shown = ", ".join(names[:10]) + (f", ... ({len(names) - 10} more)" if len(names) > 10 else "")
    return (f"{len(comps):,} strongly connected components ({boxed:,} of more than one state, boxed); "
            f"terminal, no step leaves them: {shown}")
