"""Fuzzing the front end and the explorer: no input may produce a traceback.

Texts come from the grammar itself (hypothesis' `from_lark`), so many get far past
the parser. Whatever the text, the pipeline must either succeed or raise a
`SpecError` (a diagnostic with exit code 2); any other exception is a bug.
"""
from __future__ import annotations

import lark
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.model import build
from modelcheck.lang.parser import _grammar_text, parse

# Ignored whitespace is not generated, so names carry their own spaces.
_GRAMMAR = lark.Lark(_grammar_text(), parser="lalr", lexer="contextual", maybe_placeholders=True)
_TEXTS = from_lark(_GRAMMAR, explicit={
    "NAME": st.sampled_from([" S ", " x ", " y ", " N ", " m ", " v ", " Ping "]),
    "INT": st.sampled_from([" 0 ", " 1 ", " 2 ", " 3 "]),
    "STRING": st.just(' "s" '),
    "COMMENT": st.just(" "),
})


def _pipeline(text: str) -> None:
    source = Source("fuzz.ha", text)
    try:
        model = build(check(parse(source)), source)
    except SpecError:
        return
    explore(model, Options(max_states=200, timeout=2))


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "300")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(_TEXTS)
def test_grammar_generated_texts_never_crash(text):
    _pipeline(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="spec role var action on {}()[]<>:;=!+-*/%.,|&?#\"' \nabxyzS0123", max_size=80))
def test_arbitrary_text_never_crashes(text):
    _pipeline(text)
