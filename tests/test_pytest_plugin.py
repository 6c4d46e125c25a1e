"""The pytest plugin (modelcheck/pytest_plugin.py, entry point pytest11): .ha specs
collected on request and held to their `# expect:` lines; @pytest.mark.modelcheck
for tests written in Python. Run in throwaway projects with pytester."""
from __future__ import annotations

from importlib.metadata import entry_points

import modelcheck.api  # noqa: F401 - imported here, so that pytester's in-process runs share one copy
import modelcheck.expect  # noqa: F401
from conftest import ROOT

pytest_plugins = ["pytester"]

SPLIT = """spec split
role Server[2] {
  var primary: bool = self == Server[0]
  action promote when not primary { primary = true }
}
invariant single: count(s in Server where s.primary) <= 1
"""
SAFE = SPLIT.replace("not primary", "false")


def _spec(pytester, name: str, header: str, body: str = SPLIT) -> None:
    pytester.makefile(".ha", **{name: header + body})


def test_registered_as_a_pytest11_entry_point():
    assert 'modelcheck = "modelcheck.pytest_plugin"' in (ROOT / "pyproject.toml").read_text()
    assert any(e.value == "modelcheck.pytest_plugin" for e in entry_points(group="pytest11"))


def test_specs_are_collected_only_when_asked(pytester):
    _spec(pytester, "split", "# expect: VIOLATED single\n")
    assert pytester.runpytest().ret == 5  # no tests: .ha files are not collected by default
    result = pytester.runpytest("--ha", "-v")
    result.stdout.fnmatch_lines(["split.ha::VIOLATED single PASSED*"])
    assert result.ret == 0


def test_each_expect_line_is_a_test_and_a_wrong_verdict_fails_with_the_trace(pytester):
    _spec(pytester, "split", "# A split brain.\n#\n# expect: violated single\n# expect: HOLDS --no-faults\n")
    _spec(pytester, "safe", "# no expect line: HOLDS\n", SAFE)
    result = pytester.runpytest("--ha", "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*_ HOLDS --no-faults _*", "expected HOLDS --no-faults, got VIOLATED single:",
                                 "Counterexample: invariant 'single' is violated after 1 step.",
                                 "*Server?1?.primary: false -> true", "Result: VIOLATED *",
                                 "FAILED split.ha::HOLDS --no-faults - *"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()


def test_expected_errors_and_malformed_expect_lines(pytester):
    _spec(pytester, "typo", "# expect: ERROR E101\n", SPLIT.replace("not primary", "not primry"))
    _spec(pytester, "wrong", "# expect: VIOLATED single\n", SPLIT.replace("not primary", "not primry"))
    _spec(pytester, "bad", "# expect: OK\n")
    result = pytester.runpytest("--ha")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["expected VIOLATED single, but the spec has errors:",
                                 "wrong.ha:5:27: error*unknown name 'primry'*"])
    result.stdout.fnmatch_lines(["bad.ha:1:11: error: expect: expected a verdict (HOLDS, VIOLATED [NAME], "
                                 "INCOMPLETE or ERROR [CODE]), found 'OK'", "    1 | # expect: OK", "*^~*",
                                 "  hint: write e.g. *"])


def test_ini_patterns_choose_the_files(pytester):
    pytester.mkdir("specs")
    (pytester.path / "specs" / "split.ha").write_text("# expect: VIOLATED single\n" + SPLIT)
    (pytester.path / "scratch.ha").write_text("# expect: HOLDS\n" + SPLIT)  # would fail if collected
    pytester.makeini("[pytest]\nha_files = specs/*.ha\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_marker_checks_a_spec_from_python(pytester):
    pytester.makefile(".ha", split=SPLIT)
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.modelcheck("split.ha", expect="VIOLATED single")
        def test_split(modelcheck_result):
            assert [s.label for s in modelcheck_result.trace] == ["Server[1] does promote"]

        @pytest.mark.modelcheck({SAFE!r}, max_depth=3)
        def test_inline_text_holds(modelcheck_result):
            assert modelcheck_result.ok and modelcheck_result.stats.distinct_states == 1

        @pytest.mark.modelcheck("split.ha")
        def test_expected_to_hold():
            raise AssertionError("not reached: the spec is violated")

        @pytest.mark.modelcheck("split.ha", expect="VIOLATED singel")
        def test_unknown_name():
            pass
    ''')
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["expected HOLDS, got VIOLATED single:", "*Server?1? does promote*"])
    result.stdout.fnmatch_lines(["expected VIOLATED singel, but split.ha has no invariant or property 'singel' "
                                 "(did you mean 'single'?)"])
    assert "not reached" not in result.stdout.str()
