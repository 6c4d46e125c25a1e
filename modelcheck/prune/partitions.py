"""Partition schedules that cannot change an invariant's verdict.

Without a `time` block the model is asynchronous: any message may wait any number
of steps. A cut link (partition, one_way, link, bridge, ring) only holds messages
back, and `heal` only lets them go again; neither changes a node, a ghost, a budget
other than its own, or what is in flight. So every behaviour with cuts is, step
for step, a behaviour without them in which the held messages are simply delivered
later: drop the cut and heal steps and the rest of the behaviour is still enabled
(removing a cut only enables deliveries) and reaches the same node states. The
converse is immediate (the cut lines can always not fire). Invariants read node
variables, ghosts, which nodes are up and the time, never links, messages in flight
or budgets (the compiled code's context, engine/compiler.Ctx, has no field for the
links), so the two models break the same invariants, and the shortest
counterexample without cuts is no longer than the shortest with them.

What this does not cover, and where the lines are kept:
- temporal properties: `eventually heal` and fairness make cuts matter for liveness
  (a cut can keep a behaviour from progressing);
- a time block: with `delivery within`, a cut link excuses a late message, and
  clocks make a delay observable;
- `modelcheck graph`, which draws the state graph as it is.

Which kinds qualify is each fault kind's own declared fact (`only_delays`,
modelcheck/faults/base.py): a new kind is kept unless it says so.
"""
from __future__ import annotations

from ..faults import KINDS

# Why skipping is sound, in one clause (the report's header line and the JSON).
WHY = ("without a time block a cut link only delays messages, and invariants cannot see links or "
       "messages in flight")


def delay_lines(faults: list) -> list:
    """The fault lines whose steps only hold messages back or release them."""
    return [f for f in faults if f.kind in KINDS and KINDS[f.kind].only_delays]


def why_kept(model, plan) -> str | None:
    """Why this search (`plan`, explorer.Plan) must explore the model's cut and heal
    lines (None: it need not)."""
    if model.time is not None:
        return "the spec has a time block (a cut link can make a message late)"
    if plan.properties:
        return "temporal properties are checked (a cut can keep a behaviour from progressing)"
    if plan.graph:
        return "the state graph is recorded as it is"
    return None
