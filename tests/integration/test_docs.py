"""The README and every page of docs/ run as written, from a folder holding a copy of docs/ (so
docs/examples/... paths resolve).

- ```python blocks: the blocks of one page run in order in one fresh Python process, sharing one
  namespace, as a reader pasting them one after the other would run them.
- ```bash and ```console blocks whose first command starts with ``mschemo ``: each ``mschemo ...``
  line runs through the CLI in this process (fast: the compiled kernel stays loaded), in a fresh
  folder; the block's other lines (ls, head, grep) run in a shell there. In a block with ``$ ``
  prompts, the prompted lines are the commands and the rest is output.
- Other blocks (pip install, python scripts, curl, toml, text) are shown, not run.
- A block that must not run has ``<!-- not run: REASON -->`` on the line just above its fence (a
  million patients, a Dask scheduler's address, a GPU, a server that waits); it is reported as
  skipped with its reason. The marker is documented on the docs' home page (docs/index.md).

Also: every name of ``mschemo.__all__`` is on a page of the API reference (docs/api/).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from clitools import subprocess_env

import mschemo
from mschemo.interfaces.cli import run

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)]
SHELL = ("bash", "console")
_FENCE = re.compile(r"^```\s*([\w-]*)")
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    page: str          # relative to the repository root
    line: int          # line of the opening fence (1-based)
    lang: str
    code: str
    not_run: str       # the marker's reason, "" when the block runs

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def commands(self) -> list[str]:
        """The command lines of a shell block (prompted lines if any line has a prompt)."""
        lines = [ln.rstrip() for ln in self.code.splitlines()]
        if any(ln.startswith("$ ") for ln in lines):
            lines = [ln[2:] for ln in lines if ln.startswith("$ ")]
        return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]

    @property
    def runs_commands(self) -> bool:
        cmds = self.commands()
        return self.lang in SHELL and bool(cmds) and cmds[0].startswith("mschemo ")


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        before = next((lines[k].strip() for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        marker = _NOT_RUN.match(before)
        out.append(Block(str(path.relative_to(REPO)), start + 1, m.group(1), "\n".join(body) + "\n",
                         marker.group(1) if marker else ""))
        i += 1
    return out


BLOCKS = [b for page in PAGES if page.is_file() for b in _blocks(page)]
RUNNABLE = [b for b in BLOCKS if b.lang == "python" or b.runs_commands]
PYTHON_PAGES = sorted({b.page for b in RUNNABLE if b.lang == "python" and not b.not_run})
SHELL_BLOCKS = [b for b in RUNNABLE if b.lang in SHELL and not b.not_run]
NOT_RUN = [b for b in BLOCKS if b.not_run]

pytestmark = pytest.mark.skipif(not (REPO / "README.md").is_file() or not DOCS.is_dir(),
                                reason="README.md and docs/ are not beside the tests (installed package)")

# runs the python blocks of one page in order, in one namespace; names the failing block
_RUNNER = """
import json, sys, traceback
ns = {"__name__": "__main__"}
for block in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        exec(compile(block["code"], block["id"], "exec"), ns)
    except BaseException:
        traceback.print_exc()
        sys.exit(f"the python block at {block['id']} failed")
"""


def _folder_with_docs(tmp_path: Path) -> Path:
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("_ext", "__pycache__"))
    return tmp_path


def test_pages_have_runnable_blocks() -> None:
    assert len(PYTHON_PAGES) >= 10
    assert len(SHELL_BLOCKS) >= 20


def test_not_run_markers_sit_on_blocks() -> None:
    """Each marker has a reason and stands right above a code block, so none is left behind by an edit."""
    fenced = {(b.page, b.line) for b in BLOCKS}
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for k, line in enumerate(lines):
            if not line.strip().startswith("<!-- not run"):
                continue
            where = f"{page.relative_to(REPO)}:{k + 1}"
            m = _NOT_RUN.match(line.strip())
            assert m and m.group(1), f"{where}: write the marker as <!-- not run: REASON -->"
            nxt = next(j for j in range(k + 1, len(lines)) if lines[j].strip())
            assert (str(page.relative_to(REPO)), nxt + 1) in fenced, f"{where}: the marker is not right above a code block"


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_blocks_of_page(page: str, tmp_path: Path) -> None:
    blocks = [{"id": b.id, "code": b.code} for b in RUNNABLE if b.page == page and b.lang == "python" and not b.not_run]
    folder = _folder_with_docs(tmp_path)
    (folder / "_blocks.json").write_text(json.dumps(blocks), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _RUNNER, "_blocks.json"], cwd=folder, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-6000:]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.id)
def test_shell_block(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    folder = _folder_with_docs(tmp_path)
    monkeypatch.chdir(folder)
    for line in block.commands():
        if line.startswith("mschemo "):
            capsys.readouterr()
            code = run(shlex.split(line, comments=True)[1:])
            _, err = capsys.readouterr()
            assert code == 0, f"{block.id}: {line}\n{err}"
            assert "Traceback" not in err
        else:
            proc = subprocess.run(line, shell=True, cwd=folder, capture_output=True, text=True)
            assert proc.returncode == 0, f"{block.id}: {line}\n{proc.stderr}"


@pytest.mark.parametrize("block", NOT_RUN, ids=lambda b: b.id)
def test_marked_block(block: Block) -> None:
    pytest.skip(f"not run: {block.not_run}")


def test_public_api_is_on_the_reference_pages() -> None:
    """Every name of mschemo.__all__ has an entry (::: mschemo.NAME or its full path, a member of a
    subpackage's entry, or for the constants a mention)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.md"))
    entries = set(re.findall(r"^::: mschemo\.(?:[\w.]+\.)?(\w+)$", text, re.M)) | set(re.findall(r"^\s+- (\w+)$", text, re.M))
    mentioned = set(re.findall(r"`mschemo\.(\w+)`", text))
    missing = [n for n in mschemo.__all__ if n not in entries and n not in mentioned]
    assert not missing, f"not on any page of docs/api/: {missing}"
