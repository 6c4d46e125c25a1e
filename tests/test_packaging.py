"""`pip install .` ships every sub-package: pyproject.toml lists packages by name, so
a new one that is not listed works in an editable install (and in every other test)
but is missing from a real one."""
from __future__ import annotations

import re

from conftest import ROOT


def test_every_subpackage_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(modelcheck(?:\.[a-z_]+)*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "modelcheck").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml packages: {sorted(found - listed)}"
