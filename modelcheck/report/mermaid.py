"""A counterexample as a Mermaid sequence diagram (`verify --format mermaid`).

One lifeline per node; a delivered message is an arrow from its sender to its
receiver at the moment it is received; actions, crashes, restarts, pauses and
network faults are notes, each with what the step changed on its node (the same
lines as the HTML diagram's boxes); a message sent and never delivered is a dotted
arrow ending in a cross where it was sent ("not delivered"), or where a loss step
dropped it; a liveness cycle is a `loop` block. Sends are matched to deliveries
as in the HTML diagram (report/diagram.py, `match_messages`). Renders on GitHub and
in most docs tools. Reads only the result and the model's names.

Mermaid reads `;` as the end of a statement and `#` as the start of an entity code,
so labels carry those two characters as entity codes (`#59;`, `#35;`): the picture
shows the spec's own text.
"""
from __future__ import annotations

from ..engine.model import Model
from ..engine.result import Result
from ..faults import KINDS
from .diagram import Copy, Row, cycle_deliveries, lane_changes, match_messages, trace_rows, undelivered_reasons
from .text import Describer

_ENTITIES = str.maketrans({"#": "#35;", ";": "#59;"})


def _ident(i: int) -> str:
    return f"N{i}"


def _label(text: str) -> str:
    """Text as Mermaid shows it verbatim: `#` and `;` as entity codes (one pass)."""
    return text.translate(_ENTITIES)


def render_mermaid(result: Result, model: Model) -> str:
    d = Describer(model)
    names = model.checked.node_names
    lines = ["sequenceDiagram"]
    for i, name in enumerate(names):
        lines.append(f"    participant {_ident(i)} as {_label(name)}")
    if result.violation is None:
        lines.append(f"    Note over {_ident(0)},{_ident(len(names) - 1)}: no counterexample: {result.verdict}")
        return "\n".join(lines) + "\n"
    every = [_ident(0), _ident(len(names) - 1)] if len(names) > 1 else [_ident(0)]
    span = ",".join(every)
    rows, last = trace_rows(result)
    fates = _Fates(d, rows, last, match_messages(rows, model.network.name))
    in_loop = False
    for row in rows:
        if row.in_cycle and not in_loop:
            lines.append("    loop repeats forever")
            in_loop = True
        lines += ["    " * (2 if in_loop else 1) + x for x in _step(d, row, span, fates)]
    if in_loop:
        lines.append("    end")
    elif result.cycle is not None:
        lines.append(f"    Note over {span}: stuck: no step can happen any more")
    v = result.violation
    what = {"invariant": f"VIOLATED: invariant {v.name}", "property": f"VIOLATED: property {v.name}",
            "assert": f"assert failed: {v.message}", "runtime_error": f"run-time error: {v.message}"}[v.kind]
    lines.append(f"    Note over {span}: {_label(what)}")
    return "\n".join(lines) + "\n"


class _Fates:
    """The messages of the trace that never arrive: the dotted arrows ending in a cross,
    by the step that draws them (the send, or the loss that dropped them)."""

    def __init__(self, d: Describer, rows: list[Row], last, copies: list[Copy]):
        self.by_row: dict[int, list[str]] = {}
        next_round = cycle_deliveries(rows)
        for c in copies:
            if c.deliveries:
                continue
            src, dst = c.key[0], c.key[1]
            label = d.message(c.key) + (" (copy)" if c.duplicate else "")
            arrow = f"{_ident(src)}--x{_ident(dst)}"
            if c.lost is not None and c.lost > 0:
                self.by_row.setdefault(c.lost, []).append(f"{arrow}: {c.lost}. network loses {_label(label)}")
            elif c.row and rows[c.row - 1].in_cycle and c.key in next_round:
                self.by_row.setdefault(c.row, []).append(
                    f"{_ident(src)}--){_ident(dst)}: {_label(label)}: delivered in the next round")
            else:
                reasons = undelivered_reasons(last, src, [dst])
                why = f" ({', '.join(reasons)})" if reasons else ""
                self.by_row.setdefault(c.row, []).append(f"{arrow}: {_label(label)}: not delivered{why}")
        self.loss_rows = {c.lost for c in copies if not c.deliveries and c.lost is not None and c.lost > 0}


def _step(d: Describer, row: Row, span: str, fates: _Fates) -> list[str]:
    step, n, k = row.step, row.index, row.step.kind
    out = []
    changes = [] if row.state is None or step.node is None else lane_changes(d, step, row.prev, row.state)
    if row.state is None:
        changes = ["ERROR: the step fails"]
    tail = "".join("<br/>" + _label(c) for c in changes)
    if k == "deliver":
        m = step.message
        out.append(f"{_ident(m[0])}->>{_ident(m[1])}: {n}. {_label(d.message(m))}")
        if tail:
            out.append(f"Note over {_ident(step.node)}: {tail[len('<br/>'):]}")
    elif k == "action":
        out.append(f"Note over {_ident(step.node)}: {n}. {_label(d.headline(step).split(' does ', 1)[-1])}{tail}")
    elif k in KINDS and KINDS[k].on_lane:
        out.append(f"Note over {_ident(step.node)}: {n}. {_label(KINDS[k].lane_word(step))}{tail}")
    elif n not in fates.loss_rows:  # a loss that drops a message never delivered is its crossed arrow
        out.append(f"Note over {span}: {n}. {_label(d.headline(step))}")
    return out + fates.by_row.get(n, [])
