"""A counterexample as a Mermaid sequence diagram (`verify --format mermaid`).

One lifeline per node; a delivered message is an arrow from its sender to its
receiver at the moment it is received; actions, crashes, restarts, pauses and
network faults are notes; a liveness cycle is a `loop` block. Renders on GitHub
and in most docs tools. Reads only the result and the model's names.
"""
from __future__ import annotations

from ..faults import KINDS
from ..engine.result import Result
from ..engine.model import Model
from .text import Describer


def _ident(i: int) -> str:
    return f"N{i}"


def _label(text: str) -> str:
    # Mermaid treats ';' and '#' specially in messages; keep labels plain
    return text.replace(";", ",").replace("#", "no. ")


def render_mermaid(result: Result, model: Model) -> str:
    d = Describer(model)
    names = model.checked.node_names
    lines = ["sequenceDiagram"]
    for i, name in enumerate(names):
        lines.append(f"    participant {_ident(i)} as {name}")
    if result.violation is None:
        lines.append(f"    Note over {_ident(0)},{_ident(len(names) - 1)}: no counterexample: {result.verdict}")
        return "\n".join(lines) + "\n"
    every = [_ident(0), _ident(len(names) - 1)] if len(names) > 1 else [_ident(0)]
    span = ",".join(every)
    n = 0
    for step, _ in result.trace:
        n += 1
        lines += _step(d, step, n, span)
    if result.cycle is not None:
        if result.cycle:
            lines.append("    loop repeats forever")
            for step, _ in result.cycle:
                n += 1
                lines += ["    " + x for x in _step(d, step, n, span)]
            lines.append("    end")
        else:
            lines.append(f"    Note over {span}: stuck: no step can happen any more")
    v = result.violation
    what = {"invariant": f"VIOLATED: invariant {v.name}", "property": f"VIOLATED: property {v.name}",
            "assert": "assert failed", "runtime_error": "run-time error"}[v.kind]
    lines.append(f"    Note over {span}: {_label(what)}")
    return "\n".join(lines) + "\n"


def _step(d: Describer, step, n: int, span: str) -> list[str]:
    k = step.kind
    out = []
    if k == "deliver":
        m = step.message
        out.append(f"    {_ident(m[0])}->>{_ident(m[1])}: {n}. {_label(d.message(m))}")
    elif k == "action":
        out.append(f"    Note over {_ident(step.node)}: {n}. {_label(d.headline(step).split(' does ', 1)[-1])}")
    elif k in KINDS and KINDS[k].on_lane:
        out.append(f"    Note over {_ident(step.node)}: {n}. {KINDS[k].lane_word(step)}")
    else:
        out.append(f"    Note over {span}: {n}. {_label(d.headline(step))}")
    return out
