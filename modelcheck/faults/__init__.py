"""The fault kinds: one module per kind, one registry.

`KINDS` maps each keyword of a `faults { }` line to the object that knows
everything about it (see base.FaultKind). The parser, checker, both engines, the
z3 encoding, the sleep-set reduction, symmetry and every report look kinds up
here; none of them lists fault kinds itself.

To add a fault kind: write a module here with a FaultKind (or CutShape for a new
network shape, NetFault for a new message fault) subclass, and add its line to the
`fault` rule of grammar/ha.lark (the alias after `->` is the keyword). The module is
found and registered on import; docs/architecture.md walks through it.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

from .base import CutShape, FaultKind, NetFault, PairCut

_FAMILIES = (FaultKind, CutShape, NetFault, PairCut)


def _discover() -> dict[str, FaultKind]:
    """Every concrete FaultKind defined in a module of this package, by keyword
    (modules in name order). Adding a kind is adding a module: nothing to list."""
    kinds: dict[str, FaultKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FaultKind) and cls not in _FAMILIES and cls.__module__ == module.__name__:
                kind = cls()  # an abstract hook left out fails here, at import
                if kind.keyword in kinds:
                    raise TypeError(f"two fault kinds use the keyword '{kind.keyword}'")
                kinds[kind.keyword] = kind
    return kinds


KINDS: dict[str, FaultKind] = _discover()

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
