"""The client-operation history of a violation as an SVG timeline (the HTML report).

Why a picture: a linearizability or session-guarantee failure is about which
operations overlap in time and which follow one another, and Jepsen and Porcupine
users read that from a timeline: one row per client, a bar per operation from its
invocation to its completion. The text report draws the same history as a column of
`|---|` bars (consistency/history.py); this is its picture for `verify --html`.

What it draws: the x axis is the trace's step numbers (its own axis, not aligned
with the sequence diagram); a bar spans the step that invoked an operation to the
step that completed it; an operation still pending at the end of the trace is a
dashed bar that runs off the last step into an arrow; the operation the history
cannot order is red and its label names the check that fails. Each label (the
operation and its result, `x.read() -> 1`, in the text report's words) sits above
its bar and is never cut: when it would run into the next operation of the same
client, that operation drops to a sub-row of its own.

Like the sequence diagram, it is laid out here from the font's metrics
(fontmetrics.py), so a report is the same bytes everywhere and needs no script:
`labels` and `bars` keep every rectangle and `collisions()` checks the layout
without a browser. Every label also carries its planned width as `textLength`, so a
browser without the font still draws it exactly that wide.
"""
from __future__ import annotations

import dataclasses

from ..consistency.history import Operation, operation_call, operations
from . import fontmetrics as fm
from .diagram import Rect, esc

SIZE = 11  # px, labels and client names
AXIS = 10  # px, step numbers
STEP = 34  # px per trace step
PAD = 8
BAR_H = 9
GAP = 6  # between two operations' extents in one sub-row (two bars in consecutive steps)
ARROW = 10  # a pending operation's arrow beyond the last step
SUB_H = (fm.ASCENT + fm.DESCENT) * SIZE + 3 + BAR_H + 9  # one sub-row: label, bar, space
AXIS_H = (fm.ASCENT + fm.DESCENT) * AXIS + 8

STYLE = (
    "svg.timeline { font-family: " + fm.FAMILY + "; font-size: 11px; }"
    " svg.timeline .grid { stroke: #eaeef2; } svg.timeline .sep { stroke: #d0d7de; }"
    " svg.timeline .axis { fill: #57606a; font-size: 10px; } svg.timeline .who { font-weight: 600; fill: #24292f; }"
    " svg.timeline .bar { fill: #ddf4ff; stroke: #0969da; } svg.timeline .bar.pending { stroke-dasharray: 4 3; }"
    " svg.timeline .head { fill: #0969da; } svg.timeline .op { fill: #24292f; }"
    " svg.timeline .blamed .bar { fill: #ffd7d5; stroke: #cf222e; } svg.timeline .blamed .head { fill: #cf222e; }"
    " svg.timeline .blamed .op { fill: #cf222e; font-weight: 600; }"
)


@dataclasses.dataclass
class Placed:
    """One operation where it is drawn."""

    op: Operation
    text: str  # its label
    bar: Rect
    label: Rect  # the label's box (x0, baseline - ascent .. baseline + descent)


class Timeline:
    """The layout of one trace's history; `svg()` draws it."""

    def __init__(self, model, steps):
        self.model = model
        self.n = len(steps)
        self.ops = operations(model, steps)
        names = model.checked.node_names
        clients = sorted({op.client for op in self.ops})
        self.left = PAD + max([fm.width("step", AXIS)] + [fm.width(names[c], SIZE) for c in clients]) + 2 * PAD
        self.rows: list[tuple[int, float, float]] = []  # (client, top, bottom)
        self.names: list[tuple[Rect, str]] = []  # the client names in the left column
        self.placed: list[Placed] = []
        y = AXIS_H
        right = self.x(self.n + 1) + ARROW
        for c in clients:
            ends: list[float] = []  # per sub-row: where its last operation's extent ends
            mine = [op for op in self.ops if op.client == c]
            subs: list[int] = []
            for op in mine:
                x0 = self.x(op.invoked) + 3
                text = self.label_text(op)
                extent = max(self.bar_end(op), x0 + fm.width(text, SIZE))
                k = next((i for i, e in enumerate(ends) if e + GAP <= x0), len(ends))
                if k == len(ends):
                    ends.append(extent)
                else:
                    ends[k] = extent
                subs.append(k)
                right = max(right, extent)
            for op, k in zip(mine, subs):
                top = y + k * SUB_H + 6
                base = top + fm.ASCENT * SIZE
                text = self.label_text(op)
                x0 = self.x(op.invoked) + 3
                label = Rect(x0, top, x0 + fm.width(text, SIZE), base + fm.DESCENT * SIZE)
                bar_top = label.y1 + 3
                self.placed.append(Placed(op, text, Rect(x0, bar_top, self.bar_end(op), bar_top + BAR_H), label))
            top = y + 6
            self.names.append((Rect(PAD, top, PAD + fm.width(names[c], SIZE), top + (fm.ASCENT + fm.DESCENT) * SIZE),
                               names[c]))
            bottom = y + len(ends) * SUB_H + 6
            self.rows.append((c, y, bottom))
            y = bottom
        self.width = right + PAD
        self.height = y + PAD
        self.checks = list(dict.fromkeys(c for op in self.ops for c in (op.blamed or [])))
        self.registers = list(dict.fromkeys(op.register for op in self.ops))

    def x(self, step: int) -> float:
        """Left edge of a step's column; step n + 1 is the right edge of step n."""
        return self.left + (step - 1) * STEP

    def bar_end(self, op: Operation) -> float:
        if op.completed is None:
            return self.x(self.n + 1) + ARROW
        return self.x(op.completed + 1) - 3

    def label_text(self, op: Operation) -> str:
        mark = f" <- cannot be ordered ({', '.join(op.blamed)})" if op.blamed else ""
        return " ".join((operation_call(self.model, op) + mark).split())  # SVG collapses runs of blanks

    def collisions(self) -> list[str]:
        """What breaks the layout's promise: a label on another label or on any bar
        other than its own operation's, or anything outside the picture."""
        frame = Rect(0, 0, self.width, self.height)
        out = []
        boxes = (self.names + [(p.label, p.text) for p in self.placed]
                 + [(p.bar, "bar of " + p.text) for p in self.placed])
        for i, (a, ta) in enumerate(boxes):
            if not a.inside(frame):
                out.append(f"outside the picture: {ta}")
            for b, tb in boxes[i + 1:]:
                if a.overlaps(b):
                    out.append(f"overlap: {ta} / {tb}")
        return out

    def svg(self) -> str:
        names = self.model.checked.node_names
        w, h = self.width, self.height
        out = [f'<svg class="timeline" width="{w:.0f}" height="{h:.0f}" '
               f'viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="timeline of the client operations">',
               f"<style>{STYLE}</style>"]
        # the step axis: a number over each column, a faint line between columns
        base = PAD / 2 + fm.ASCENT * AXIS
        out.append(f'<text class="axis" x="{PAD}" y="{base:.1f}">step</text>')
        for s in range(1, self.n + 1):
            cx = self.x(s) + STEP / 2
            out.append(f'<text class="axis" x="{cx:.1f}" y="{base:.1f}" text-anchor="middle">{s}</text>')
        for s in range(1, self.n + 2):
            gx = self.x(s)
            out.append(f'<line class="grid" x1="{gx:.1f}" y1="{AXIS_H - 2:.1f}" x2="{gx:.1f}" y2="{h - PAD:.1f}"/>')
        for c, top, bottom in self.rows:
            out.append(f'<line class="sep" x1="0" y1="{top:.1f}" x2="{w:.1f}" y2="{top:.1f}"/>')
            base = top + 6 + fm.ASCENT * SIZE
            width = fm.width(names[c], SIZE)
            out.append(f'<text class="who" x="{PAD}" y="{base:.1f}" textLength="{width:.1f}">{esc(names[c])}</text>')
        for p in self.placed:
            cls = "o blamed" if p.op.blamed else "o"
            out.append(f'<g class="{cls}" data-invoked="{p.op.invoked}" data-completed="{p.op.completed or ""}">')
            b = p.bar
            pending = " pending" if p.op.completed is None else ""
            out.append(f'<rect class="bar{pending}" x="{b.x0:.1f}" y="{b.y0:.1f}" width="{b.x1 - b.x0 - (ARROW if pending else 0):.1f}" '
                       f'height="{BAR_H}" rx="2"/>')
            if pending:  # open-ended: it runs off the last step into an arrow
                mid = (b.y0 + b.y1) / 2
                out.append(f'<path class="head" d="M{b.x1 - ARROW:.1f} {b.y0 - 2:.1f} L{b.x1:.1f} {mid:.1f} '
                           f'L{b.x1 - ARROW:.1f} {b.y1 + 2:.1f} Z"/>')
            lw = p.label.x1 - p.label.x0
            out.append(f'<text class="op" x="{p.label.x0:.1f}" y="{p.label.y0 + fm.ASCENT * SIZE:.1f}" '
                       f'textLength="{lw:.1f}">{esc(p.text)}</text>')
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out)

    def caption(self) -> str:
        regs = ", ".join(self.registers)
        text = (f"Client operations on {regs}, one row per client: a bar runs from the step that invoked an "
                "operation to the step that completed it; a dashed bar ending in an arrow is still pending "
                "when the trace ends.")
        if self.checks:
            text += (f" In red: the operation that cannot be ordered, which makes "
                     f"{' and '.join(self.checks)} fail.")
        return text


def render_timeline(result, model) -> str:
    """The report's history section, or "" when the trace invokes no client operation
    (a spec without registers gets the report it always had, byte for byte)."""
    if result.violation is None or not model.checked.registers:
        return ""
    t = Timeline(model, [step for step, _ in result.trace])
    if not t.ops:
        return ""
    return ('<section class="history"><h2>Client history</h2>'
            f'<p class="caption">{esc(t.caption())}</p>'
            f'<div style="overflow-x:auto">{t.svg()}</div></section>')
