"""Regression pins for specs written in the style of DESIGN.md.

These counts were not derived by hand (tests/models/ holds the hand-counted
ones); they pin today's behaviour so that an unintended change in semantics
shows up as a changed count.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, verify_json

CASES = [
    ("tests/regression/design_style.ha", "holds", 5812),
]


@pytest.mark.parametrize("spec, verdict, states", CASES)
def test_pinned(spec, verdict, states):
    code, doc = verify_json(ROOT / spec)
    assert doc["verdict"] == verdict
    assert doc["stats"]["distinct_states"] == states
