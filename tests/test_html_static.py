"""The HTML report's stylesheet and script: package data, inlined into every page.

They live in modelcheck/report/static/ so they can be edited as CSS and
JavaScript (diagram.css/.js for the sequence diagram, which `explore` shares;
report.css/.js for the rest of the page); these tests pin the two things that can silently break when they
move or a new file joins them: the page must still carry them whole (it loads
nothing), and a non-editable install must still ship them.
"""
from __future__ import annotations

from conftest import ROOT
from test_html import PINGPONG, run

from modelcheck.report.html import render_html

STATIC = ROOT / "modelcheck" / "report" / "static"


def test_page_inlines_the_static_files_whole():
    model, result, source = run(PINGPONG)
    page = render_html(result, model, source)
    css = "".join((STATIC / name).read_text("utf-8") for name in ("diagram.css", "report.css"))
    js = "".join((STATIC / name).read_text("utf-8") for name in ("diagram.js", "report.js"))
    assert f"<style>\n{css}</style>" in page
    assert f"<script>\n{js}</script>" in page


def test_packaging_ships_every_static_file():
    """Every file in static/ matches a package-data pattern of a listed package,
    so `pip install .` (not only an editable install) has it."""
    import fnmatch

    import pytest
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert "modelcheck.report.static" in conf["packages"]
    patterns = conf["package-data"]["modelcheck.report.static"]
    files = [p.name for p in STATIC.iterdir() if p.is_file()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pat) for pat in patterns), name
