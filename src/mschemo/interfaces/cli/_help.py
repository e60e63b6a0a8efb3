"""Help pages without type placeholders: the option tables show each option's metavar (NAME,
FILE.csv, INTEGER) and nothing for a flag, instead of Typer's ``<bool>`` and ``<str>``."""

from __future__ import annotations

from typing import Any

__all__ = ["no_type_placeholders"]

#: the mark on Typer's option class that its help is already changed (an attribute Typer does not declare)
_MARK = "_mschemo_help"


def no_type_placeholders() -> None:
    """Make Typer's rich help show a flag without a type and an argument by its metavar alone."""
    from typer import core

    if getattr(core.TyperOption, _MARK, False):
        return
    option_type = core.TyperOption.display_type_rich

    def option(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        return option_type(self, ctx)

    def argument(self: Any, ctx: Any) -> str | None:
        return None      # the argument's column already shows its metavar (SPEC, NAME, PATIENT.csv|PATIENT.json)

    core.TyperOption.display_type_rich = option
    core.TyperArgument.display_type_rich = argument
    setattr(core.TyperOption, _MARK, True)
