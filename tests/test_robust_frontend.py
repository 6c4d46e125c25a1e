"""The front end never crashes: hostile or odd input gives a positioned diagnostic.

Huge integers, unknown names in odd places, expressions and statements nested or
chained far past anything real, a byte-order mark, FIFOs and devices as the spec
path, reserved words as names, a missing '}'. Each case drives the command line
and checks the exit code, the `file:line:col` of the message, and that no internal
error (exit 70, a traceback) leaks out.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck.lang import syntax as S
from modelcheck.cli import cli

ROOT = Path(__file__).resolve().parent.parent

BASE = """spec t
role R {
  var x: 0..3 = 0
  action a when x < 3 { x += 1 }
}
"""


def with_item(item: str) -> str:
    """BASE with one more line inside the role."""
    return BASE[:-2] + item + "\n}\n"


def run(tmp_path: Path, text: str | bytes, *args: str, name: str = "spec.ha"):
    """Run `modelcheck ARGS SPEC` in process; return (exit code, stdout, stderr)."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    command = list(args or ("verify",))
    result = CliRunner().invoke(cli, command[:1] + [str(path)] + command[1:])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def error_at(tmp_path: Path, text: str, line: int, col: int, *args: str, code: int = 2) -> str:
    """The diagnostic output, after checking its exit code and that it points at line:col."""
    rc, out, err = run(tmp_path, text, *args)
    assert rc == code, (rc, out, err)
    assert f"spec.ha:{line}:{col}: error[E" in err, err  # error[E001]: the code, as rustc shows it
    assert "internal error" not in err and "Traceback" not in err
    return err


def cli_subprocess(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelcheck", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# ---- 1. integers past every sane bound ---------------------------------------------------

def test_literal_past_python_digit_limit(tmp_path):
    err = error_at(tmp_path, BASE + "const N = " + "9" * 4301 + "\n", 6, 11)
    assert "error[E206]: the number" in err  # the code as rustc shows it; the message says it in words
    assert "too large" in err and "finite model" in err


def test_huge_const_product_used_in_expression(tmp_path):
    # 3,000 digits passes int(), but N * N would reach generated code as 6,000 digits
    text = BASE + "const N = " + "9" * 3000 + "\nconst K = N * N\ninvariant i: R.x < K\n"
    assert "too large" in error_at(tmp_path, text, 6, 11)


def test_const_expression_out_of_range_at_any_step(tmp_path):
    text = BASE + "const N = 3037000500\nconst K = N * N - N * N\ninvariant i: R.x < K + 5\n"
    err = error_at(tmp_path, text, 7, 11)
    assert "out of range" in err


def test_largest_allowed_const_works(tmp_path):
    text = BASE + f"const N = {S.MAX_INT}\nconst M = -N\ninvariant i: R.x < N and R.x > M\n"
    rc, out, err = run(tmp_path, text)
    assert rc == 0, err
    error_at(tmp_path, BASE + f"const N = {S.MAX_INT + 1}\n", 6, 11)


def test_const_override_out_of_range_says_it_came_from_the_command_line(tmp_path):
    text = BASE + "const N = 3\ninvariant i: R.x < N + 2\n"
    err = error_at(tmp_path, text, 6, 7, "verify", "--const", "N=" + "9" * 900)
    assert "--const N=" in err and "out of range" in err
    assert "unknown name" not in err  # no follow-on error where N is used
    rc, _, _ = run(tmp_path, text, "verify", "--const", f"N={S.MAX_INT}")
    assert rc == 0


def test_prove_refuses_a_range_too_large_to_enumerate(tmp_path):
    text = f"spec t\nrole R {{\n  var x: 0..{S.MAX_INT} = 0\n  action a when x < 3 {{ x += 1 }}\n}}\n" \
           "invariant i: R.x < 5\n"
    rc, out, err = run(tmp_path, text, "prove")
    assert rc == 3 and "too many to encode" in err, (rc, out, err)


# ---- 2. unknown names in every position ----------------------------------------------------

@pytest.mark.parametrize("expr, col", [
    ("a[1] == 0", 14),
    ("a.x == 0", 14),
    ("a[1].x == 0", 14),
    ("a[1:2] == []", 14),
    ("len(a[1]) == 0", 18),
    ("forall s in a[1]: s.x == 0", 26),
    ("R[a] == R[0]", 16),
    ("f(1) == 0", 14),
])
def test_unknown_name_in_any_position(tmp_path, expr, col):
    err = error_at(tmp_path, BASE + f"invariant i: {expr}\n", 6, col)
    assert "unknown" in err


def test_unknown_name_in_statements(tmp_path):
    text = ("spec t\nmessage M(v: 0..3)\nrole R {\n  var x: 0..3 = 0\n"
            "  action a { b[1] = 2 }\n  on Q(v) { x = v }\n  on M(v) { send Z(v) to q[0] }\n}\n")
    err = error_at(tmp_path, text, 5, 14)
    assert "unknown name 'b'" in err and "unknown message kind 'Q'" in err and "unknown message kind 'Z'" in err


# ---- 3. deep and long expressions and statements -----------------------------------------

def _nested(form: str, k: int) -> str:
    """An invariant (or an action) nesting `form` k times."""
    forms = {
        "not": "invariant i: " + "not " * k + "(R.x < 5)\n",
        "neg": "invariant i: R.x > " + "-" * k + "5\n",
        "set": "invariant i: len(" + "{" * k + "1" + "}" * k + ") == 1\n",
        "map": "invariant i: len(" + "{1: " * k + "1" + "}" * k + ") == 1\n",
        "ite": "invariant i: " + "(if true then " * k + "R.x < 5" + " else false)" * k + "\n",
        "implies": "invariant i: " + "R.x < 5 => " * k + "true\n",
        "sum": "invariant i: R.x < 5 + " + " + ".join(["1"] * k) + "\n",
        "forall": "invariant i: " + "".join(f"forall y{j} in {{1}}: " for j in range(k)) + "R.x < 5\n",
    }
    return BASE + forms[form]


def _depth(form: str, k: int) -> int:
    from modelcheck.lang.parser import _ToAst, _parser
    spec = _ToAst().transform(_parser().parse(_nested(form, k)))
    best, stack = 0, [(spec, 0)]
    while stack:
        x, d = stack.pop()
        d += S._counts(x)
        best = max(best, d)
        stack.extend((c, d) for c in S._children(x))
    return best


def _at_limit(form: str) -> int:
    """The largest k whose nesting is exactly at the limit."""
    k = 1
    while _depth(form, k + 1) <= S.MAX_NESTING:
        k += 1
    assert _depth(form, k) == S.MAX_NESTING
    return k


@pytest.mark.parametrize("form", ["not", "neg", "set", "map", "ite", "implies", "sum", "forall"])
def test_nesting_at_the_limit_works_and_past_it_is_a_diagnostic(tmp_path, form):
    k = _at_limit(form)
    rc, out, err = run(tmp_path, _nested(form, k))
    assert rc in (0, 1) and "internal error" not in err, err
    rc, out, err = run(tmp_path, _nested(form, k + 1))
    assert rc == 2, (out, err)
    assert re.search(r"spec\.ha:6:\d+: error\[E004\]: \w+ nested \d+ levels deep here; modelcheck allows at most 64", err), err
    assert "hint:" in err


@pytest.mark.parametrize("command", [["verify"], ["verify", "--no-symmetry"], ["check"], ["prove"],
                                     ["simulate", "--runs", "5"], ["graph"]])
def test_every_engine_handles_the_deepest_allowed_spec(tmp_path, command):
    # statements nested to the limit, then an expression at the limit: both kinds at once
    k = 62
    body = " if x < 3 {" * k + " x += 1" + " }" * k
    text = with_item(f"  action b when x < 2 {{{body} }}") + "invariant i: " + "not " * 61 + "(R.x < 4)\n"
    rc, out, err = run(tmp_path, text, *command)
    assert rc in (0, 1), (rc, out, err)
    assert "internal error" not in err
    violated = BASE + "invariant i: " + "not " * 60 + "(R.x < 2)\n"
    rc, out, err = run(tmp_path, violated, *command)
    assert rc in (0, 1), (rc, out, err)


def test_statements_nested_past_the_limit(tmp_path):
    k = 300
    body = "".join(f" for y{j} in {{1}} {{" for j in range(k)) + " x += 1" + " }" * k
    text = with_item(f"  action b {{{body} }}")
    # the deepest spot: the `1` in the innermost loop's domain (as deep as `x += 1`, and first)
    err = error_at(tmp_path, text, 5, 2 + text.splitlines()[4].index("{1} { x += 1"))
    assert "statements nested" in err


def test_types_nested_past_the_limit(tmp_path):
    text = with_item("  var z: " + "set<" * 70 + "bool" + ">" * 70 + " = {}")
    assert "types nested" in error_at(tmp_path, text, 5, 1 + text.splitlines()[4].index("bool"))


def test_300_nested_parentheses_are_not_deep(tmp_path):
    rc, out, err = run(tmp_path, BASE + "invariant i: " + "(" * 300 + "R.x < 5" + ")" * 300 + "\n")
    assert rc == 0, err


@pytest.mark.parametrize("op, verdict", [("and", 0), ("or", 0)])
def test_2000_term_chains_verify_like_the_short_form(tmp_path, op, verdict):
    short = BASE + f"invariant i: R.x < 4 {op} R.x < 9\n"
    long = BASE + "invariant i: " + f" {op} ".join(["R.x < 4", "R.x < 9"] * 1000) + "\n"
    for text in (short, long):
        rc, out, err = run(tmp_path, text)
        assert rc == verdict, err
        assert "4 distinct states" in out
    # and a violated chain: the same counterexample, found at the same state
    bad_short = BASE + "invariant i: R.x < 2 and R.x < 9\n"
    chain = [f"R.x < {2 if i == 1500 else 9}" for i in range(2000)]
    bad_long = BASE + "invariant i: " + " and ".join(chain) + "\n"
    rc1, out1, _ = run(tmp_path, bad_short)
    rc2, out2, _ = run(tmp_path, bad_long)
    assert rc1 == rc2 == 1
    assert out1.split("Result:")[1] .split("·")[:4] == out2.split("Result:")[1].split("·")[:4]


def test_long_chains_keep_left_to_right_short_circuits(tmp_path):
    # every term after the first false one would raise (division by zero): none may run
    guard = " and ".join(["R.x > 5"] + ["1 / (R.x - R.x) == 0"] * 2000)
    rc, out, err = run(tmp_path, BASE + f"invariant i: not ({guard})\n")
    assert rc == 0, (out, err)
    guard = " or ".join(["R.x < 5"] + ["1 / (R.x - R.x) == 0"] * 2000)
    rc, out, err = run(tmp_path, BASE + f"invariant i: {guard}\n")
    assert rc == 0, (out, err)


def test_balanced_chain_is_shallow_and_keeps_order():
    from modelcheck.lang.diagnostics import Source
    from modelcheck.lang.parser import parse
    spec = parse(Source("x.ha", BASE + "invariant i: " + " or ".join(f"R.x == {i}" for i in range(2000)) + "\n"))
    expr = spec.invariants[0].expr
    terms = S._chain_terms(expr)
    assert [t.right.value for t in terms] == list(range(2000))
    assert _tree_depth(expr) <= 20


def _tree_depth(e) -> int:
    best, stack = 0, [(e, 1)]
    while stack:
        x, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in S._children(x) if isinstance(c, S.Expr))
    return best


def test_long_statement_sequences(tmp_path):
    lets = "".join(f" let a{i + 1} = a{i} + 1\n" for i in range(3000))
    text = with_item(f"  action b when x == 0 {{ let a0 = x\n{lets} x = a3000 - 2999 }}")
    rc, out, err = run(tmp_path, text)
    assert rc == 0, err
    rc, out, err = run(tmp_path, BASE + "".join(f"invariant i{i}: R.x < 5\n" for i in range(2000)), "check")
    assert rc == 0, err


# ---- 4. a byte-order mark -------------------------------------------------------------------

def test_byte_order_mark_is_skipped_and_columns_stay_right(tmp_path):
    rc, out, err = run(tmp_path, b"\xef\xbb\xbf" + BASE.encode())
    assert rc == 0, err
    err = error_at(tmp_path, "\ufeff" + BASE + "invariant i: nope\n", 6, 14)
    assert "unknown name 'nope'" in err
    err = error_at(tmp_path, "\ufeffspec t $\n", 1, 8)
    assert "unexpected character '$'" in err


# ---- 5. what the spec path may be -------------------------------------------------------------

def test_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "spec.ha"
    os.mkfifo(fifo)
    p = cli_subprocess("verify", str(fifo), timeout=60)
    assert p.returncode == 2 and "not a regular file" in p.stderr and "hint:" in p.stderr, p.stderr


def test_device_and_directory_are_refused(tmp_path):
    if os.path.exists("/dev/zero"):
        p = cli_subprocess("verify", "/dev/zero", timeout=60)
        assert p.returncode == 2 and "not a regular file" in p.stderr, p.stderr
    # a folder is a list of specs for verify (one line each): an empty one is refused
    result = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and "holds no .ha file" in result.stderr
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_too_large_and_not_utf8(tmp_path):
    big = tmp_path / "big.ha"
    with open(big, "wb") as f:
        f.write(BASE.encode())
        f.write(b" " * (10 * 1024 * 1024))
    result = CliRunner().invoke(cli, ["verify", str(big)])
    assert result.exit_code == 2 and "too large" in result.stderr
    rc, out, err = run(tmp_path, b"spec t\n\xff\n")
    assert rc == 2 and "not UTF-8" in err


# ---- 6. misleading errors ----------------------------------------------------------------------

@pytest.mark.parametrize("text, line, col, what", [
    ("spec t\nrole R { var count: 0..3 = 0\n  action a when count < 2 { count += 1 } }\n", 2, 14, "a variable"),
    ("spec t\nrole R { var count: 0..3 = 0 }\n", 2, 14, "a variable"),
    ("spec t\nconst in = 3\nrole R { var x: 0..in = 0 }\n", 2, 7, "a const"),
    ("spec t\nghost var self: bool = false\n", 2, 11, "a variable"),
    ("spec t\nrole R { var x: 0..3 = 0\n  action a { let any = 1\n x = any } }\n", 3, 18, "a local"),
    ("spec t\nrole R { var x: 0..3 = 0\n  action a(count: 0..2) { x = count } }\n", 3, 12, "parameter"),
    ("spec t\nmessage M(has: 0..2)\nrole R { var x: 0..3 = 0 }\n", 2, 11, "field"),
    ("spec t\nmessage M(v: 0..2)\nrole R { var x: 0..3 = 0\n  on M(count) { x = count } }\n", 4, 8,
     "a handler parameter"),
    ("spec t\nrole where { var x: 0..3 = 0 }\n", 2, 6, "a role"),
    ("spec t\nenum E { a, then, c }\n", 2, 13, "an enum member"),
    ("spec t\nrole R { var x: 0..3 = 0\n  action a { for not in {1} { x = 1 } } }\n", 3, 18, "a loop variable"),
    ("spec t\nrole R { var x: 0..3 = 0 }\ninvariant i: forall exists in R: true\n", 3, 21, "a bound variable"),
])
def test_reserved_word_as_a_name_is_reported_at_the_declaration(tmp_path, text, line, col, what):
    rc, out, err = run(tmp_path, text)
    assert rc == 2
    assert f"spec.ha:{line}:{col}: error[E003]:" in err and "is a reserved keyword" in err and what in err, err
    assert "expected '('" not in err


def test_reserved_count_used_undeclared_gets_a_hint(tmp_path):
    err = error_at(tmp_path, "spec t\nrole R { var x: 0..3 = 0\n  action a when count < 2 { x = 1 } }\n", 3, 23)
    assert "'count' is a reserved keyword" in err


@pytest.mark.parametrize("text, line, col, keyword", [
    ("spec t\nmessage Foo()\nrole R { var x: 0..3 = 0\n  action a when x < 3 { x += 1\n"
     "  on Foo() { x = 1 } }\n", 4, 23, "'on' at line 5:3"),
    ("spec t\nrole R { var x: 0..3 = 0\n  action a { x = 1 }\ninvariant i: R.x < 3\n", 2, 8, "'invariant' at line 4:1"),
    ("spec t\nrole R { var x: 0..3 = 0\n  action a { if x < 1 { x = 1 }\n  action b { x = 2 } }\n", 3, 12,
     "'action' at line 4:3"),
])
def test_missing_brace_points_at_the_unclosed_brace(tmp_path, text, line, col, keyword):
    err = error_at(tmp_path, text, line, col)
    assert "this '{' is never closed" in err and keyword in err, err
    assert "cannot be used as a name" not in err


def test_misplaced_keyword_with_balanced_braces_is_a_plain_syntax_error(tmp_path):
    # (`var y: 0..1 = 0` is a statement now: a mutable local)
    err = error_at(tmp_path, "spec t\nrole R { var x: 0..3 = 0\n  action a { persistent var y: 0..1 = 0 } }\n", 3, 25)
    assert "never closed" not in err


def test_long_source_lines_are_clipped_around_the_caret(tmp_path):
    text = BASE + "invariant i: " + "R.x < 5 and " * 5000 + "nope\n"
    err = error_at(tmp_path, text, 6, 14 + 12 * 5000)
    assert "unknown name 'nope'" in err
    assert max(len(line) for line in err.splitlines()) < 250
    caret = next(line for line in err.splitlines() if "^" in line)
    source = next(line for line in err.splitlines() if line.strip().startswith("6 |"))
    assert source[caret.index("^"):].startswith("nope")
