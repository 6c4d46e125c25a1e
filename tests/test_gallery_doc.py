"""docs/gallery.md stays in step with specs/, without running modelcheck.

The gallery page pairs every broken/fixed spec with its trace and numbers.
These tests only read files: every gallery spec (specs/*_broken.ha,
specs/*_fixed.ha) must be on the page with its generated block, and every spec
the page mentions must exist. Whether the generated blocks are current is
checked by `python3 tools/gen_gallery.py --check`, which runs every spec (about
two minutes) and so is not part of the test suite.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "gallery.md"

# A spec path as the page writes it: specs/name.ha, or ../specs/name.ha in a link.
SPEC_PATH_RE = re.compile(r"(?<![\w/.-])(?:\.\./)?(specs/[A-Za-z0-9_.-]+\.ha)\b")
# A gallery spec named without its folder.
BARE_SPEC_RE = re.compile(r"(?<![\w/.-])(\w+_(?:broken|fixed)\.ha)\b")
# Markdown link targets ending in .ha: [text](target)
LINK_RE = re.compile(r"\]\(([^)\s]+\.ha)\)")


def load_generator():
    """tools/gen_gallery.py as a module (tools/ is not a package)."""
    if "gen_gallery" in sys.modules:
        return sys.modules["gen_gallery"]
    path = ROOT / "tools" / "gen_gallery.py"
    spec = importlib.util.spec_from_file_location("gen_gallery", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_gallery"] = module     # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), "docs/gallery.md is missing"
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def markers(doc):
    return load_generator().parse_markers(doc)


def gallery_specs() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pattern in ("*_broken.ha", "*_fixed.ha")
                  for p in (ROOT / "specs").glob(pattern))


def test_there_are_gallery_specs():
    assert gallery_specs(), "no specs/*_broken.ha or *_fixed.ha found"


@pytest.mark.parametrize("spec", gallery_specs())
def test_every_gallery_spec_is_on_the_page(doc, spec):
    assert spec in doc, (f"{spec} is not referenced from docs/gallery.md: add its case there "
                         "(see 'Keeping this page in sync' at the end of the page)")


@pytest.mark.parametrize("spec", gallery_specs())
def test_every_gallery_spec_has_a_generated_block(markers, spec):
    kinds = {mk.kind for mk in markers if mk.spec == spec}
    if spec.endswith("_broken.ha"):
        assert "trace" in kinds, f"docs/gallery.md has no trace marker for {spec}"
    else:
        assert "stats" in kinds, f"docs/gallery.md has no stats marker for {spec}"


def test_every_spec_the_page_mentions_exists(doc):
    mentioned = set(SPEC_PATH_RE.findall(doc))
    assert mentioned, "no spec paths found in docs/gallery.md"
    missing = sorted(p for p in mentioned if not (ROOT / p).is_file())
    assert not missing, f"docs/gallery.md mentions specs that do not exist: {missing}"
    bare = set(BARE_SPEC_RE.findall(doc))
    missing = sorted(n for n in bare if not (ROOT / "specs" / n).is_file())
    assert not missing, f"docs/gallery.md names specs that do not exist: {missing}"


def test_spec_links_resolve_from_docs(doc):
    targets = LINK_RE.findall(doc)
    assert targets, "docs/gallery.md links to no spec"
    broken = sorted(t for t in targets if not (DOC.parent / t).resolve().is_file())
    assert not broken, f"links in docs/gallery.md that do not resolve from docs/: {broken}"


def test_markers_are_well_formed_and_name_existing_specs(markers):
    # parse_markers raises on an unclosed or stray marker comment.
    assert markers
    missing = sorted({mk.spec for mk in markers if not (ROOT / mk.spec).is_file()})
    assert not missing, f"markers in docs/gallery.md name specs that do not exist: {missing}"


def test_generated_blocks_have_been_filled_in(markers, doc):
    empty = [f"{mk.kind}: {mk.spec}" for mk in markers if not doc[mk.body_start:mk.body_end].strip()]
    assert not empty, f"run python3 tools/gen_gallery.py: empty generated blocks {empty}"


def test_broken_traces_show_a_counterexample_and_fixed_stats_a_pass(markers, doc):
    """A cheap guard on the generated text (its freshness needs --check)."""
    for mk in markers:
        body = doc[mk.body_start:mk.body_end]
        if mk.kind == "trace" and mk.spec.endswith("_broken.ha"):
            assert "Counterexample:" in body and "Result: VIOLATED" in body, mk.spec
        if mk.kind in ("stats", "verdict") and mk.spec.endswith("_fixed.ha"):
            assert "HOLDS" in body, mk.spec
        if mk.kind in ("stats", "verdict") and mk.spec.endswith("_broken.ha"):
            assert "VIOLATED" in body, mk.spec


def test_marker_parser_rejects_unclosed_markers():
    gen = load_generator()
    with pytest.raises(gen.GalleryError):
        gen.parse_markers("<!-- trace: specs/a.ha -->\n```text\n```\n")
    with pytest.raises(gen.GalleryError):
        gen.parse_markers("<!-- stats: specs/a.ha --> x <!-- stats: specs/b.ha --> y <!-- /stats -->")
    ok = gen.parse_markers("a <!-- verdict: specs/a.ha --stuff x -->V<!-- /verdict --> b")
    assert [(m.kind, m.spec, m.extra) for m in ok] == [("verdict", "specs/a.ha", ("--stuff", "x"))]
