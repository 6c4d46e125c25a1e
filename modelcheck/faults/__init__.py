"""The fault kinds: one module per kind, one registry.

`KINDS` maps each keyword of a `faults { }` line to the object that knows
everything about it (see base.FaultKind). The parser, checker, both engines, the
z3 encoding, the sleep-set reduction, symmetry and every report look kinds up
here; none of them lists fault kinds itself.

To add a fault kind: write a module here with a FaultKind (or CutShape for a new
network shape, NetFault for a new message fault) subclass, add an instance to
`_ALL` below, and add its line to the `fault` rule of grammar/ha.lark (the alias
after `->` is the keyword). docs/architecture.md walks through it.
"""
from __future__ import annotations

from .base import CutShape, FaultKind, NetFault
from .bridge import Bridge
from .crash import Crash
from .duplicate import Duplicate
from .heal import Heal
from .link import Link
from .loss import Loss
from .one_way import OneWay
from .partition import Partition
from .pause import Pause
from .restart import Restart
from .ring import Ring

# In the order traces and docs list them (a faults block keeps its own order).
_ALL: tuple[FaultKind, ...] = (Crash(), Restart(), Partition(), OneWay(), Link(), Bridge(), Ring(), Heal(),
                               Loss(), Duplicate(), Pause())
KINDS: dict[str, FaultKind] = {k.keyword: k for k in _ALL}

# Liveness assumptions written in a faults block (`eventually heal`, `eventually
# restart [Role]`): not steps, they restrict which cycles count (docs/language.md).
ASSUMPTION_KINDS = frozenset({"eventually_heal", "eventually_restart"})

# Environment steps: every fault kind, and the time block's first step that picks
# the clock offsets. Liveness never relies on them (faults eventually stop): they
# are not weakly fair and a liveness cycle takes none of them.
ENVIRONMENT_STEPS = frozenset(KINDS) | {"clocks"}


def kind(keyword: str) -> FaultKind:
    return KINDS[keyword]


__all__ = ["KINDS", "ASSUMPTION_KINDS", "ENVIRONMENT_STEPS", "FaultKind", "CutShape", "NetFault", "kind"]
