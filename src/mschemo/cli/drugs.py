"""``mschemo drugs``: the built-in drugs (label regimen, dosing rules, covariates, parameters) and the
other built-in models; with --sources, where every number comes from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import OptionError
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
    from ..drugs import available_drugs, load_drug
    from ..models import available_models, load_model

    drug_names = available_drugs()
    model_names = [m for m in available_models() if m not in drug_names]
    if name is not None:
        key = name.strip().lower().replace("_", "-")
        if key not in drug_names and key not in model_names:
            raise OptionError(f"there is no built-in drug named '{name}'; use one of "
                              f"{', '.join(drug_names + model_names)}.")
        drug_names = [key] if key in drug_names else []
        model_names = [key] if key in model_names else []

    con = c.console()
    drugs = {nm: load_drug(nm) for nm in drug_names}
    models = {nm: load_model(nm) for nm in model_names}
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
        from ..params import load_parameters, parameter_files

        shown = set()
        for nm, obj in [*drugs.items(), *models.items()]:
            model = getattr(obj, "model", obj)
            _print_sources(con, f"{nm}: parameters ({_short_path(model.parameter_set.path)})", model.parameter_set)
            shown.add(_short_path(model.parameter_set.path))
        for path in parameter_files():
            if _short_path(path) not in shown:
                ps = load_parameters(path)
                _print_sources(con, f"{ps.name}: parameters ({_short_path(path)})", ps)
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
    from rich.table import Table

    table = Table(title=f"Built-in drugs ({len(drugs)}); simulate one with 'mschemo simulate --drug NAME'",
                  title_justify="left")
    for col, just in (("name", "left"), ("title", "left"), ("route", "left"), ("label regimen", "left"),
                      ("dosing rules", "right"), ("optional rules", "left")):
        table.add_column(col, justify=just, overflow="fold")
    for nm, drug in drugs.items():
        options = drug.rules.available_options
        table.add_row(escape(nm), escape(drug.title), escape(drug.route), escape(_regimen_text(drug)),
                      str(len(drug.rules)), escape(", ".join(options)) if options else "-")
    con.print(table)


def _regimen_text(drug: Any) -> str:
    """The label regimen as text; a per-patient plan (cladribine tablets) says how it is built."""
    from ..drugs.library import LABEL_PLANS

    if drug.default_regimen.strip().lower() in LABEL_PLANS:
        return f"{drug.default_regimen} (built per patient from body weight)"
    return drug.default_regimen


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
    grid.add_row("label regimen", escape(_regimen_text(drug)))
    grid.add_row("its source", escape(str(drug.regimen_source)))
    grid.add_row("parameters", escape(_short_path(model.parameter_set.path)))
    con.print(Padding(grid, (0, 0, 0, 2)))

    if drug.regimens:
        table = Table(title="Published regimens", title_justify="left")
        table.add_column("regimen", overflow="fold", ratio=3)
        table.add_column("simulate as (--regimen)", overflow="fold", ratio=2)
        table.add_column("source", overflow="fold", ratio=3)
        for r in drug.regimens:
            table.add_row(escape(r.text), escape(r.regimen if r.regimen != r.text else "-"), escape(str(r.source)))
        con.print()
        con.print(table)

    table = Table(title=f"Dosing rules ({len(drug.rules)}; switch them off with --no-rules)", title_justify="left")
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
        table = Table(title="Covariates this drug adds to virtual patients (drawn when a patient table lacks them)",
                      title_justify="left")
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
    from ..dosing import CumulativeCap

    if rule.option:
        return f"option '{rule.option}' (--option {rule.option})"
    if isinstance(rule, CumulativeCap) and rule.region:
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
    from rich.table import Table

    table = Table(title=title, title_justify="left")
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

    from ..examples import EXAMPLES, load_example

    shows_dose = False
    con.print()
    if overview:
        con.print(f"[bold]Other built-in models[/bold] ({len(models)}): no dosing rules; give the doses with "
                  "--regimen or --events")
    for nm, model in models.items():
        default = _default_regimen(model)
        examples = [f"{k} ('mschemo simulate --example {k}'): {v}" for k, v in EXAMPLES.items()
                    if load_example(k, n=1).model.name == model.name]
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
        con.print(Padding(grid, (0, 0, 0, 2)))
    return shows_dose


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
