"""``mschemo drugs``: the built-in models, their structure and, with --sources, where every number comes from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c


def drugs_command(
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="Show only this model.")] = None,
    sources: Annotated[bool, typer.Option("--sources", help="Also list every parameter with its value, unit, "
                                                            "variability and source or assumption.")] = False,
) -> None:
    """List the built-in drug models (use the names with 'mschemo simulate --drug NAME').

    Parameter files live in src/mschemo/params/*.toml; each value carries its source
    (author, year, journal, table) or the reason for an assumption.
    """
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    from ..examples import EXAMPLES, load_example
    from ..models import available_models, load_model
    from ..params import load_parameters, parameter_files

    names = available_models()
    if name is not None:
        key = name.strip().lower().replace("_", "-")
        if key not in names:
            raise OptionError(f"there is no built-in drug named '{name}'; use one of {', '.join(names)}.")
        names = [key]

    con = c.console()
    models = {nm: load_model(nm) for nm in names}
    shows_dose = False
    con.print(f"[bold]Built-in drug models[/bold] ({len(models)}); use a name with 'mschemo simulate --drug NAME'")
    for nm, model in models.items():
        default = _default_regimen(model)
        examples = [f"{k} ('mschemo simulate --example {k}'): {v}" for k, v in EXAMPLES.items()
                    if load_example(k, n=1).model.name == model.name]
        shows_dose = shows_dose or bool(default) or bool(examples)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        grid.add_row("structure", escape(model.describe()))
        grid.add_row("outputs", ", ".join(model.outputs))
        grid.add_row("default regimen", escape(default) if default else "none (give --regimen or --events)")
        grid.add_row("examples", escape("; ".join(examples)) if examples else "-")
        grid.add_row("parameters", escape(_short_path(model.parameter_set.path)))
        con.print()
        con.print(f"[bold]{escape(nm)}[/bold]: {escape(model.title)}")
        con.print(Padding(grid, (0, 0, 0, 2)))

    if sources:
        for nm, model in models.items():
            _print_sources(con, f"{nm}: parameters ({_short_path(model.parameter_set.path)})", model.parameter_set)
        if name is None:
            others = [p for p in parameter_files() if p.stem.replace("_", "-") not in models]
            for path in others:
                ps = load_parameters(path)
                _print_sources(con, f"{ps.name}: parameters ({_short_path(path)})", ps)
    else:
        con.print()
        con.print("Add --sources for every parameter's value, unit and source; the files are "
                  "src/mschemo/params/*.toml.")
    if shows_dose:
        con.print(f"[bold]{c.DISCLAIMER}[/bold]")


def _default_regimen(model: Any) -> str:
    spec = (model.parameter_set.raw.get("model") or {}) if model.parameter_set is not None else {}
    value = spec.get("default_regimen", spec.get("regimen", ""))
    return value if isinstance(value, str) else ""


def _short_path(path: Any) -> str:
    """A parameter file's path from the package folder on: mschemo/params/mitox_2y.toml."""
    from pathlib import Path

    p = Path(str(path))
    parts = p.parts
    if "mschemo" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("mschemo"):])
    return str(p)


def _print_sources(con: Any, title: str, ps: Any) -> None:
    """One block per parameter: name = value unit (IIV), description, source or assumption."""
    from rich.markup import escape

    con.print()
    con.rule(f"[bold]{escape(title)}[/bold]", align="left")
    for row in ps.table():
        iiv = f"; IIV omega {row['iiv_omega']:g}" if row["iiv_omega"] else ""
        con.print(f"[bold]{escape(row['parameter'])}[/bold] = {row['value']:g} {escape(row['unit'])}{iiv}: "
                  f"{escape(row['description'])}")
        con.print(f"    {escape(row['source'])}", style="dim" if row["source"].startswith("assumption") else None)
        if row["iiv_source"]:
            con.print(f"    IIV: {escape(row['iiv_source'])}", style="dim" if row["iiv_source"].startswith("assumption")
                      else None)
