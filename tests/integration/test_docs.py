"""The README and docs/ run as written: every ```bash and ```python block, from a folder holding a copy
of docs/ (so docs/examples/... paths resolve), must succeed.

Blocks marked ```console or ```text are shown, not run; a block that contains "pip install" (the
set-up commands) is skipped. ``mschemo ...`` lines run in this process (fast); other shell lines
(ls, head) run in a shell.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from mschemo.interfaces.cli import run

REPO = Path(__file__).resolve().parents[2]
PAGES = ("README.md", "docs/getting-started.md", "docs/cli.md", "docs/drugs.md", "docs/disease.md", "docs/trials.md",
         "docs/personalise.md", "docs/web.md")
_BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)


def _blocks() -> list:
    params = []
    for page in PAGES:
        path = REPO / page
        if not path.is_file():
            continue
        for k, m in enumerate(_BLOCK.finditer(path.read_text(encoding="utf-8"))):
            lang, code = m.group(1), m.group(2)
            if "pip install" in code:
                continue
            params.append(pytest.param(lang, code, id=f"{page}-{k + 1}-{lang}"))
    return params


BLOCKS = _blocks()


def test_pages_have_runnable_blocks() -> None:
    if not (REPO / "README.md").is_file():
        pytest.skip("README.md is not beside the tests (installed package)")
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize(("lang", "code"), BLOCKS)
def test_block_runs(lang: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    if lang == "python":
        exec(compile(code, "<docs block>", "exec"), {"__name__": "__docs__"})
        return
    for line in code.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("mschemo "):
            code_ = run(shlex.split(line)[1:])
            out, err = capsys.readouterr()
            assert code_ == 0, f"{line}\n{err}"
            assert "Traceback" not in err
        else:
            subprocess.run(line, shell=True, check=True, cwd=tmp_path, capture_output=True)
