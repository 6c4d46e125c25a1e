"""What every fault kind must say about itself: the `FaultKind` protocol.

A fault kind (crash, partition, loss, ...) is one line of a `faults { }` block and
one kind of environment step. Everything the rest of modelcheck needs to know
about it lives on its class, in one module under modelcheck/faults/:

    keyword, takes_role ...   how it is written (the grammar line names the keyword)
    check                     extra static checks (E2xx) on one fault line
    successors                its steps from a `State` (engine/model.py)
    packed                    its lines in the packed engine's generated successor
                              function (engine/packed.py)
    encode                    its step instances in z3 (smt/symbolic.py), or
                              `Unsupported`
    footprint                 what it writes and reads, for sleep sets
                              (engine/reduction.py)
    headline, detail_json,    how traces, JSON, Mermaid and the HTML report describe
    note, lane_mark           one of its steps (report/)

plus declared facts the reductions rely on: `adds_cuts` (it can cut links: the z3
frame needs link variables), `renaming_closed` (its set of steps maps onto itself
when interchangeable nodes are renamed: symmetry is sound for it), `only_delays`
(its steps only hold messages back or release them: safety runs without a time
block may skip it, modelcheck/prune).

The hooks are abstract: a kind that forgets one cannot be instantiated, so the
registry (modelcheck/faults/__init__.py) fails at import, not at some later step.

Families share their engine code: `CutShape` is every fault that cuts a fixed set
of links chosen from a list of shapes (partition, one_way, link, bridge, ring), so
a new network shape only says which link sets it can cut and how to describe one;
`NetFault` is loss and duplication, which act on one message in flight.
"""
from __future__ import annotations

import functools
from abc import ABC, abstractmethod

from ..engine.state import State, Step, Transition

Link = tuple  # a directed link (src, dst)


class FaultKind(ABC):
    """One fault kind. Subclasses set the class attributes and implement the hooks."""

    keyword: str = ""  # as written in a faults block, and as `Step.kind`
    takes_role: bool = False  # `crash [Role]`: the line may name a role
    needs_bound: bool = False  # unbounded, the state space would be infinite (E210)
    noun: str = "faults"  # what E210's hint calls an unbounded number of its steps
    adds_cuts: bool = False  # its steps cut links (the z3 frame then has cut variables)
    renaming_closed: bool = True  # its steps are the same set after renaming nodes (symmetry)
    on_lane: bool = False  # drawn on its node's lane (a node fault), not across the diagram
    # Its steps only change which messages can be delivered now (cuts, heals). In the
    # asynchronous model (no time block) delay alone reproduces that, so a run that
    # checks only invariants may leave such lines out (modelcheck/prune/partitions.py).
    # False by default: a kind that does anything else must be explored.
    only_delays: bool = False
    # Its footprint is a function of the step's key (kind, node, detail, message,
    # line), so engine/reduction.py computes it once per key.
    footprint_by_key: bool = True

    # ---- language --------------------------------------------------------------------

    def check(self, checker, decl, info) -> None:
        """Extra checks of one fault line (`decl` the syntax, `info` the FaultInfo
        being built): report with checker.error(code, message, span, hint)."""

    def summary(self, f) -> str:
        """The line as the result header lists it (`crash Server at most 1`)."""
        return (self.keyword + (f" {f.role}" if f.role else "")
                + (f" at most {f.budget}" if f.budget is not None else ""))

    # ---- engines ---------------------------------------------------------------------

    @abstractmethod
    def successors(self, model, state, f, budgets: tuple) -> list:
        """The `Transition`s of fault line `f` from `state`, in a fixed order
        (`budgets`: the state's budgets with this line's already spent)."""

    @abstractmethod
    def packed(self, g, i: int, f, ind: str, b2: str) -> list[str]:
        """Source lines for the packed engine's `successors(p)`: `g` is the
        generator (engine/packed.py, `Generator`), `i` the line's index, `ind` the
        indentation, `b2` the budgets after spending. Only fixed text and integers
        may reach the source (it is compiled)."""

    @abstractmethod
    def encode(self, sym, pre, f, has, spent: dict, tag: str) -> list:
        """The z3 step instances (`smt.symbolic.Inst`) of line `f` from frame `pre`:
        `has` is the budget condition, `spent` the budget update, `tag` names the
        transition (fresh variables and instance labels start with it). Raise
        `smt.symbolic.Unsupported` when it cannot be encoded."""

    def step_name(self, tag: str) -> str:
        """The label prefix of this kind's z3 step instances."""
        return f"{tag}:fault {self.keyword}"

    @abstractmethod
    def footprint(self, fp, state, step) -> tuple[int, int]:
        """(writes, reads) bitmasks of `step` taken from `state` (engine/reduction.py,
        `Footprints` holds the bit layout), not counting the line's budget bit."""

    # ---- reports ---------------------------------------------------------------------

    @abstractmethod
    def headline(self, d, step) -> str:
        """One line for traces: `fault: Server[0] crashes` (`d` a report Describer)."""

    def detail_json(self, d, step):
        """`step.detail` in JSON terms (docs/json-format.md), or None."""
        return None

    lane_mark: str | None = None  # the HTML report's mark beside its box: "x", "o" or None

    def box_title(self, step) -> str:
        """The HTML report's box title for an `on_lane` step (after the step number)."""
        return self.keyword

    def lane_word(self, step) -> str:
        """What the Mermaid diagram writes on the lane of an `on_lane` step."""
        return self.keyword.upper()

    def note(self, d, step, i: int):
        """The HTML report's pill for a step drawn across the diagram: (text, css
        class). Lane steps (on_lane) are drawn as boxes instead."""
        return f"{i}. {d.headline(step)}", "note fault"


class CutShape(FaultKind):
    """A fault that cuts one of a fixed list of link sets: a step per shape whose
    links are not all cut already; the step adds them to the cut.

    A subclass says which shapes exist for n nodes (`shapes`) and how one reads.
    Everything else (State and packed successors, z3, footprints) is here."""

    adds_cuts = True
    only_delays = True  # a cut link holds messages back; it destroys none
    # Shapes that grow exponentially with the nodes have a limit (E206 past it):
    # `max_nodes`, and `count_text(n)` / `plural` to say why in the message.
    max_nodes: int | None = None
    plural: str = ""
    count: str = ""  # how many shapes, formatted with n, n1 = n - 1, n2 = n - 2

    def count_text(self, n: int) -> str:
        return self.count.format(n=n, n1=n - 1, n2=n - 2)

    def check(self, checker, decl, info):
        n = checker.node_count()
        if self.max_nodes is not None and n > self.max_nodes:
            checker.error("E206", f"'{self.keyword}' over {n} nodes would try {self.count_text(n)} in every state",
                          decl.span, f"{self.plural} are supported up to {self.max_nodes} nodes; "
                                     "use one_way cuts instead")

    @abstractmethod
    def shapes(self, n: int) -> list[tuple[object, tuple[Link, ...]]]:
        """Every shape for nodes 0..n-1, each once, in a fixed order: (detail, the
        directed links it cuts). `detail` is what `Step.detail` records."""

    @abstractmethod
    def label(self, detail) -> str:
        """The z3 step instance's label suffix (appears in `prove`'s diagnostics)."""

    def links_of(self, n: int) -> list[tuple[object, frozenset]]:
        return _link_sets(self, n)

    def successors(self, model, state, f, budgets):
        cut, span = state.cut, f.span
        return [Transition(Step(self.keyword, detail=detail, span=span),
                           State(state.nodes, state.up, state.net, cut | links, state.ghosts, budgets, state.time))
                for detail, links in self.links_of(model.n_nodes) if not links <= cut]

    def cuts_after(self, n: int, cut: frozenset) -> list[frozenset]:
        """The cuts after each enabled step (the packed engine's memo miss)."""
        return [cut | links for _, links in self.links_of(n) if not links <= cut]

    def packed(self, g, i, f, ind, b2):
        return g.cut_lines(i, ind, b2)

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, NOT, TRUE, Inst
        name = self.step_name(tag)
        out = []
        for detail, links in self.shapes(sym.n_nodes):
            inst = Inst(f"{name} {self.label(detail)}", ok=AND(has, NOT(AND(*[pre.cut[k] for k in links]))),
                        budgets=dict(spent))
            inst.cut = {k: TRUE for k in links}
            out.append(inst)
        return out

    def footprint(self, fp, state, step):
        writes = fp.cut_set_bit  # cuts and heals may enable or disable each other
        for a, b in _shape_links(self, fp.n, step.detail):
            writes |= fp.link_bit(a, b)
        return writes, 0


class PairCut(CutShape):
    """A cut shape named by two nodes (a, b): `one_way` (a -> b) and `link` (a <-> b).
    Subclasses give the arrow and the JSON key; the descriptions are shared."""

    arrow = "->"  # in traces
    html_arrow = "→"  # in the HTML report
    json_key = "link"
    tail = ""  # what the cut means, after the headline

    def label(self, detail):
        return f"{detail}"

    def headline(self, d, step):
        a, b = step.detail
        return f"fault: link {d.node(a)} {self.arrow} {d.node(b)} cut" + self.tail.format(a=d.node(a), b=d.node(b))

    def detail_json(self, d, step):
        a, b = step.detail
        return {self.json_key: [d.node(a), d.node(b)]}

    def note(self, d, step, i):
        a, b = step.detail
        return f"{i}. link {d.node(a)} {self.html_arrow} {d.node(b)} cut", "note fault"


class NetFault(FaultKind):
    """A fault on one message in flight (loss, duplication): a step per message the
    delivery mode offers (`network.lose` / `network.duplicate`)."""

    @abstractmethod
    def nets_after(self, network, net) -> list:
        """[(message, network after)] for every message it can act on."""

    def successors(self, model, state, f, budgets):
        span = f.span
        return [Transition(Step(self.keyword, message=m, span=span),
                           State(state.nodes, state.up, net, state.cut, state.ghosts, budgets, state.time))
                for m, net in self.nets_after(model.network, state.net)]

    def packed(self, g, i, f, ind, b2):
        return g.net_lines(i, ind, b2)

    def footprint(self, fp, state, step):
        return fp.message_bit(step.message), 0

    def note(self, d, step, i):
        m = step.message
        return f"{i}. {self.verb} {d.message(m)} ({d.node(m[0])} → {d.node(m[1])})", "note fault"

    def headline(self, d, step):
        m = step.message
        return f"fault: {self.verb} {d.message(m)} from {d.node(m[0])} to {d.node(m[1])}"

    verb = ""


def symmetric(links) -> tuple[Link, ...]:
    """Both directions of every link between two groups given as pairs (a, b):
    a->b for each pair, then b->a for each pair (the order the z3 encoding uses)."""
    links = list(links)
    return tuple(links) + tuple((b, a) for a, b in links)


@functools.lru_cache(maxsize=None)
def _link_sets(kind: CutShape, n: int) -> list[tuple[object, frozenset]]:
    return [(detail, frozenset(links)) for detail, links in kind.shapes(n)]


@functools.lru_cache(maxsize=None)
def _shapes_by_detail(kind: CutShape, n: int) -> dict:
    return {detail: links for detail, links in kind.shapes(n)}


def _shape_links(kind: CutShape, n: int, detail) -> tuple[Link, ...]:
    return _shapes_by_detail(kind, n)[detail]
