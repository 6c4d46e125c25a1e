"""What `modelcheck check` does to a spec that type-checks, in one place.

Why a module of its own: the command (cli.check) and the language server
(lsp/analysis.lint_warnings) must say the same things about a spec, so both call
`static_check` instead of repeating its steps: build the model (which finds the
errors the type checker cannot: initial values out of range, property domains),
then run the lint (smt/lint.py: warnings, and notes for the checks it skipped).
Only what each does with the result differs: the command prints it, the server
turns it into diagnostics.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .engine.model import Model, build
from .lang.checker import CheckedSpec
from .lang.diagnostics import Diagnostic, Source


@dataclass
class StaticCheck:
    model: Model  # what `verify` would explore (faults block included)
    warnings: list[Diagnostic] = field(default_factory=list)  # the lint's, in source order
    notes: list[Diagnostic] = field(default_factory=list)  # checks the lint skipped: said, never failed on


def static_check(checked: CheckedSpec, source: Source) -> StaticCheck:
    """Build the model, then lint the spec. Raises SpecError when the model cannot be
    built (nothing is linted then)."""
    from .smt.lint import lint  # z3: loaded only when a spec gets this far

    model = build(checked, source)
    notes: list[Diagnostic] = []
    warnings = lint(checked, notes)
    return StaticCheck(model, warnings, notes)
