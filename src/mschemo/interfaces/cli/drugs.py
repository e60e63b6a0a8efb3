"""``mschemo drugs``: the built-in drugs (label regimen, dosing rules, covariates, parameters) and the
other built-in models; with --sources, where every number comes from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests.catalogue import Catalogue, DrugsRequest, regimen_text
from . import _common as c


def drugs_command(
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="Show this drug (or model) in full.")] = None,
    sources: Annotated[bool, typer.Option("--sources", help="Also list every parameter with its value, unit, "
                                                            "variability and source or assumption.")] = False,
) -> None:
    """List the built-in drugs and models (use a name with 'mschemo simulate --drug NAME').

    Without NAME: one table row per drug (route, label regimen, dosing rules, optional rules) and
    the other built-in models. With NAME: that drug in full: model structure, label regimen and
    published regimens with their sources, dosing rules, covariates and every parameter.
    Parameter files live in src/mschemo/params/*.toml; each value carries its source
    (author, year, journal, table) or the reason for an assumption.
    """
    cat = DrugsRequest(name=name, sources=sources).resolve(c.CLI)
    con = c.console()
    drugs, models = cat.drugs, cat.models
    shows_dose = bool(drugs)
    if name is None:
        _print_overview(con, drugs)
    for drug in drugs.values() if name is not None else ():
        _print_drug(con, drug, sources)
    if models:
        shows_dose = _print_models(con, models, overview=name is None) or shows_dose

    if sources and name is not None:
        for nm, model in models.items():
            _print_sources(con, f"{nm}: parameters ({_short_path(model.parameter_set.path)})", model.parameter_set)
    elif sources:
        for nm, obj in [*drugs.items(), *models.items()]:
            model = getattr(obj, "model", obj)
            _print_sources(con, f"{nm}: parameters ({_short_path(model.parameter_set.path)})", model.parameter_set)
        for ps in cat.other_parameter_sets():
            _print_sources(con, f"{ps.name}: parameters ({_short_path(ps.path)})", ps)
    elif not sources:
        con.print()
        hint = "Add a NAME for one drug in full (e.g. 'mschemo drugs mitoxantrone'), " if name is None else "Add "
        con.print(f"{hint}--sources for every parameter's value, unit and source; the files are "
                  "src/mschemo/params/*.toml.")
    if shows_dose:
        con.print(f"[bold]{c.DISCLAIMER}[/bold]")


# -- the overview -----------------------------------------------------------------------------
def _print_overview(con: Any, drugs: dict[str, Any]) -> None:
    from rich.markup import escape

    table = c.table(f"Built-in drugs ({len(drugs)}); simulate one with 'mschemo simulate --drug NAME'")
    cells = {"title": [d.title for d in drugs.values()], "label regimen": [regimen_text(d) for d in drugs.values()],
             "options": [", ".join(d.rules.available_options) for d in drugs.values()]}
    for col, just, text in (("name", "left", False), ("title", "left", True), ("route", "left", False),
                            ("label regimen", "left", True), ("rules", "right", False),
                            ("options", "left", True)):
        c.add_column(table, col, justify=just, text=text, cells=cells.get(col, ()))
    for nm, drug in drugs.items():
        options = drug.rules.available_options
        table.add_row(escape(nm), escape(drug.title), escape(drug.route), escape(regimen_text(drug)),
                      str(len(drug.rules)), escape(", ".join(options)) if options else "-")
    con.print(table)


# -- one drug in full -------------------------------------------------------------------------
def _print_drug(con: Any, drug: Any, sources: bool) -> None:
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    model = drug.model
    con.print()
    con.print(f"[bold]{escape(drug.name)}[/bold]: {escape(drug.title)}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("route", escape(drug.route))
    grid.add_row("structure", escape(model.describe()))
    grid.add_row("outputs", ", ".join(list(model.outputs) + [d.column for d in getattr(model, "derived", ())]))
    grid.add_row("label regimen", escape(regimen_text(drug)))
    grid.add_row("its source", escape(str(drug.regimen_source)))
    grid.add_row("parameters", escape(_short_path(model.parameter_set.path)))
    con.print(Padding(grid, (0, 0, 0, 2), expand=False))

    if drug.regimens:
        table = c.table("Published regimens")
        table.add_column("regimen", overflow="fold", ratio=3)
        table.add_column("simulate as (--regimen)", overflow="fold", ratio=2)
        table.add_column("source", overflow="fold", ratio=3)
        for r in drug.regimens:
            table.add_row(escape(r.text), escape(r.regimen if r.regimen != r.text else "-"), escape(str(r.source)))
        con.print()
        con.print(table)

    table = c.table(f"Dosing rules ({len(drug.rules)}; switch them off with --no-rules)")
    table.add_column("rule", overflow="fold", ratio=3)
    table.add_column("courses", no_wrap=True)
    table.add_column("applies", overflow="fold", ratio=1)
    table.add_column("source or assumption", overflow="fold", ratio=4)
    for r in drug.rules:
        courses = ", ".join(str(k) for k in r.courses) if r.courses else "all"
        table.add_row(escape(r.label), courses, escape(_applies(r, drug.rules)), escape(str(r.source)))
    if not len(drug.rules):
        table.add_row("none: every planned dose is given", "-", "-", "-")
    con.print()
    con.print(table)

    if drug.covariates:
        table = c.table("Covariates this drug adds to virtual patients (drawn when a patient table lacks them)")
        table.add_column("covariate", no_wrap=True)
        table.add_column("distribution", overflow="fold", ratio=2)
        table.add_column("source or assumption", overflow="fold", ratio=4)
        for cov, src in zip(drug.covariates, drug.covariate_sources, strict=True):
            table.add_row(escape(cov.name), escape(_distribution(cov)), escape(str(src)))
        con.print()
        con.print(table)

    title = f"{drug.name}: parameters ({_short_path(model.parameter_set.path)})"
    if sources:
        _print_sources(con, title, model.parameter_set)
    else:
        _parameter_table(con, title, model.parameter_set)


def _applies(rule: Any, rules: Any) -> str:
    if rule.option:
        return f"option '{rule.option}' (--option {rule.option})"
    if isinstance(rule, ms.dosing.CumulativeCap) and rule.region:
        default = " (the default)" if rule.region == rules.region else ""
        return f"region {rule.region}{default} (--cap-region {rule.region})"
    return "always"


def _distribution(cov: Any) -> str:
    import math

    params = ", ".join(f"{k} {v}" for k, v in cov.params.items())
    bounds = []
    if math.isfinite(cov.lower):
        bounds.append(f">= {cov.lower:g}")
    if math.isfinite(cov.upper):
        bounds.append(f"<= {cov.upper:g}")
    return f"{cov.distribution} ({params})" + (f", {' and '.join(bounds)}" if bounds else "")


def _parameter_table(con: Any, title: str, ps: Any) -> None:
    from rich.markup import escape

    table = c.table(title)
    table.add_column("parameter", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("IIV", justify="right", no_wrap=True)
    table.add_column("source or assumption", overflow="fold")
    for row in ps.table():
        iiv = f"omega {row['iiv_omega']:.3g}" if row["iiv_omega"] else "-"
        table.add_row(escape(row["parameter"]), f"{row['value']:g}", escape(row["unit"]), iiv, escape(row["source"]))
    con.print()
    con.print(table)


# -- models without a [drug] table (e.g. mitox-2y) ------------------------------------------------
def _print_models(con: Any, models: dict[str, Any], overview: bool) -> bool:
    """The old per-model blocks; returns whether a dose was shown."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    shows_dose = False
    con.print()
    if overview:
        con.print(f"[bold]Other built-in models[/bold] ({len(models)}): no dosing rules; give the doses with "
                  "--regimen or --events")
    for nm, model in models.items():
        default = Catalogue.default_regimen(model)
        examples = [f"{k} ('mschemo simulate --example {k}'): {v}" for k, v in Catalogue.examples_of(model)]
        shows_dose = shows_dose or bool(default) or bool(examples)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        grid.add_row("structure", escape(model.describe()))
        grid.add_row("outputs", ", ".join(list(model.outputs) + [d.column for d in getattr(model, "derived", ())]))
        grid.add_row("default regimen", escape(default) if default else "none (give --regimen or --events)")
        grid.add_row("examples", escape("; ".join(examples)) if examples else "-")
        grid.add_row("parameters", escape(_short_path(model.parameter_set.path)))
        con.print(f"[bold]{escape(nm)}[/bold]: {escape(model.title)}")
        con.print(Padding(grid, (0, 0, 0, 2), expand=False))
    return shows_dose


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
