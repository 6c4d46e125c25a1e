"""Expected verdicts: `# expect:` lines in a spec's header, and checking a run against one.

Why apart from the pytest plugin: what an expectation says and how a run is held
to it is one definition, whoever asks (the plugin's `.ha` items and its marker for
tests written in Python; docs/api.md, "Expected verdicts").

Syntax, one line per expectation in the comment block that opens the spec (before
its first line of code); each line is one test:

    # expect: VIOLATED single_primary
    # expect: HOLDS --no-faults
    # expect: HOLDS --const LOSS=0 --scenario two_crashes
    # expect: ERROR E101

The verdict is HOLDS, VIOLATED, INCOMPLETE or ERROR (any case). VIOLATED may name
the invariant or property that must break (only that one is checked, unless the
line selects others); ERROR may name the diagnostic code that must be among the
spec's errors. After them come `modelcheck verify` options. A spec without an
`expect:` line is expected to HOLD.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .lang.diagnostics import Diagnostic, Source, Span, SpecError, did_you_mean

VERDICTS = ("holds", "violated", "incomplete", "error")
_LINE = re.compile(r"^\s*#\s*expect\s*:(.*)$", flags=re.IGNORECASE)
# verify's options that make sense in a test (the others write files or print)
_NOT_IN_TESTS = {"fmt": "--format", "trace_out": "--trace-out", "html_out": "--html", "quiet": "--quiet"}


@dataclass(frozen=True)
class Expectation:
    verdict: str  # one of VERDICTS
    name: str | None = None  # VIOLATED: the invariant or property; ERROR: the diagnostic code
    options: dict = field(default_factory=dict)  # keywords of modelcheck.verify
    text: str = "HOLDS"  # as written, for the test's name
    line: int = 0  # where it was written (0: the default, or a marker)


class Mismatch(Exception):
    """The run did not end as expected; the message says how (with the trace)."""


def parse(text: str) -> Expectation:
    """One expectation: `VERDICT [NAME] [verify options]` (a marker's `expect=` or a
    header line's text). Raises ValueError with a message."""
    try:
        words = shlex.split(text)
    except ValueError as err:
        raise ValueError(f"cannot split '{text.strip()}': {err}") from None
    if not words or words[0].lower() not in VERDICTS:
        got = f"'{words[0]}'" if words else "nothing"
        raise ValueError(f"expected a verdict (HOLDS, VIOLATED [NAME], INCOMPLETE or ERROR [CODE]), found {got}")
    verdict, rest = words[0].lower(), words[1:]
    name = None
    if rest and not rest[0].startswith("-"):
        if verdict not in ("violated", "error"):
            raise ValueError(f"{verdict.upper()} takes no name ('{rest[0]}'): only VIOLATED NAME and ERROR CODE do")
        name, rest = rest[0], rest[1:]
    return Expectation(verdict, name, _options(rest), " ".join([verdict.upper(), *words[1:]]))


def _options(args: list[str]) -> dict:
    """`modelcheck verify` options as modelcheck.verify keywords, parsed by the
    command line's own parser so both accept exactly the same."""
    if not args:
        return {}
    import click

    from .cli import _memory_limit, _parse_consts
    from .cli import verify as command

    try:
        ctx = command.make_context("expect", ["SPEC", *args])
        p = ctx.params
        for key, option in _NOT_IN_TESTS.items():
            if p[key] not in (None, False, "text"):
                raise ValueError(f"{option} has no place in an expectation (it writes or prints a report)")
        out = {"consts": _parse_consts(p["consts"]), "invariants": list(p["invariants"]),
               "properties": list(p["properties"]), "scenario": p["scenario"], "no_faults": p["no_faults"],
               "symmetry": p["symmetry"], "fingerprints": p["fingerprints"], "prune": p["prune"],
               "max_states": p["max_states"], "max_depth": p["max_depth"], "timeout": p["timeout"],
               "keep_partitions": p["keep_partitions"], "keep_dead_messages": p["keep_dead_messages"]}
        if p["memory"] is not None:
            out["memory_limit"] = _memory_limit(p["memory"])
    except click.ClickException as err:
        raise ValueError(err.format_message()) from None
    except click.exceptions.Exit:  # --help: click printed it
        raise ValueError("--help has no place in an expectation") from None
    return out


def header(source: Source) -> list[Expectation] | SpecError:
    """The expectations in the comment block that opens the spec (HOLDS when there
    is none); a malformed line is a SpecError pointing at it."""
    found = []
    for n, line in enumerate(source.lines, 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        m = _LINE.match(line)
        if m is None:
            continue
        try:
            e = parse(m.group(1))
        except ValueError as err:
            column = m.start(1) + len(m.group(1)) - len(m.group(1).lstrip()) + 1
            span = Span(n, column, n, max(column + 1, len(line.rstrip()) + 1))
            return SpecError([Diagnostic("", f"expect: {err}", span,
                                         "write e.g. '# expect: VIOLATED single_primary' or "
                                         "'# expect: HOLDS --no-faults'")], source)
        found.append(Expectation(e.verdict, e.name, e.options, e.text, n))
    return found or [Expectation("holds")]


def check(target, e: Expectation, extra: dict | None = None, name: str | None = None):
    """Run `target` (what modelcheck.load takes; `name` as load's) as `e` says, with
    `extra` verify options; return the Verification (None for an expected ERROR), or
    raise Mismatch with the report."""
    from . import api

    options = {**e.options, **(extra or {})}
    try:
        spec = api.load(target, options.pop("consts", None), name=name)
        if e.verdict == "violated" and e.name and not options.get("invariants") and not options.get("properties"):
            options.update(_select(spec, e.name))
        v = api.verify(spec, **options)
    except api.SpecError as err:
        codes = [d.code for d in err.diagnostics]
        if e.verdict == "error" and (e.name is None or e.name in codes):
            return None
        want = f"ERROR {e.name}" if e.verdict == "error" else e.text
        raise Mismatch(f"expected {want}, but the spec has errors:\n{err}") from None
    if e.verdict == "error":
        raise Mismatch(f"expected {e.text}, but the spec loaded without errors and {v.verdict}:\n"
                       f"{v.summary()}")
    if v.verdict != e.verdict or (e.name is not None and v.violation is not None and v.violation.name != e.name):
        got = v.verdict.upper() + (f" {v.violation.name}" if v.violation is not None and v.violation.name else "")
        raise Mismatch(f"expected {e.text}, got {got}:\n\n{v.text()}")
    return v


def _select(spec, name: str) -> dict:
    """VIOLATED NAME checks only NAME, so that another violation found first
    cannot hide it."""
    if name in spec.invariants:
        return {"invariants": [name]}
    if name in spec.properties:
        return {"properties": [name]}
    guess = did_you_mean(name, spec.invariants + spec.properties)
    raise Mismatch(f"expected VIOLATED {name}, but {spec.path} has no invariant or property '{name}'"
                   + (f" (did you mean '{guess}'?)" if guess else ""))
