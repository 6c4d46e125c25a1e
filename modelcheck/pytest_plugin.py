"""The pytest plugin (entry point `pytest11`): specs as tests.

Why a plugin: a team that keeps its designs next to its code wants them checked
by the test run it already has, with the counterexample as the failure message.
Two ways in (docs/api.md, "pytest"):

- `.ha` files are collected when asked: `pytest --ha`, or `ha_files = *.ha` (glob
  patterns, like `python_files`) in the ini file. Each `# expect:` line in a spec's
  header is one test (expect.py); a spec without one is expected to HOLD.
- `@pytest.mark.modelcheck(spec, expect="VIOLATED single_primary", **options)` on a
  test written in Python, whose `modelcheck_result` fixture is the Verification.

pytest loads this module in every run of every project where modelcheck is
installed, so it imports nothing heavy until a spec is checked, and collects no
`.ha` file unless asked to.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

MARKER = "modelcheck"
_RESULT = pytest.StashKey[object]()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("modelcheck", "modelcheck specs (.ha files)")
    group.addoption("--ha", action="store_true", default=False,
                    help="Collect .ha specs (matching ha_files, default *.ha) and check the verdict each "
                         "declares in a '# expect:' header line (HOLDS when none).")
    parser.addini("ha_files", type="args", default=[],
                  help="Glob patterns of .ha specs to collect in every run, like python_files "
                       "(e.g. '*.ha' or 'specs/*.ha'); --ha collects *.ha when this is not set.")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(spec, expect='HOLDS', **options): verify spec (a path relative "
                                       "to the rootdir, or spec text) with modelcheck.verify's options and "
                                       "fail with the report unless the verdict is as expected")


def _patterns(config) -> list[str]:
    patterns = config.getini("ha_files")
    if patterns:
        return patterns
    return ["*.ha"] if config.getoption("ha") else []


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".ha":
        return None
    patterns = _patterns(parent.config)
    if any(fnmatch.fnmatch(file_path.name, p) if "/" not in p else file_path.match(p) for p in patterns):
        return HaFile.from_parent(parent, path=file_path)
    return None


class HaFile(pytest.File):
    """A spec: one test per `# expect:` line."""

    def collect(self):
        from . import expect
        from .lang.diagnostics import SpecError
        from .lang.parser import load

        try:
            source = load(str(self.path))
        except SpecError:  # not readable or not UTF-8: verify says so, as one failing test
            yield HaItem.from_parent(self, name="HOLDS", expectation=expect.Expectation("holds"))
            return
        source.path = _shown(self.config, self.path)
        found = expect.header(source)
        if isinstance(found, SpecError):
            yield HaItem.from_parent(self, name="expect", expectation=None, problem=str(found))
            return
        for e in found:
            yield HaItem.from_parent(self, name=e.text, expectation=e)


class HaItem(pytest.Item):
    def __init__(self, *, expectation, problem: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.expectation = expectation
        self.problem = problem

    def runtest(self) -> None:
        from . import expect

        if self.problem is not None:
            pytest.fail(self.problem, pytrace=False)
        failure = None
        try:
            expect.check(str(self.path), self.expectation, name=_shown(self.config, self.path))
        except expect.Mismatch as err:
            failure = str(err)
        if failure is not None:  # raised outside the except: no "during handling" chain in the report
            pytest.fail(failure, pytrace=False)

    def reportinfo(self):
        line = self.expectation.line - 1 if self.expectation is not None and self.expectation.line else None
        return self.path, line, self.name


# ---- the marker, for tests written in Python ----

def _marked(item):
    """The Verification of the item's marker (None for an expected ERROR), run once;
    an error is kept and raised where the test is called, so it fails, not errors."""
    if _RESULT not in item.stash:
        from . import expect

        mark = item.get_closest_marker(MARKER)
        try:
            if len(mark.args) != 1:
                raise TypeError(f"@pytest.mark.{MARKER} takes one spec (a path or spec text), "
                                f"given {len(mark.args)}")
            options = dict(mark.kwargs)
            e = expect.parse(options.pop("expect", "HOLDS"))
            spec = _spec_arg(item, mark.args[0])
            shown = None if "\n" in spec else _shown(item.config, Path(spec))
            item.stash[_RESULT] = (expect.check(spec, e, options, name=shown), None)
        except (expect.Mismatch, TypeError, ValueError) as err:
            item.stash[_RESULT] = (None, err)
    return item.stash[_RESULT]


def _shown(config, path: Path) -> str:
    """A spec's name in reports: relative to the rootdir, as pytest shows test files."""
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


def _spec_arg(item, spec):
    """Spec text stays text; a relative path is relative to the rootdir."""
    if isinstance(spec, str) and "\n" in spec:
        return spec
    path = Path(spec)
    return str(path if path.is_absolute() else item.config.rootpath / path)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item) -> None:
    if item.get_closest_marker(MARKER) is None:
        return
    from . import expect

    _, err = _marked(item)
    if err is not None:
        pytest.fail(str(err) if isinstance(err, expect.Mismatch) else f"@pytest.mark.{MARKER}: {err}", pytrace=False)


@pytest.fixture
def modelcheck_result(request):
    """The Verification (modelcheck.verify's result) of the test's
    @pytest.mark.modelcheck: verdict, stats, trace."""
    if request.node.get_closest_marker(MARKER) is None:
        pytest.fail(f"the modelcheck_result fixture needs @pytest.mark.{MARKER}(spec, ...) on the test",
                    pytrace=False)
    return _marked(request.node)[0]
