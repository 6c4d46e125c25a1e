"""A trace as an SVG sequence diagram: the picture of the HTML report and of `explore`.

Why a module of its own: the report (`verify --html`) and the explorer draw the same
picture of a path, so both call `render_diagram(result, model, source)`. The result
needs no violation (a path stepped by hand has none); with one, the diagram ends in
the variables the broken rule reads and a red banner saying why.

What it draws:
- one vertical lane per node, greyed while the node is down (dotted while paused);
- actions, handlers, crashes and restarts as boxes on the lane, with everything the
  step changed on that node (long values wrap; nothing is cut);
- an arrow per delivered message from the step that sent it to the step that received
  it (sends matched to deliveries by value, in order: `match_messages`); a message
  never delivered is a dashed stub ending in "not delivered", or "lost" where a loss
  step dropped it; a duplicated copy starts at the duplicate step;
- a shaded band across the lanes while links are cut; a liveness lasso's repeating
  steps inside a bracket; the start state's every variable on top of each lane.

Layout is computed here from the font's real metrics (fontmetrics.py), so the same
result gives the same bytes and the page reads without running anything. Every row
of the diagram is three bands: the label of the message it receives, its box, and
the labels of what it sent that never arrives; so a label can never sit on a box or
on another label. An arrow that would cross a step box bends around its corner.
Notes about stretches of the trace (cut links, the lasso) stack in a right-hand
column. `texts` and `solids` keep every label's and box's rectangle, and
`collisions()` checks the promise without a browser (the browser tests check the
rendered page again).
"""
from __future__ import annotations

import dataclasses
import functools
import html
import re
from importlib import resources

from ..engine.model import Model, State, Step
from ..engine.result import Result
from ..faults import KINDS
from ..lang import syntax as S
from ..lang.diagnostics import Source
from . import fontmetrics as fm
from .explain import Explanation, explain_violation
from .text import Describer, _binding_text

WIDTH = 1360  # px: the room a diagram spreads its lanes over (the report's widest column; it scrolls when wider)

# ---- geometry (px) ----
BODY, TITLE, NAME, FINAL, BANNER, LASSO = 11, 11.5, 12, 12, 13, 12.5  # font sizes
LEAD = 1.5  # between two lines of a block
PAD = 8  # text inside a box, from its side
GUTTER_L = 46  # step numbers
LANE_GAP = 28  # between two neighbouring lanes' widest boxes
MIN_TEXT = 190  # the narrowest a box's text may wrap to
MAX_SLOT = 560  # the widest a lane is spread to
GUTTER_TEXT = 230  # the right-hand column's text wraps here
MARK = 17  # a crash X / restart O left of its box


def esc(text) -> str:
    return html.escape(str(text), quote=True)


@functools.lru_cache(maxsize=None)
def static(name: str) -> str:
    """The text of `static/<name>`: a stylesheet or script the pages inline.

    They are real .css/.js files, shipped as package data (see pyproject.toml), so
    editors, linters and diffs treat them as CSS and JavaScript; pages inline them,
    because a report must load nothing. Read once per process.
    """
    return resources.files(__package__).joinpath("static").joinpath(name).read_text("utf-8")


# ---------------------------------------------------------------------------------
# entry point

@dataclasses.dataclass(frozen=True)
class Diagram:
    """The picture and what a page needs to show it: inline `css` in a <style> and
    `script` in a <script> once per page, `svg` where the diagram goes."""

    svg: str
    css: str
    script: str

    def __iter__(self):  # svg, css, script = render_diagram(...)
        return iter((self.svg, self.css, self.script))


def render_diagram(result: Result, model: Model, source: Source, width: float = WIDTH,
                   explanation: Explanation | None = None) -> Diagram:
    """The trace of `result` (its stem and its cycle, if any) as a sequence diagram.

    `width`: the room on the page; lanes spread to use it and the SVG is wider only
    when its content needs it (then the page scrolls it). `explanation`: the
    violation explained in the last state, when the caller already has it."""
    return Diagram(SequenceDiagram(result, model, source, width, explanation).svg(),
                   static("diagram.css"), static("diagram.js"))


def legend() -> str:
    """The key to the diagram's marks, as HTML (styled by static/diagram.css)."""
    return ('<div class="legend"><span><svg width="34" height="10"><line x1="2" y1="5" x2="26" y2="5" '
            'class="k-arrow"/><path d="M26,1 L33,5 L26,9 z" class="k-head"/></svg> message, from send to '
            'delivery</span><span><svg width="34" height="10"><line x1="2" y1="5" x2="30" y2="5" '
            'class="k-dangle"/></svg> sent, never delivered</span><span><i class="k-box"></i> action / '
            'handler, with what it changed</span><span><i class="k-down"></i> node down</span>'
            '<span><i class="k-cut"></i> links cut</span></div>')


@dataclasses.dataclass
class Row:
    """One step of the trace, with the states around it."""

    index: int  # step number, 1-based (cycle steps continue the numbering)
    step: Step
    prev: State
    state: State | None  # None: the step raised a run-time error
    in_cycle: bool


def trace_rows(result: Result) -> tuple[list[Row], State]:
    """The steps of a result's trace (then its cycle) and the last state: for a lasso,
    where the cycle starts and ends."""
    rows, prev = [], result.initial
    steps = [(s, st, False) for s, st in result.trace] + [(s, st, True) for s, st in (result.cycle or ())]
    for i, (step, state, in_cycle) in enumerate(steps, 1):
        rows.append(Row(i, step, prev, state, in_cycle))
        if state is not None:
            prev = state
    return rows, prev


def lane_changes(d: Describer, step: Step, prev: State, state: State) -> list[str]:
    """What a node's step changed on that node ("var: old → new"), and the ghosts its
    code changed: what the diagrams write at the step (the step table lists the rest)."""
    me = d.node(step.node)
    out = []
    for what, a, b in d.changes(prev, state):
        if what.startswith(me + "."):
            out.append(f"{what[len(me) + 1:]}: {a} → {b}")
        elif what.startswith("ghost ") and step.kind in ("action", "deliver", "restart"):
            out.append(f"{what}: {a} → {b}")
    return out


def cycle_deliveries(rows: list[Row]) -> set[tuple]:
    """The messages a lasso's repeating part delivers: one it sends and leaves in flight
    is delivered the next time round, not lost."""
    return {tuple(r.step.message[:4]) for r in rows if r.in_cycle and r.step.kind == "deliver"}


def undelivered_reasons(last: State, src: int, dests) -> list[str]:
    """Why messages from `src` are still in flight at the end: a receiver is down, a link cut."""
    reasons = set()
    for k in dests:
        if not last.up[k]:
            reasons.add("receiver down")
        elif (src, k) in last.cut:
            reasons.add("link cut")
    return sorted(reasons)


def banner_title(result: Result, d: Describer) -> str:
    v = result.violation
    return {"invariant": f"VIOLATED: invariant {v.name}",
            "property": f"VIOLATED: property {v.name}{_binding_text(v, d)}",
            "assert": "VIOLATED: assert failed",
            "runtime_error": "VIOLATED: run-time error"}[v.kind]


# ---------------------------------------------------------------------------------
# message matching

@dataclasses.dataclass
class Copy:
    """One message put on the wire: by a send, or by a duplicate step."""

    key: tuple  # (src, dst, kind, payload)
    row: int  # step number of the send (or of the duplicate step)
    duplicate: bool = False
    deliveries: list = dataclasses.field(default_factory=list)  # step numbers
    lost: int | None = None  # step number of the loss (negative: lost after a delivery, `delivery set`)


def match_messages(rows: list[Row], mode: str) -> list[Copy]:
    """Every copy sent in the trace with its deliveries, matched by value in order.

    Deliveries and losses take the oldest copy of the same message still in
    flight. With `delivery set` a delivery does not consume the message: once
    every copy has been delivered, another delivery of it re-delivers the newest.
    """
    copies: list[Copy] = []

    def in_flight(key):
        return [c for c in copies if c.key == key and not c.deliveries and c.lost is None]

    for row in rows:
        s = row.step
        if s.kind == "deliver" and s.message is not None:
            key = tuple(s.message[:4])
            cands = in_flight(key)
            if cands:
                cands[0].deliveries.append(row.index)
            else:
                alive = [c for c in copies if c.key == key and c.lost is None]
                if alive:
                    alive[-1].deliveries.append(row.index)
                else:  # cannot happen from the initial state; keep the arrow anyway
                    copies.append(Copy(key, 0, deliveries=[row.index]))
        elif s.kind == "loss" and s.message is not None:
            key = tuple(s.message[:4])
            cands = in_flight(key)
            if mode == "set":
                for c in copies:
                    if c.key == key and c.lost is None:
                        c.lost = row.index if not c.deliveries else -row.index
            elif cands:
                cands[0].lost = row.index
        elif s.kind == "duplicate" and s.message is not None:
            copies.append(Copy(tuple(s.message[:4]), row.index, duplicate=True))
        if row.state is not None:
            for m in s.sent:
                copies.append(Copy(tuple(m[:4]), row.index))
    return copies


# ---------------------------------------------------------------------------------
# geometry

@dataclasses.dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Rect, slack: float = 0.5) -> bool:
        return (self.x0 < other.x1 - slack and other.x0 < self.x1 - slack
                and self.y0 < other.y1 - slack and other.y0 < self.y1 - slack)

    def inside(self, other: Rect, slack: float = 0.5) -> bool:
        return (self.x0 >= other.x0 - slack and self.x1 <= other.x1 + slack
                and self.y0 >= other.y0 - slack and self.y1 <= other.y1 + slack)


@dataclasses.dataclass
class Label:
    """One line of text in the diagram, where it is drawn."""

    x: float
    y: float  # baseline
    text: str
    cls: str = ""
    anchor: str = "start"
    size: float = BODY
    owner: int | None = None  # index in `solids` of the box it is written in

    def __post_init__(self):
        # SVG drops leading blanks: a wrapped line's indent becomes an offset instead
        lead = len(self.text) - len(self.text.lstrip(" "))
        if lead:
            if self.anchor == "start":
                self.x += fm.width(" " * lead, self.size)
            self.text = self.text[lead:]

    def rect(self) -> Rect:
        w = fm.width(self.text, self.size)
        x0 = self.x - {"start": 0, "middle": w / 2, "end": w}[self.anchor]
        return Rect(x0, self.y - fm.ASCENT * self.size, x0 + w, self.y + fm.DESCENT * self.size)

    def svg(self) -> str:
        c = f' class="{self.cls}"' if self.cls else ""
        size = f' font-size="{self.size:g}"' if self.size != BODY else ""
        return (f'<text x="{self.x:.1f}" y="{self.y:.1f}" text-anchor="{self.anchor}"{size}{c}>'
                f'{esc(self.text)}</text>')


def line_h(size: float) -> float:
    return (fm.ASCENT + fm.DESCENT) * size + LEAD


def block_h(sizes: list[float]) -> float:
    """Height of a block of lines (no padding)."""
    return sum(line_h(s) for s in sizes) - LEAD if sizes else 0


def baselines(top: float, sizes: list[float]) -> list[float]:
    out, y = [], top
    for s in sizes:
        out.append(y + fm.ASCENT * s)
        y += line_h(s)
    return out


def _vars_in(expr) -> set[str]:
    """Names an expression reads: fields (`s.primary`) and plain names (ghosts)."""
    out: set[str] = set()

    def walk(e):
        if isinstance(e, S.Field):
            out.add(e.name)
        elif isinstance(e, S.Name):
            out.add(e.id)
        if dataclasses.is_dataclass(e):
            for f in dataclasses.fields(e):
                if f.name in ("type", "ref", "span"):
                    continue
                walk(getattr(e, f.name))
        elif isinstance(e, (list, tuple)):
            for x in e:
                walk(x)
    walk(expr)
    return out


def _value_part(line: str) -> str:
    """An explanation line without its leading source text: `expr  is false (2 <= 1)` -> the rest."""
    cut = [i for i in (line.find("  is "), line.find(" = ")) if i >= 0]
    return line[min(cut):] if cut else ""


def line_attr(step: Step) -> str:
    """The step's spec line as a data attribute (the page lights it up on hover)."""
    if step.span is not None and getattr(step.span, "line", 0):
        return f' data-line="{step.span.line}"'
    return ""


@dataclasses.dataclass
class _Dangle:
    """The label of messages sent at `row` that never arrive, toward one side."""

    row: int  # the send
    src: int
    sign: int  # +1: receivers to the right, -1: to the left
    dests: list[int]  # nearest first
    label: str  # the message
    lost: int | None  # the loss step, if one dropped them
    text: str = ""
    lines: list[str] = dataclasses.field(default_factory=list)
    xs: float = 0.0  # where the stubs leave the sender
    xe: float = 0.0  # where the outermost stub ends
    top: float = 0.0  # where its text block starts
    anchor: str = "start"


# ---------------------------------------------------------------------------------
# the diagram

class SequenceDiagram:
    def __init__(self, result: Result, model: Model, source: Source, width: float = WIDTH,
                 explanation: Explanation | None = None):
        self.result, self.model = result, model
        self.d = Describer(model)
        self.names = model.checked.node_names
        self.roles = model.checked.node_roles
        self.n = len(self.names)
        self.rows, self.last = trace_rows(result)
        self.target = width
        v = self.v = result.violation
        if explanation is None:
            explanation = (explain_violation(model, source, v, self.last) if v is not None
                           else Explanation([], []))
        self.expl = explanation
        self.texts: list[Label] = []
        self._routes: dict = {}
        self.solids: list[tuple[Rect, str]] = []  # boxes, pills, badges, heads, the banner: (rect, kind)
        self._blame()
        self._content()
        self._horizontal()
        self._vertical()

    # ---- what the violation reads and whom it names ----
    def _blame(self) -> None:
        v, model = self.v, self.model
        expr = None
        if v is not None and v.kind == "invariant":
            expr = next((i.decl.expr for i in model.invariants if i.name == v.name), None)
        elif v is not None and v.kind == "property":
            expr = next((p.decl.expr for p in model.properties if p.name == v.name), None)
        read = _vars_in(expr) if expr is not None else set()
        self.relevant = [[var for var in role.vars if var.name in read] for role in self.roles]
        self.ghosts = [g for g in model.checked.ghosts if g.name in read]
        self.blamed: set[int] = set()
        if v is None:
            return
        # nodes named by the explanation's values (not by its source text: `s in Server`), or
        # whose fields it reads (`Node[1].got`)
        values = " ".join(_value_part(t) for _, t in self.expl.lines) + " " + _binding_text(v, self.d)
        whole = " ".join(t for _, t in self.expl.lines)
        self.blamed = {k for k, name in enumerate(self.names)
                       if re.search(re.escape(name) + r"(?![\w\[])", values)
                       or re.search(r"(?<![\w.])" + re.escape(name) + r"\.\w", whole)}
        if not self.blamed and v.kind in ("invariant", "property"):
            # nobody named (`exists n in Node: n.active` is false): every node whose
            # variables the predicate reads is part of the picture
            self.blamed = {k for k in range(self.n) if self.relevant[k]}
        if v.kind in ("assert", "runtime_error") and self.rows and self.rows[-1].step.node is not None:
            self.blamed.add(self.rows[-1].step.node)

    # ---- content: the words, before any position ----
    def lane_of(self, row: Row) -> int | None:
        """The lane a step's box sits on: its node's, or for a duplicate the sender's."""
        s = row.step
        return s.message[0] if s.kind == "duplicate" and s.message is not None else s.node

    def _box_lines(self, row: Row) -> list[tuple[str, str]]:
        """(text, class) of the box a node step draws on its lane ([] = no box)."""
        s, d = row.step, self.d
        if s.kind == "duplicate" and s.message is not None:
            return [(f"{row.index}. network copies", "box-title"), (d.message(s.message), "sub")]
        fault = KINDS.get(s.kind)
        if s.node is None or (s.kind not in ("action", "deliver") and not (fault and fault.on_lane)):
            return []
        if s.kind == "action":
            title = d.headline(s).split(" does ", 1)[-1]
        elif s.kind == "deliver":
            title = f"on {s.name}"
        else:
            title = fault.box_title(s)
        lines = [(f"{row.index}. {title}", "box-title")]
        for name, value, t in s.chosen:
            lines.append((f"chooses {name} = {d.render.text(value, t)}", "sub"))
        if row.state is None:
            lines.append((f"ERROR: {self.v.message if self.v is not None else 'run-time error'}", "change"))
            return lines
        return lines + [(c, "change") for c in lane_changes(d, s, row.prev, row.state)]

    def _badge_lines(self, state: State, k: int, initial: bool) -> list[str]:
        role = self.roles[k]
        vars_ = role.vars if initial or not any(self.relevant) else self.relevant[k]
        lines = [f"{v.name}={self.d.render.text(state.nodes[k][v.index], v.type)}" for v in vars_]
        if not state.up[k]:
            lines.append("DOWN")
        return lines

    def _content(self) -> None:
        rows = self.rows
        self.copies = match_messages(rows, self.model.network.name)
        # loss steps drawn by their dashed stub ending in an X (others get a note)
        self.lost_rows = {c.lost for c in self.copies if c.lost is not None and c.lost > 0 and not c.deliveries}
        # messages the repeating part delivers: one it sends and leaves in flight arrives next time round
        self.cycle_keys = cycle_deliveries(rows)
        self.raw_boxes = {row.index: self._box_lines(row) for row in rows}
        self.raw_init = [self._badge_lines(self.result.initial, k, True) for k in range(self.n)]
        self.raw_final = [self._badge_lines(self.last, k, False) for k in range(self.n)]
        self.notes: dict[int, tuple[str, str]] = {}  # row -> (text, class) of the pill across the lanes
        for row in rows:
            if not self.raw_boxes[row.index]:
                note = self._note_text(row)
                if note is not None:
                    self.notes[row.index] = note
        # the right-hand column: cut links where they change, the lasso, leads_to's trigger
        self.cut_changes: list[tuple[int, str]] = []
        cut = self.result.initial.cut
        for row in rows:
            if row.state is None:
                continue
            if row.state.cut != cut and row.state.cut:
                self.cut_changes.append((row.index, "links cut: " + self.d.links(row.state.cut)))
            cut = row.state.cut
        self.never_healed = bool(cut)

    def _note_text(self, row: Row) -> tuple[str, str] | None:
        s, i, d = row.step, row.index, self.d
        if s.kind == "tick":
            return f"{i}. time passes: now = {s.detail}", "note time"
        if s.kind == "loss" and i in self.lost_rows:
            return None  # the lost message's stub ends here, in an X
        if s.kind in KINDS:  # a fault across the diagram: its kind words it (modelcheck/faults)
            return KINDS[s.kind].note(d, s, i)
        return f"{i}. {d.headline(s)}", "note"

    # ---- across: lane widths ----
    def _horizontal(self) -> None:
        n = self.n
        cycle = self.result.cycle is not None
        self.gutter_x = 42 if cycle and self.result.cycle else 14  # from the lanes' right edge
        gut_words = [t for _, t in self.cut_changes] + (["never healed in this trace"] if self.never_healed else [])
        if self.result.trigger is not None:
            gut_words += ["left side of leads_to", "holds from here"]
        if cycle:
            gut_words += ["repeats forever", "stuck from here", "(no step can happen)"]
        gut_w = max([min(fm.width(t, BODY), GUTTER_TEXT) for t in gut_words] + [0])
        self.gutter_w = self.gutter_x + gut_w + 10 if gut_words else 10
        room = self.target - GUTTER_L - self.gutter_w
        cap = max(MIN_TEXT, room / max(n, 1) - LANE_GAP - 2 * PAD)
        self.text_cap = cap
        self.boxes = {i: self._wrap_box(lines, cap) for i, lines in self.raw_boxes.items()}
        self.init_badges = [self._wrap_lines(b, cap) for b in self.raw_init]
        self.final_badges = [self._wrap_lines(b, cap, FINAL) for b in self.raw_final]
        left = [0.0] * n
        right = [0.0] * n
        for k, name in enumerate(self.names):
            half = (fm.width(name, NAME) + 24) / 2
            for lines, size in ((self.init_badges[k], BODY), (self.final_badges[k], FINAL)):
                if lines:
                    half = max(half, self._block_w(lines, size) / 2, 35)
            left[k], right[k] = half, half
        for row in self.rows:
            lines = self.boxes[row.index]
            if not lines:
                continue
            k = self.lane_of(row)
            half = self.box_w(lines) / 2
            mark = MARK if KINDS.get(row.step.kind) is not None and KINDS[row.step.kind].lane_mark else 0
            left[k], right[k] = max(left[k], half + mark), max(right[k], half)
        for c in self.copies:  # a message to oneself bulges right of the box
            if c.key[0] == c.key[1]:
                k = c.key[0]
                right[k] = max(right[k], max([self._half(k, r) for r in [c.row] + c.deliveries] + [0]) + 48)
        slots = [left[k] + right[k] + LANE_GAP for k in range(n)]
        spare = room - sum(slots)
        if spare > 0:
            grow = spare / n
            slots = [max(s, min(s + grow, MAX_SLOT)) for s in slots]
        self.x, x = [], GUTTER_L
        for k in range(n):
            # centred in its slot, unless one side is wider
            extra = slots[k] - (left[k] + right[k])
            self.x.append(x + left[k] + extra / 2)
            x += slots[k]
        self.lanes_right = x
        self.inner_w = self.lanes_right - GUTTER_L  # the lanes' area
        self.label_room = max(self.inner_w - 16, 260)
        self.width = self.lanes_right + self.gutter_w

    def _half(self, k: int, r: int) -> float:
        lines = self.boxes.get(r) or []
        row = self.rows[r - 1] if 0 < r <= len(self.rows) else None
        return self.box_w(lines) / 2 if lines and row is not None and self.lane_of(row) == k else 0

    def _wrap_box(self, lines: list[tuple[str, str]], cap: float) -> list[tuple[str, str, float]]:
        out = []
        for k, (text, cls) in enumerate(lines):
            size = TITLE if k == 0 else BODY
            out += [(piece, cls, size) for piece in fm.wrap(text, cap, size)]
        return out

    def _wrap_lines(self, lines: list[str], cap: float, size: float = BODY) -> list[str]:
        return [piece for text in lines for piece in fm.wrap(text, cap, size)]

    @staticmethod
    def _block_w(lines: list[str], size: float) -> float:
        return max(fm.width(t, size) for t in lines) + 2 * PAD

    @staticmethod
    def box_w(lines: list[tuple[str, str, float]]) -> float:
        return max(fm.width(t, s) for t, _, s in lines) + 2 * PAD

    # ---- down: rows and their bands ----
    def _vertical(self) -> None:
        self.head_bottom = 8 + 26
        init_h = max([block_h([BODY] * len(b)) + 10 for b in self.init_badges if b] + [0])
        self.badge_top = self.head_bottom + 6
        self.lanes_top = self.badge_top + init_h + 10
        self.dangles = self._dangles()
        by_row: dict[int, list[_Dangle]] = {}
        for g in self.dangles:
            by_row.setdefault(g.lost if g.lost is not None else g.row, []).append(g)
        self.delivery_label: dict[int, list[str]] = {}
        for c in self.copies:
            for j, r in enumerate(c.deliveries):
                text = self.d.message(c.key) + (" (copy)" if c.duplicate else "") + (" (again)" if j else "")
                self.delivery_label[r] = fm.wrap(text, self.label_room, BODY)
        self.top, self.mid, self.bottom, self.label_top = {}, {}, {}, {}
        y = self.lanes_top + 4
        # messages in flight from the start and never delivered (row 0) hang below the badges
        start = [g for g in by_row.get(0, []) if g.lost is None]
        for g in start:
            g.top = y
            y += block_h([BODY] * len(g.lines)) + 4
        self.start_mid = self.lanes_top
        for row in self.rows:
            i = row.index
            self.top[i] = y
            y += 6
            if i in self.delivery_label:
                self.label_top[i] = y
                y += block_h([BODY] * len(self.delivery_label[i])) + 4
            main_top = y
            lines = self.boxes[i]
            if lines:
                h = block_h([s for _, _, s in lines]) + 10
            elif i in self.notes:
                h = block_h([BODY] * len(self._note_lines(i))) + 8
            else:
                h = 0
            lost_here = [g for g in by_row.get(i, []) if g.lost == i]
            if h or not lost_here:
                h = max(h, 20)
                self.mid[i] = main_top + h / 2
            if lost_here:  # the row of a loss: its stubs end here, one label block each
                ly = main_top + (h + 4 if h else 0)
                for g in lost_here:
                    g.top = ly
                    ly += block_h([BODY] * len(g.lines)) + 4
                if not h:  # no box: the row is where the first stub ends
                    self.mid[i] = lost_here[0].top + fm.ASCENT * BODY * 0.6
                h = ly - main_top
            y = main_top + h
            sent_here = [g for g in by_row.get(i, []) if g.lost is None]
            if sent_here:
                y += 8
                for g in sent_here:
                    g.top = y
                    y += block_h([BODY] * len(g.lines)) + 4
            y += 6
            y = max(y, self.top[i] + 40)
            self.bottom[i] = y
        self.lanes_end = y + 10
        self.box_rects = {}
        for row in self.rows:
            lines = self.boxes[row.index]
            if lines:
                x, w = self.x[self.lane_of(row)], self.box_w(lines)
                h = block_h([sz for _, _, sz in lines]) + 10
                self.box_rects[row.index] = Rect(x - w / 2, self.mid[row.index] - h / 2,
                                                 x + w / 2, self.mid[row.index] + h / 2)
        fb = max([block_h([FINAL] * len(b)) for b in self.final_badges if b] + [0])
        self.final_top = self.lanes_end + 6
        self.final_h = fb + 12 if fb else 0
        y = self.final_top + self.final_h + 8
        self.ghost_lines: list[str] = []
        if self.ghosts:
            gl = "ghost " + ", ".join(f"{g.name} = {self.d.render.text(self.last.ghosts[g.index], g.type)}"
                                      for g in self.ghosts)
            self.ghost_lines = fm.wrap(gl, self.label_room, BODY)
            self.ghost_top = y
            y += block_h([BODY] * len(self.ghost_lines)) + 8
        self.banner: list[str] = []
        if self.v is not None:
            self.banner_w = max(self.inner_w - 8, 420)
            self.banner_title = fm.wrap(banner_title(self.result, self.d), self.banner_w - 24, BANNER)
            first = [t for _, t in self.expl.lines[:1]] or [self.v.message]
            said = [t for t in first + [w for w in self.expl.witness if w not in first]]
            self.banner = [p for t in said for p in fm.wrap(t, self.banner_w - 24, BODY)]
            self.banner_top = y + 6
            y = self.banner_top + block_h([BANNER] * len(self.banner_title) + [BODY] * len(self.banner)) + 22
            self.width = max(self.width, GUTTER_L + 4 + self.banner_w + 10)
        self.height = y + 6

    def _note_lines(self, i: int) -> list[str]:
        return fm.wrap(self.notes[i][0], self.label_room - 24, BODY)

    def _dangles(self) -> list[_Dangle]:
        """Undelivered copies, one label per send, message, fate and side."""
        groups: dict[tuple, list[Copy]] = {}
        for c in self.copies:
            if not c.deliveries:
                label = self.d.message(c.key) + (" (copy)" if c.duplicate else "")
                lost = c.lost if c.lost is not None and c.lost > 0 else None
                groups.setdefault((c.row, c.key[0], label, lost), []).append(c)
        out = []
        last = self.last
        for (row, src, label, lost), group in groups.items():
            dests = [c.key[1] for c in group]
            reasons = undelivered_reasons(last, src, dests)
            for sign in (1, -1):
                side = sorted((k for k in dests if (self.x[k] >= self.x[src]) == (sign > 0)),
                              key=lambda k: abs(self.x[k] - self.x[src]))
                if not side:
                    continue
                names = ", ".join(self.d.node(k) for k in side)
                if lost is not None:
                    text = f"{lost}. network loses {label} → {names}"
                elif row and self.rows[row - 1].in_cycle and group[0].key in self.cycle_keys:
                    text = f"{label} → {names}: delivered in the next round"
                else:
                    text = f"{label} → {names}: not delivered" + (f" ({', '.join(reasons)})" if reasons
                                                                   else "")
                g = _Dangle(row, src, sign, side, label, lost, text)
                g.xs = self._edge(src, row, self.x[src] + sign)
                reach = self.x[side[-1]] - self.x[src]
                stub = max(min(abs(reach) * 0.45, 120), 36) + 14 * (len(side) - 1)
                g.xe = g.xs + sign * stub
                if sign > 0:
                    room, g.anchor = self.lanes_right - 4 - (g.xe + 6), "start"
                    if room < 150:  # too close to the edge: write it leftwards, from the stub's end
                        room, g.anchor = g.xe - 6 - GUTTER_L, "end"
                else:
                    room, g.anchor = g.xe - 6 - GUTTER_L, "end"
                    if room < 150:
                        room, g.anchor = self.lanes_right - 4 - (g.xe + 6), "start"
                g.lines = fm.wrap(text, max(room, 120), BODY)
                out.append(g)
        return out

    # ---- drawing ----
    def _edge(self, k: int, row: int, toward: float) -> float:
        """Where an arrow leaves or enters lane k at a row: the side of its box facing `toward`."""
        half = self._half(k, row)
        x = self.x[k]
        if not half:
            return x
        return x + half if toward > x else x - half

    def _y(self, row: int) -> float:
        return self.mid[row] if row else self.start_mid

    def _put(self, label: Label) -> str:
        self.texts.append(label)
        return label.svg()

    def _solid(self, rect: Rect, kind: str) -> int:
        self.solids.append((rect, kind))
        return len(self.solids) - 1

    def svg(self) -> str:
        under = self._cycle_shade() + self._cut_bands() + self._lanes() + self._arrows()
        marks = self._heads() + self._row_marks()
        over = self._message_labels() + self._gutter() + self._final()
        return "\n".join(
            [f'<svg class="seq" width="{self.width:.0f}" '
             f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
             f'font-family="{esc(fm.FAMILY)}" font-size="{BODY}" role="img" '
             f'aria-label="sequence diagram of the trace">', DEFS]
            + under + marks + over + ["</svg>"])

    def _block(self, x: float, top: float, lines: list[str], cls: str = "", anchor: str = "start",
               size: float = BODY, owner: int | None = None) -> list[str]:
        out = []
        for text, y in zip(lines, baselines(top, [size] * len(lines))):
            lab = Label(x, y, text, cls, anchor, size, owner)
            out.append(self._put(lab))
        return out

    def _heads(self) -> list[str]:
        out = [self._put(Label(GUTTER_L - 8, self.badge_top + 12, "start", "gutter", "end"))]
        for k, name in enumerate(self.names):
            x = self.x[k]
            w = fm.width(name, NAME) + 24
            o = self._solid(Rect(x - w / 2, 8, x + w / 2, 34), "head")
            out.append(f'<g class="lane-head"><rect x="{x - w / 2:.1f}" y="8" width="{w:.1f}" height="26" rx="5"/>'
                       + self._put(Label(x, 25, name, "name", "middle", NAME, o)) + "</g>")
            lines = self.init_badges[k]
            if lines:
                bw = max(self._block_w(lines, BODY), 70)
                h = block_h([BODY] * len(lines)) + 10
                y = self.badge_top
                o = self._solid(Rect(x - bw / 2, y, x + bw / 2, y + h), "badge")
                out.append(f'<g class="badge init"><title>{esc(name)}, start state</title>'
                           f'<rect x="{x - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" rx="4"/>')
                out += self._block(x - bw / 2 + PAD, y + 5, lines, owner=o)
                out.append("</g>")
        return out

    def _status(self, state: State, k: int) -> str:
        if not state.up[k]:
            return "down"
        if state.time and state.time[2][k]:
            return "paused"
        return "up"

    def _lanes(self) -> list[str]:
        out = []
        self.down_spans: list[tuple[int, float, float]] = []
        for k in range(self.n):
            # (status, y from) segments: a row's state holds from its middle to the next row's middle
            segs = [(self._status(self.result.initial, k), self.lanes_top)]
            for row in self.rows:
                if row.state is None:
                    continue
                st = self._status(row.state, k)
                if st != segs[-1][0]:
                    segs.append((st, self.mid[row.index]))
            x = self.x[k]
            for i, (st, y0) in enumerate(segs):
                y1 = segs[i + 1][1] if i + 1 < len(segs) else self.lanes_end
                out.append(f'<line class="lane lane-{st}" x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}"/>')
                if st == "down":
                    self.down_spans.append((k, y0, y1))
        return out

    def _cycle_shade(self) -> list[str]:
        cyc = [r for r in self.rows if r.in_cycle]
        if not cyc:
            return []
        y0, y1 = self.top[cyc[0].index], self.bottom[cyc[-1].index]
        w = self.lanes_right + self.gutter_x - 8
        return [f'<rect class="cycle-shade" x="4" y="{y0:.1f}" width="{w:.1f}" height="{y1 - y0:.1f}" rx="6"/>']

    def _cut_bands(self) -> list[str]:
        """A shaded band while any link is cut (its label is in the right-hand column)."""
        out = []
        x0, w = GUTTER_L + 4, self.inner_w - 8
        cut, start = self.result.initial.cut, None
        for row in self.rows:
            if row.state is None:
                continue
            after = row.state.cut
            if after and not cut:
                start = self.mid[row.index]
            if not after and cut and start is not None:
                out.append(f'<rect class="cut-band" x="{x0}" y="{start:.1f}" width="{w:.1f}" '
                           f'height="{self.mid[row.index] - start:.1f}"/>')
                start = None
            cut = after
        if start is not None:
            out.append(f'<rect class="cut-band" x="{x0}" y="{start:.1f}" width="{w:.1f}" '
                       f'height="{self.lanes_end - start:.1f}"/>')
        return out

    def _row_marks(self) -> list[str]:
        out = []
        for row in self.rows:
            i, s = row.index, row.step
            out.append(f'<g class="step" data-step="{i}"{line_attr(s)}>')
            out.append(f'<rect class="row-hit" x="0" y="{self.top[i]:.1f}" width="{self.lanes_right:.0f}" '
                       f'height="{self.bottom[i] - self.top[i]:.1f}"/>')
            out.append(self._put(Label(GUTTER_L - 8, self.mid[i] + 4, str(i), "gutter step-no", "end", NAME)))
            if self.boxes[i]:
                out += self._box(row)
            elif i in self.notes:
                out += self._note(row)
            out.append("</g>")
        return out

    def _box(self, row: Row) -> list[str]:
        s, i = row.step, row.index
        lines = self.boxes[i]
        r = self.box_rects[i]
        x, w, h, y = (r.x0 + r.x1) / 2, r.x1 - r.x0, r.y1 - r.y0, r.y0
        kind = {"action": "action", "deliver": "handler", "duplicate": "dup"}.get(s.kind, s.kind)
        if row.state is None:
            kind += " error"
        o = self._solid(r, "box")
        out = [f'<g class="box {kind}"><title>{esc(self.d.headline(s))}</title>'
               f'<rect x="{x - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4"/>']
        mark = KINDS[s.kind].lane_mark if s.kind in KINDS else None
        cx, cy = x - w / 2 - 9, self.mid[i]
        if mark == "x":  # an X on the lane (a crash)
            out.append(f'<path class="crash-x" d="M{cx - 6:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy + 6:.1f} '
                       f'M{cx - 6:.1f},{cy + 6:.1f} L{cx + 6:.1f},{cy - 6:.1f}"/>')
        if mark == "o":  # a circle on the lane (a restart)
            out.append(f'<circle class="restart-o" cx="{cx:.1f}" cy="{cy:.1f}" r="5"/>')
        for (text, cls, size), yb in zip(lines, baselines(y + 5, [sz for _, _, sz in lines])):
            out.append(self._put(Label(x - w / 2 + PAD, yb, text, cls, "start", size, o)))
        out.append("</g>")
        return out

    def _note(self, row: Row) -> list[str]:
        """Steps with no lane box: network faults, time, duplication: a pill across the lanes."""
        i = row.index
        text, cls = self.notes[i]
        lines = self._note_lines(i)
        ym = self.mid[i]
        x0, x1 = GUTTER_L + 4, self.lanes_right - 4
        xc = (x0 + x1) / 2
        w = max(fm.width(t, BODY) for t in lines) + 24
        h = block_h([BODY] * len(lines)) + 8
        out = []
        if row.step.kind == "tick":
            out.append(f'<line class="tick" x1="{x0}" y1="{ym:.1f}" x2="{x1:.1f}" y2="{ym:.1f}"/>')
        o = self._solid(Rect(xc - w / 2, ym - h / 2, xc + w / 2, ym + h / 2), "note")
        out.append(f'<g class="{cls}"><rect x="{xc - w / 2:.1f}" y="{ym - h / 2:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" rx="{min(10, h / 2):.0f}"/>')
        out += self._block(xc - w / 2 + 12, ym - h / 2 + 4, lines, owner=o)
        out.append("</g>")
        return out

    # arrows: the lines first (under the boxes), their labels last (over everything)
    def _arrows(self) -> list[str]:
        out = []
        for c in self.copies:
            src, dst = c.key[0], c.key[1]
            label = self.d.message(c.key) + (" (copy)" if c.duplicate else "")
            for j, r in enumerate(c.deliveries):
                out.append(self._arrow(c, src, dst, r, label + (" (again)" if j else "")))
        for g in self.dangles:
            out += self._stubs(g)
        return out

    def _arrow_ends(self, c: Copy, src: int, dst: int, r: int):
        y0, y1 = self._y(c.row), self.mid[r]
        if src == dst:
            x = self.x[src]
            xs, xe = self._edge(src, c.row, x + 1), self._edge(dst, r, x + 1)
            return xs, y0, xe, y1
        xs = self._edge(src, c.row, self.x[dst])
        xe = self._edge(dst, r, self.x[src])
        xe += -2 if xe > xs else 2
        return xs, y0, xe, y1

    def _arrow(self, c: Copy, src: int, dst: int, r: int, label: str) -> str:
        cls = "msg-arrow" + (" dup" if c.duplicate else "") + (" again" if r != c.deliveries[0] else "")
        title = f"{label} from {self.d.node(src)} to {self.d.node(dst)}: sent at step {c.row or 'start'}, " \
                f"delivered at step {r}"
        xs, y0, xe, y1 = self._arrow_ends(c, src, dst, r)
        if src == dst:
            bulge = max(xs, xe) + 40
            d = f"M{xs:.1f},{y0:.1f} C{bulge:.1f},{y0:.1f} {bulge:.1f},{y1:.1f} {xe + 2:.1f},{y1:.1f}"
        else:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in self._route(c, src, dst, r))
        return (f'<g class="{cls}" data-from="{c.row}" data-to="{r}"><title>{esc(title)}</title>'
                f'<path d="{d}" marker-end="url(#ah)"/></g>')

    def _route(self, c: Copy, src: int, dst: int, r: int) -> list[tuple[float, float]]:
        """The arrow's points: straight from send to delivery, bent around the corner of any
        step box it would cross (under it when the arrow comes from beside it, over it when
        from above)."""
        key = (id(c), r)
        if key in self._routes:
            return self._routes[key]
        xs, y0, xe, y1 = self._arrow_ends(c, src, dst, r)
        pts = [(xs, y0), (xe, y1)]
        for _ in range(6):  # a few detours at most
            for j in range(len(pts) - 1):
                hit = self._blocking(pts[j], pts[j + 1], (c.row, r))
                if hit is None:
                    continue
                (px, py), (qx, qy) = pts[j], pts[j + 1]
                b = Rect(hit.x0 - 5, hit.y0 - 5, hit.x1 + 5, hit.y1 + 5)
                right = qx > px
                under = (b.x0, b.y1) if right else (b.x1, b.y1)  # round the lower corner on our side
                over = (b.x1, b.y0) if right else (b.x0, b.y0)  # round the upper corner on the far side
                fits_under = (px <= b.x0) if right else (px >= b.x1)
                fits_over = py <= b.y0
                options = [w for w, ok in ((under, fits_under and b.y1 < qy), (over, fits_over)) if ok]
                if not options:
                    continue
                best = min(options, key=lambda w: _dist((px, py), w) + _dist(w, (qx, qy)))
                pts.insert(j + 1, best)
                break
            else:
                break
        self._routes[key] = pts
        return pts

    def _blocking(self, p, q, ends) -> Rect | None:
        """The first step box (not the arrow's own two) that the segment p-q crosses."""
        lo, hi = min(p[1], q[1]), max(p[1], q[1])
        for i in range(ends[0] + 1, ends[1]):  # the rows between the send and the delivery
            rect = self.box_rects.get(i)
            if rect is None or rect.y1 < lo or rect.y0 > hi:
                continue
            if _crosses(p, q, Rect(rect.x0 - 2, rect.y0 - 2, rect.x1 + 2, rect.y1 + 2)):
                return rect
        return None

    def _message_labels(self) -> list[str]:
        """Each delivered message's label in the band just above its receiving box, beside
        the arrow where it crosses that band; then the undelivered ones' labels."""
        out = []
        for c in self.copies:
            src, dst = c.key[0], c.key[1]
            for r in c.deliveries:
                lines = self.delivery_label[r]
                xs, y0, xe, y1 = self._arrow_ends(c, src, dst, r)
                top = self.label_top[r]
                w = max(fm.width(t, BODY) for t in lines)
                if src == dst:
                    x, anchor = max(xs, xe) + 12, "start"
                else:
                    yb = top + block_h([BODY] * len(lines)) / 2
                    at, rightward = _x_at(self._route(c, src, dst, r), yb)
                    # beside the arrow, on the side it comes from
                    x, anchor = (at - 8, "end") if rightward else (at + 8, "start")
                x0 = x - (w if anchor == "end" else 0)
                x0 = min(max(x0, GUTTER_L + 2), self.lanes_right - 2 - w)
                x = x0 + (w if anchor == "end" else 0)
                out.append(f'<g class="msg-label-block" data-to="{r}">')
                out += self._block(x, top, lines, "msg-label", anchor)
                out.append("</g>")
        for g in self.dangles:
            cls = "dangle-label" + (" lost" if g.lost is not None else "")
            x = g.xe + 6 if g.anchor == "start" else g.xe - 6
            out += self._block(x, g.top, g.lines, cls, g.anchor)
        out += self._down_labels()
        return out

    def _stubs(self, g: _Dangle) -> list[str]:
        """Dashed stubs from the send toward each receiver, the outermost ending where its
        label starts (in an X when a loss dropped them)."""
        out = []
        y0 = self._y(g.row)
        ye_last = g.top + fm.ASCENT * BODY * 0.6
        k = len(g.dests)
        for j, dst in enumerate(g.dests):
            xe = g.xs + (g.xe - g.xs) * (1 - 0.14 * (k - 1 - j)) if k > 1 else g.xe
            ye = ye_last - 5 * (k - 1 - j)
            mark = ""
            if g.lost is not None:
                mark = (f'<path class="lost-x" d="M{xe - 5:.1f},{ye - 5:.1f} L{xe + 5:.1f},{ye + 5:.1f} '
                        f'M{xe - 5:.1f},{ye + 5:.1f} L{xe + 5:.1f},{ye - 5:.1f}"/>')
            fate = f"lost at step {g.lost}" if g.lost is not None else "not delivered"
            title = f"{g.label} from {self.d.node(g.src)} to {self.d.node(dst)}: sent at step {g.row}, {fate}"
            out.append(f'<g class="msg-dangling{" lost" if g.lost is not None else ""}" data-from="{g.row}">'
                       f'<title>{esc(title)}</title><path d="M{g.xs:.1f},{y0:.1f} L{xe:.1f},{ye:.1f}"/>'
                       f'{mark}</g>')
        return out

    def _down_labels(self) -> list[str]:
        """"down" beside a lane while its node is down, where nothing else is written."""
        out = []
        taken = [lab.rect() for lab in self.texts] + [r for r, _ in self.solids]
        for k, y0, y1 in self.down_spans:
            lab = Label(self.x[k] + 6, (y0 + y1) / 2 + 4, "down", "down-label", "start")
            r = lab.rect()
            if y1 - y0 > 40 and r.x1 < self.lanes_right and not any(r.overlaps(t, 0) for t in taken):
                out.append(self._put(lab))
                taken.append(r)
        return out

    # ---- the right-hand column ----
    def _gutter(self) -> list[str]:
        """Notes about stretches of the trace, stacked so none covers another: the links
        cut where the cut changes, the lasso, leads_to's trigger."""
        items: list[tuple[float, list[tuple[str, str, float]], str]] = []  # (wanted top, lines, group class)
        gx = self.lanes_right + self.gutter_x
        out = []
        for idx, text in self.cut_changes:
            lines = [(t, "", BODY) for t in fm.wrap(text, GUTTER_TEXT, BODY)]
            items.append((self.mid[idx] - 8, lines, "cut-label"))
        if self.never_healed:
            items.append((self.lanes_end - 16, [("never healed in this trace", "", BODY)], "cut-label"))
        r = self.result
        if r.cycle is not None:
            xb = self.lanes_right + 10
            if r.cycle:
                cyc = [row for row in self.rows if row.in_cycle]
                y0, y1 = self.top[cyc[0].index] + 4, self.bottom[cyc[-1].index] - 4
                out.append(f'<g class="lasso"><path class="bracket" d="M{xb - 8},{y0:.1f} H{xb} V{y1:.1f} '
                           f'H{xb - 8}"/><path class="loop-back" d="M{xb + 4},{y1:.1f} C{xb + 26},{y1:.1f} '
                           f'{xb + 26},{y0:.1f} {xb + 6},{y0:.1f}" marker-end="url(#ah-loop)"/></g>')
                steps = (f"(steps {cyc[0].index}–{cyc[-1].index})" if len(cyc) > 1 else f"(step {cyc[0].index})")
                items.append(((y0 + y1) / 2 - 20, [("repeats", "lasso-label", LASSO), ("forever", "lasso-label", LASSO),
                                                  (steps, "lasso-sub", BODY)], "lasso"))
            else:
                y0 = self.bottom[self.rows[-1].index] - 4 if self.rows else self.lanes_top
                y1 = self.final_top + self.final_h
                out.append(f'<g class="lasso stuck"><path class="bracket" d="M{xb - 8},{y0:.1f} H{xb} '
                           f'V{y1:.1f} H{xb - 8}"/></g>')
                items.append(((y0 + y1) / 2 - 12, [("stuck from here", "lasso-label", LASSO),
                                                  ("(no step can happen)", "lasso-sub", BODY)], "lasso stuck"))
        if r.trigger is not None:
            # leads_to: a line where the left side holds (after step `trigger`)
            y = self.bottom[r.trigger] if r.trigger else self.lanes_top + 10
            out.append(f'<g class="trigger"><line x1="{GUTTER_L + 4}" y1="{y:.1f}" x2="{self.lanes_right + 4:.1f}" '
                       f'y2="{y:.1f}"/></g>')
            items.append((y - 30, [("left side of leads_to", "", BODY), ("holds from here", "", BODY)], "trigger"))
        floor = 0.0
        for want, lines, cls in sorted(items, key=lambda it: it[0]):
            top = max(want, floor)
            sizes = [s for _, _, s in lines]
            out.append(f'<g class="{cls}">')
            for (text, c, size), yb in zip(lines, baselines(top, sizes)):
                out.append(self._put(Label(gx, yb, text, c, "start", size)))
            out.append("</g>")
            floor = top + block_h(sizes) + 6
        self.height = max(self.height, floor + 6)
        return out

    # ---- the end: last state, ghosts, banner ----
    def _final(self) -> list[str]:
        out = []
        y = self.final_top
        cyc = self.result.cycle
        caption = ("state where the cycle starts (and returns)" if cyc else
                   "last state (forever)" if cyc is not None else "last state")
        out.append(self._put(Label(GUTTER_L - 8, y + 14, "end", "gutter", "end")))
        for k in range(self.n):
            lines = self.final_badges[k]
            if not lines:
                continue
            x = self.x[k]
            w = max(self._block_w(lines, FINAL), 70)
            h = block_h([FINAL] * len(lines)) + 12
            cls = "badge final" + (" bad" if k in self.blamed else "") + (" down" if not self.last.up[k] else "")
            o = self._solid(Rect(x - w / 2, y, x + w / 2, y + h), "badge")
            out.append(f'<g class="{cls}"><title>{esc(self.names[k])}, {caption}</title>'
                       f'<rect x="{x - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6"/>')
            out += self._block(x - w / 2 + PAD, y + 6, lines, size=FINAL, owner=o)
            out.append("</g>")
        if self.ghost_lines:
            out.append('<g class="ghost-label">')
            out += self._block(GUTTER_L + 4, self.ghost_top, self.ghost_lines)
            out.append("</g>")
        if self.v is not None:
            bx, by, bw = GUTTER_L + 4, self.banner_top, self.banner_w
            sizes = [BANNER] * len(self.banner_title) + [BODY] * len(self.banner)
            h = block_h(sizes) + 20
            o = self._solid(Rect(bx, by, bx + bw, by + h), "banner")
            out.append(f'<g class="banner"><rect x="{bx}" y="{by:.1f}" width="{bw:.1f}" height="{h:.1f}" rx="6"/>')
            classes = ["banner-title"] * len(self.banner_title) + ["banner-sub"] * len(self.banner)
            for text, cls, size, yb in zip(self.banner_title + self.banner, classes, sizes, baselines(by + 10, sizes)):
                out.append(self._put(Label(bx + 12, yb, text, cls, "start", size, o)))
            out.append("</g>")
        return out

    # ---- the promise, checkable without a browser ----
    def collisions(self) -> list[str]:
        """Every pair of texts that overlap, text outside its box or on another box, text
        outside the picture, and arrows through a step box: [] when the layout keeps its
        promise (after `svg()`)."""
        out = []
        for c in self.copies:
            for r in c.deliveries:
                if c.key[0] != c.key[1]:
                    pts = self._route(c, c.key[0], c.key[1], r)
                    if any(self._blocking(p, q, (c.row, r)) for p, q in zip(pts, pts[1:])):
                        out.append(f"arrow through a step box: {self.d.message(c.key)} to step {r}")
        rects = [t.rect() for t in self.texts]
        frame = Rect(0, 0, self.width, self.height)
        for a, (ta, ra) in enumerate(zip(self.texts, rects)):
            if not ra.inside(frame):
                out.append(f"outside the picture: {ta.text!r}")
            if ta.owner is not None and not ra.inside(self.solids[ta.owner][0]):
                out.append(f"sticks out of its {self.solids[ta.owner][1]}: {ta.text!r}")
            for o, (rect, kind) in enumerate(self.solids):
                if o != ta.owner and ra.overlaps(rect):
                    out.append(f"on a {kind}: {ta.text!r}")
            for b in range(a + 1, len(rects)):
                if ra.overlaps(rects[b]):
                    out.append(f"overlap: {ta.text!r} and {self.texts[b].text!r}")
        return out


def _dist(p, q) -> float:
    return ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5


def _crosses(p, q, r: Rect) -> bool:
    """Whether the segment p-q passes through rectangle r (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for d, a, b in ((dx, r.x0 - x0, r.x1 - x0), (dy, r.y0 - y0, r.y1 - y0)):
        if d == 0:
            if a > 0 or b < 0:
                return False
            continue
        t0, t1 = sorted((a / d, b / d))
        lo, hi = max(lo, t0), min(hi, t1)
        if lo > hi:
            return False
    return True


def _x_at(points: list[tuple[float, float]], y: float) -> tuple[float, bool]:
    """Where a downward polyline is at height y, and whether it heads right there."""
    for (px, py), (qx, qy) in zip(points, points[1:]):
        if min(py, qy) <= y <= max(py, qy) and qy != py:
            return px + (qx - px) * (y - py) / (qy - py), qx > px
    (px, _), (qx, _) = points[0], points[-1]
    return (px + qx) / 2, qx > px


DEFS = ('<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head"/></marker>'
        '<marker id="ah-loop" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head-loop"/></marker>'
        '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="8" class="hatch-line"/></pattern></defs>')
