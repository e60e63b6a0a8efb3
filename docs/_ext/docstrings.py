"""A Griffe extension for the API pages (mkdocs.yml): mschemo's docstrings are plain text, written to
read well in a terminal; this turns their conventions into Markdown before mkdocstrings renders them.

- doctest examples (``>>>`` lines and their output) become ``pycon`` code blocks;
- Sphinx roles (:class:`~mschemo.dosing.DosingRules`) become code spans (`DosingRules`);
- a run of ``name: text`` lines, with indented continuation lines, becomes a bullet list
  (the arguments of a function, the fields of a class).

Not part of the package: mkdocs loads it from this path (docs/_ext/ is left out of the site).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const|ref):`(~?)([^`]+)`")
_ITEM = re.compile(r"^([A-Za-z_][\w.]*(?:, ?[A-Za-z_][\w.]*)*): (\S.*)$")
_PROMPT = re.compile(r"^(\s*)>>> ?")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def _doctests(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _PROMPT.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = len(m.group(1))
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i].lstrip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += ["```pycon", *block, "```", ""]
    return out


def _items(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_fence = not in_fence
        starts_paragraph = not out or not out[-1].strip() or out[-1].startswith("- ")
        if in_fence or not starts_paragraph or not _ITEM.match(line):
            out.append(line)
            i += 1
            continue
        # a run of "name: text" lines with indented continuations
        items: list[list[str]] = []
        j = i
        while j < len(lines) and lines[j].strip() and not lines[j].startswith("```"):
            m = _ITEM.match(lines[j])
            if m:
                items.append([f"`{m.group(1)}`: {m.group(2)}"])
            elif lines[j][:1].isspace() and items:
                items[-1].append(lines[j].strip())
            else:
                break
            j += 1
        if len(items) < 2 and not (items and len(items[0]) > 1):
            out.append(line)
            i += 1
            continue
        if out and out[-1].strip() and not out[-1].startswith("- "):
            out.append("")
        out += ["- " + " ".join(parts) for parts in items]
        i = j
        if i < len(lines) and lines[i].strip():
            out.append("")
    return out


def to_markdown(text: str) -> str:
    """A plain-text docstring as Markdown (the three conversions above)."""
    text = _ROLE.sub(_role, text)
    return "\n".join(_items(_doctests(text.splitlines())))


class PlainDocstrings(griffe.Extension):
    """Rewrites every docstring once, when its object is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ARG002
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
