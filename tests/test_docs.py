"""The documentation runs: every ```python block of docs/*.md and the README example is executed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


def run_blocks(blocks: list[str], name: str) -> dict:
    namespace: dict = {"__name__": f"docs_{name}"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{name}[block {i}]", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_docs_page_runs(page: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page)
    assert blocks, f"{page.name} has no python snippets"
    run_blocks(blocks, page.stem)


def test_readme_example_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(ROOT / "README.md")
    assert blocks, "README.md has no python example"
    run_blocks(blocks, "README")
