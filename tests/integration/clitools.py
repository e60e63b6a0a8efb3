"""Helpers for the CLI tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import mschemo

#: the folder that holds the mschemo package this test session imported (src/ or site-packages)
PACKAGE_ROOT = Path(mschemo.__file__).resolve().parents[1]


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def subprocess_env() -> dict[str, str]:
    """The environment of a subprocess that imports the same mschemo as this test session."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("COLUMNS", "100")
    return env


def run_process(*args: object, cwd: Path | None = None, timeout: float = 300) -> Outcome:
    """``python -m mschemo ARGS`` in a real subprocess."""
    proc = subprocess.run([sys.executable, "-m", "mschemo", *[str(a) for a in args]], capture_output=True, text=True,
                          env=subprocess_env(), cwd=cwd, timeout=timeout)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


#: the longest line a refusal prints: 'error: ' and a message of at most 300 characters
MAX_ERROR_LINE = len("error: ") + 300


def assert_refused(code: int, stdout: str, stderr: str, tmp_path: Path, inputs: Iterable[str],
                   outputs: Iterable[Path] = ()) -> str:
    """The project's rule for bad input: exit code 2, one line 'error: ... .' of at most MAX_ERROR_LINE
    characters on stderr, no traceback, none of ``outputs`` written and nothing under ``tmp_path`` but
    the ``inputs`` (file names) left. Returns the message."""
    assert code == 2, (code, stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-2000:]
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) == 1, stderr[-2000:]
    msg = lines[0]
    assert msg.startswith("error: ") and msg.endswith("."), msg
    assert len(msg) > len("error: ") + 10, msg
    assert len(msg) <= MAX_ERROR_LINE, f"{len(msg)} characters: {msg}"
    for path in outputs:
        assert not path.exists(), f"{path} was written"
    kept = set(inputs)
    leftovers = sorted(p.name for p in tmp_path.rglob("*") if p.name not in kept)
    assert leftovers == [], f"files left behind: {leftovers}"
    return msg


def flat(text: str) -> str:
    """Screen text with Rich's line wrapping undone."""
    return " ".join(text.split())


class HtmlTags(HTMLParser):
    """The start tags of an HTML page and the src/href values it refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.srcs += [v for k, v in attrs if k in ("src", "href")]


# -- small input files ------------------------------------------------------------------------
EVENTS_CSV = """ID,TIME,EVID,AMT,CMT,DUR,II,ADDL,AMT_UNIT
1,0,1,12,1,0.5,2184,1,mg/m2
2,0,1,24,1,1,2184,1,mg
2,24,0,0,.,.,.,.,.
"""

PATIENTS_CSV = """id,height_cm,weight_kg,sex
1,165,60,F
2,180,85,M
"""

SPEC_TOML = """name = "small cohort"
[covariates.height_cm]
distribution = "normal"
mean = 170
sd = 8
[covariates.weight_kg]
distribution = "lognormal"
median = 70
cv = 0.2
"""
