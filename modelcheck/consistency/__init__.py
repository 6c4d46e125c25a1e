"""Client operations and consistency checks over their history (docs/language.md,
"Client operations and consistency").

A spec marks the operations its clients perform on a `register` (`invoke x.write(v)`,
`complete x.read -> v`); invariants ask whether the history so far is linearizable,
sequentially consistent, or keeps a session guarantee. The history itself is never
stored in the state: `monitor` keeps, per register, only what each check needs to
decide every extension of the history (see monitor.py), so a violation is found at
the step that makes the history impossible. `history` rebuilds the history of a
trace for reports.
"""
from .monitor import CHECKS, READ, WRITE, Misuse, RegisterMonitor

__all__ = ["CHECKS", "READ", "WRITE", "Misuse", "RegisterMonitor"]
