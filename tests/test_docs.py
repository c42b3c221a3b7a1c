"""The documentation stands on its own: every relative link in README.md and docs/ resolves inside
the repository, and nothing sends the reader to a folder outside it (the design is docs/design.md)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_resolve_inside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path = (doc.parent / target).resolve()
        if not path.exists() or ROOT not in path.parents:
            broken.append(target)
    assert broken == []
    assert not re.search(r"\.\./shared|shared folder", text)


def test_the_design_is_in_the_repository_and_linked_from_the_readme():
    assert (ROOT / "docs" / "design.md").read_text(encoding="utf-8").startswith("# examsys — design")
    assert "](docs/design.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_package_discovery_includes_the_data_folders():
    """pip warned that examsys.demo.data was absent from `packages`; both data folders ship."""
    from setuptools.config.setupcfg import read_configuration

    options = read_configuration(str(ROOT / "setup.cfg"))["options"]
    assert {"examsys.demo.data", "examsys.accounts.data"} <= set(options["packages"])
    assert not [p for p in options["packages"] if "__pycache__" in p]
    assert "accounts/data/*.txt" in options["package_data"]["examsys"]
