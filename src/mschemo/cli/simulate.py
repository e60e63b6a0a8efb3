"""``mschemo simulate``: one regimen in a population, a summary on screen, tables and a plot on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c
from . import disease as dz

_INPUT = "Model and doses"
_PATIENTS = "Patients"
_RUN = "Run"
_OUTPUT = "Output"
_RULES = "Dosing rules (with --drug)"
TIME_UNITS = ("d", "h", "min", "week")
CAP_REGIONS = ("us", "eu")
DEFAULT_N = 100


@dataclass
class Plan:
    """Everything a run needs, checked before any simulation starts."""

    model: Any
    regimen: Any
    population: Any
    n: int | None
    seed: int | None
    output: Any
    backend: Any
    example: Any = None
    regimen_label: str = ""
    population_label: str = ""
    drug: Any = None                 # a Drug (a [drug] table): simulated with its dosing rules
    regimen_text: str | None = None  # the drug's regimen as given (None: the label's)
    rules: bool = True
    region: str | None = None
    options: tuple[str, ...] = ()


def simulate_command(
    drug: Annotated[str | None, typer.Option("--drug", metavar="NAME", rich_help_panel=_INPUT,
                                                help="A built-in drug (label regimen and dosing rules) or model by name "
                                                     "(see 'mschemo drugs').")] = None,
    model: Annotated[str | None, typer.Option("--model", metavar="NAME|FILE.toml", rich_help_panel=_INPUT,
                                                 help="A built-in model name or your own model file (TOML).")] = None,
    regimen: Annotated[str | None, typer.Option("--regimen", metavar="TEXT", rich_help_panel=_INPUT,
                                                   help="Doses as people write them, e.g. "
                                                        "'12 mg/m2 over 30 min every 3 months x 8' \\[default with "
                                                        "a drug: its label regimen].")] = None,
    events: Annotated[str | None, typer.Option("--events", metavar="FILE.csv", rich_help_panel=_INPUT,
                                                  help="A NONMEM-style event table (ID, TIME, AMT, EVID, CMT, "
                                                       "RATE or DUR, II, ADDL, SS).")] = None,
    time_unit: Annotated[str | None, typer.Option("--time-unit", metavar="d|h|min|week", rich_help_panel=_INPUT,
                                                     help="Unit of TIME, II, DUR and RATE in --events "
                                                          "\\[default: d].")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_INPUT,
                                                   help="A built-in scenario (model, doses and patients), "
                                                        "e.g. mitox-2y.")] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", rich_help_panel=_RULES,
                                           help="Give every planned dose: switch the drug's dosing rules off "
                                                "(they are on by default).")] = False,
    cap_region: Annotated[str | None, typer.Option("--cap-region", metavar="us|eu", rich_help_panel=_RULES,
                                                      help="Which lifetime dose cap is in force (e.g. mitoxantrone: "
                                                           "us 140 mg/m2, eu 72 mg/m2) \\[default: the drug's].")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", metavar="NAME", rich_help_panel=_RULES,
                                                        help="Switch on an optional dosing rule, e.g. titrate "
                                                             "(repeatable; 'mschemo drugs NAME' lists them).")] = None,
    population: Annotated[str | None, typer.Option("--population", metavar="FILE.csv|FILE.toml",
                                                      rich_help_panel=_PATIENTS,
                                                      help="Real patients (.csv: id, height_cm, weight_kg, ...) or a "
                                                           "virtual-population spec (.toml).")] = None,
    n: Annotated[str | None, typer.Option("--n", metavar="INTEGER", rich_help_panel=_PATIENTS,
                                             help="Number of virtual patients \\[default: 100; with --events, one "
                                                  "typical patient per ID].")] = None,
    seed: Annotated[str | None, typer.Option("--seed", metavar="INTEGER", rich_help_panel=_PATIENTS,
                                                help="Seed of the virtual patients (same seed, same patients) "
                                                     "\\[default: fresh, printed].")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DURATION", rich_help_panel=_RUN,
                                                 help="End of the simulation, e.g. '2 years' \\[default: last dose "
                                                      "+ 13 weeks].")] = None,
    every: Annotated[str | None, typer.Option("--every", metavar="DURATION", rich_help_panel=_RUN,
                                                 help="Output step, e.g. '1 day' or '12 h' \\[default: 1 day].")] = None,
    backend: Annotated[str | None, typer.Option("--backend", metavar="compiled|scipy", rich_help_panel=_RUN,
                                                   help="Solver: compiled (fast, default) or scipy (reference).")] = None,
    threads: Annotated[str | None, typer.Option("--threads", metavar="INTEGER", rich_help_panel=_RUN,
                                                   help="Worker threads of the compiled backend \\[default: all "
                                                        "cores].")] = None,
    out: Annotated[str | None, typer.Option("--out", metavar="FILE.csv|FILE.parquet", rich_help_panel=_OUTPUT,
                                               help="Write the results table (with --example: the per-patient "
                                                    "nadir table, unless --table is given).")] = None,
    table: Annotated[str | None, typer.Option("--table", metavar="wide|long", rich_help_panel=_OUTPUT,
                                                 help="Layout of --out: wide (one column per output) or long "
                                                      "\\[default: wide].")] = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE.png", rich_help_panel=_OUTPUT,
                                                help="Write a plot of the counts over time (.png, .pdf or .svg).")] = None,
    decisions: Annotated[str | None, typer.Option("--decisions", metavar="FILE.csv|FILE.parquet",
                                                     rich_help_panel=_OUTPUT,
                                                     help="Write the dosing decisions (one row per course and check: "
                                                          "action, dose, rule, reason); with --drug.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=_OUTPUT,
                                        help="No progress bar and no tables; errors only.")] = False,
    disease: Annotated[bool | None, typer.Option("--disease/--no-disease", rich_help_panel=dz.PANEL,
                                                    help="Also simulate relapses, symptoms and EDSS of the same "
                                                         "patients, the relapse rate following their lymphocytes "
                                                         "\\[default: on; with --example: off].")] = None,
    untreated: Annotated[bool, typer.Option("--untreated", rich_help_panel=dz.PANEL,
                                            help="The disease without chemotherapy: no drug, no doses, no counts "
                                                 "(--until sets the window, default 2 years).")] = False,
    disease_until: dz.DiseaseUntil = None,
    steroids: dz.Steroids = False,
    plasma_exchange: dz.PlasmaExchange = False,
    symptomatic: dz.Symptomatic = None,
    rehabilitation: dz.Rehabilitation = False,
    exercise: dz.Exercise = False,
    diet: dz.Diet = False,
    dmt: dz.Dmt = None,
    disease_out: Annotated[str | None, typer.Option("--disease-out", metavar="FOLDER", rich_help_panel=dz.PANEL,
                                                       help="Write the disease tables into this folder as Parquet "
                                                            "(disease_relapses, _edss, _symptoms, _events, "
                                                            "_patients).")] = None,
) -> None:
    """Simulate doses in virtual or real patients: counts over time, nadirs and CTCAE grades, and the
    disease (relapses, symptoms, EDSS) that follows.

    A drug (mitoxantrone, cyclophosphamide, cladribine: see 'mschemo drugs') is simulated with its
    label regimen unless --regimen is given, and with its dosing rules (counts, LVEF, lifetime cap)
    unless --no-rules is given. The disease model runs for the same patients by default (--no-disease
    switches it off); --untreated simulates the disease alone, without chemotherapy.

    Examples:

      mschemo simulate --drug mitoxantrone --n 200 --seed 1 --cap-region eu --decisions decisions.csv

      mschemo simulate --drug mitox-2y --regimen "12 mg/m2 over 30 min every 3 months x 8" --n 500 --seed 1 --out res.parquet

      mschemo simulate --model mitox-2y --events doses.csv --time-unit h --population patients.csv --plot counts.png

      mschemo simulate --example mitox-2y --n 1000 --out nadirs.csv

      mschemo simulate --drug mitoxantrone --n 200 --seed 1 --disease-until "5 years" --steroids --disease-out disease

      mschemo simulate --untreated --n 1000 --seed 1 --until "10 years"
    """
    dopts = dz.DiseaseOptions(until=disease_until, steroids=steroids, plasma_exchange=plasma_exchange,
                              symptomatic=tuple(symptomatic or ()), rehabilitation=rehabilitation, exercise=exercise,
                              diet=diet, dmt=dmt, out=disease_out)
    opts = dict(drug=drug, model=model, regimen=regimen, events=events, time_unit=time_unit, example=example,
                population=population, n=n, seed=seed, until=until, every=every, backend=backend, threads=threads,
                out=out, table=table, plot=plot, quiet=quiet, no_rules=no_rules, cap_region=cap_region,
                options=tuple(option or ()), decisions=decisions, disease=disease, untreated=untreated,
                disease_opts=dopts)
    run_simulate(**opts)


def run_simulate(*, drug: str | None = None, model: str | None = None, regimen: str | None = None,
                 events: str | None = None, time_unit: str | None = None, example: str | None = None,
                 population: str | None = None, n: str | None = None, seed: str | None = None,
                 until: str | None = None, every: str | None = None, backend: str | None = None,
                 threads: str | None = None, out: str | None = None, table: str | None = None,
                 plot: str | None = None, quiet: bool = False, no_rules: bool = False, cap_region: str | None = None,
                 options: tuple[str, ...] = (), decisions: str | None = None, disease: bool | None = None,
                 untreated: bool = False, disease_opts: dz.DiseaseOptions | None = None) -> None:
    # -- 1. the options themselves (cheap, before anything heavy is imported) -------------------
    n_val = c.whole_number(n, "--n", 1, "100")
    seed_val = c.whole_number(seed, "--seed", 0, "1")
    dopts = disease_opts or dz.DiseaseOptions()
    if disease is False:
        if untreated:
            raise OptionError("--no-disease switches the disease model off, and --untreated simulates only the "
                              "disease; give one of them.")
        if dopts.given():
            first = dopts.given()[0]
            raise OptionError(f"--no-disease switches the disease model off, so {first} does not apply; leave {first} "
                              "out or drop --no-disease.")
    if untreated:
        given = [o for o, v in (("--drug", drug), ("--model", model), ("--example", example), ("--regimen", regimen),
                                ("--events", events), ("--time-unit", time_unit), ("--every", every),
                                ("--backend", backend), ("--threads", threads), ("--out", out), ("--table", table),
                                ("--plot", plot), ("--decisions", decisions), ("--cap-region", cap_region),
                                ("--option", options or None), ("--no-rules", no_rules or None)) if v is not None]
        if given:
            fix = " (write the disease tables with --disease-out FOLDER)" if given[0] in ("--out", "--table") else ""
            raise OptionError(f"--untreated simulates the disease without chemotherapy, so {given[0]} does not apply"
                              f"{fix}; leave {given[0]} out or drop --untreated.")
        _run_untreated(population, n_val, seed_val, until, dopts, quiet)
        return
    disease_on = disease is True or (disease is None and (example is None or bool(dopts.given())))
    threads_val = c.whole_number(threads, "--threads", 1, "2")
    backend_name = c.choice(backend, "--backend", ("compiled", "scipy")) or "compiled"
    table_kind = c.choice(table, "--table", ("wide", "long"))
    tu = c.choice(time_unit, "--time-unit", TIME_UNITS)
    out_path = c.output_path(out, "--out", c.TABLE_SUFFIXES)
    plot_path = c.output_path(plot, "--plot", c.PLOT_SUFFIXES)
    decisions_path = c.output_path(decisions, "--decisions", c.TABLE_SUFFIXES)
    if out_path is not None and plot_path is not None and out_path.resolve() == plot_path.resolve():
        raise OptionError(f"--out and --plot both name '{out}'; give two different files.")
    for opt, other in (("--out", out_path), ("--plot", plot_path)):
        if decisions_path is not None and other is not None and other.resolve() == decisions_path.resolve():
            raise OptionError(f"--decisions and {opt} both name '{decisions}'; give two different files.")
    region = c.choice(cap_region, "--cap-region", CAP_REGIONS)
    rule_opts = [o for o, given in (("--no-rules", no_rules), ("--cap-region", region is not None),
                                    ("--option", bool(options)), ("--decisions", decisions_path is not None)) if given]
    if rule_opts and drug is None:
        raise OptionError(f"{rule_opts[0]} applies to a drug with dosing rules; add --drug NAME (e.g. --drug "
                          f"mitoxantrone) or leave {rule_opts[0]} out.")
    if no_rules and options:
        raise OptionError(f"--no-rules switches every dosing rule off, so --option {options[0]} cannot switch one on; "
                          "give one of them.")
    if no_rules and region is not None:
        raise OptionError(f"--no-rules switches every dosing rule off, so --cap-region {region} has no cap to choose; "
                          "give one of them.")
    if threads_val is not None and backend_name != "compiled":
        raise OptionError("--threads applies to the compiled backend only; leave it out with --backend scipy.")
    if tu is not None and events is None:
        raise OptionError("--time-unit applies to --events only; leave it out or give --events FILE.csv.")
    if table_kind is not None and out_path is None:
        raise OptionError("--table sets the layout of --out; give --out FILE.csv or leave --table out.")
    output = _output_times(until, every)
    dplan = dz.plan(dopts) if disease_on else None

    # -- 2. what to simulate -----------------------------------------------------------------
    plan = _plan(drug=drug, model=model, regimen=regimen, events=events, time_unit=tu or "d", example=example,
                 population=population, n=n_val, seed=seed_val, output=output, backend_name=backend_name,
                 threads=threads_val, rules=not no_rules, region=region, options=options,
                 decisions=decisions_path is not None, rule_opts=rule_opts, disease=disease_on)
    if dplan is not None:
        dz.check_population(plan.population, dplan.dmt, f"'{population}'")

    # -- 3. run, then write every file or none ---------------------------------------------------
    result = _run(plan, quiet, immune=dplan is not None)
    dres = None
    if dplan is not None and (not quiet or dplan.out_dir is not None) and result.all_ok:
        dres = dz.attach(result, dplan)
    written: list[str] = []
    with c.staged_outputs() as stage:
        if out_path is not None:
            written.append(_write_table(result, plan, out_path, table_kind, stage))
        if plot_path is not None:
            written.append(_write_plot(result, plot_path, stage, title=_plot_title(result, plan)))
        if decisions_path is not None:
            written.append(write_decisions(result.decisions, decisions_path, stage))
        if dres is not None and dplan.out_dir is not None:
            written.append(dz.write(dres, dplan.out_dir, stage))
    if not quiet:
        show_result(result, plan, written, disease=(dres, dplan) if dplan is not None else None)
    _warn_failures(result)


def _run_untreated(population: str | None, n: int | None, seed: int | None, until: str | None,
                   dopts: dz.DiseaseOptions, quiet: bool) -> None:
    """--untreated: the disease of the default cohort (or --population) without chemotherapy."""
    if until is not None and dopts.until is not None:
        raise OptionError("--until and --disease-until both set the window of an untreated run; give one of them.")
    until_d = dz.window_days(until, "--until") if until is not None else None
    dplan = dz.plan(dopts)
    if until_d is None:
        until_d = dplan.until_d if dplan.until_d is not None else dz.window_days(dz.UNTREATED_UNTIL, "--until")
    pop, seed_used, label = dz.untreated_population(population, n, seed, DEFAULT_N)
    dz.check_population(pop, dplan.dmt, f"'{population}'")
    dres = dz.untreated(pop, seed_used, until_d, dplan)
    written: list[str] = []
    with c.staged_outputs() as stage:
        if dplan.out_dir is not None:
            written.append(dz.write(dres, dplan.out_dir, stage))
    if quiet:
        return
    con = c.console()
    con.print("[bold]untreated[/bold]: the disease without chemotherapy (no doses, no counts)")
    con.print(f"patients: {label}")
    dz.show(con, dres, dplan, seed_used, linked_possible=False)
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")


# -- checks and inputs ------------------------------------------------------------------------
def _output_times(until: str | None, every: str | None) -> Any:
    """OutputTimes from --until and --every (days; None: the engine's defaults)."""
    from ..output import OutputTimes
    from ..units import parse_duration

    until_d = every_d = None
    if until is not None:
        until_d = parse_duration(until, "--until")
        if until_d <= 0:
            raise OptionError(f"--until '{until}' is not after day 0; give a later end, e.g. --until '2 years'.")
    if every is not None:
        every_d = parse_duration(every, "--every")
        if every_d <= 0:
            raise OptionError(f"--every '{every}' is not a positive step; give e.g. --every '1 day'.")
    return OutputTimes(every=1.0 if every_d is None else every_d, until=until_d)


def _plan(*, drug, model, regimen, events, time_unit, example, population, n, seed, output, backend_name,
          threads, rules=True, region=None, options=(), decisions=False, rule_opts=(), disease=False) -> Plan:
    """What to simulate. ``disease``: the disease model runs too, so --seed also seeds it and applies
    to a patient table."""
    from .. import backends

    be = backends.Compiled(threads=threads) if backend_name == "compiled" else backends.Scipy()
    if example is not None:
        return _example_plan(example, drug=drug, model=model, regimen=regimen, events=events, population=population,
                             n=n, seed=seed, output=output, backend=be)

    # model
    if drug is not None and model is not None:
        raise OptionError("--drug and --model both name a model; give one of them.")
    if drug is None and model is None:
        raise OptionError("no model given; add --drug NAME (see 'mschemo drugs'), --model FILE.toml or --example NAME.")
    mdl = _load_drug(drug) if drug is not None else _load_model(model)
    from ..drugs import Drug

    if isinstance(mdl, Drug):
        return _drug_plan(mdl, regimen=regimen, events=events, time_unit=time_unit, population=population, n=n,
                          seed=seed, output=output, backend=be, rules=rules, region=region, options=options,
                          decisions=decisions, disease=disease)
    if rule_opts:
        from ..drugs import available_drugs

        raise OptionError(f"{rule_opts[0]} applies to a drug with dosing rules ({', '.join(available_drugs())}); "
                          f"'{drug}' is a model without rules, so leave {rule_opts[0]} out.")

    # doses
    if regimen is not None and events is not None:
        raise OptionError("--regimen and --events both give the doses; give one of them.")
    if regimen is None and events is None:
        raise OptionError("no doses given; add --regimen '12 mg/m2 over 30 min every 3 months x 8' or "
                          "--events FILE.csv.")
    if regimen is not None:
        from ..regimen import Regimen

        reg = Regimen.parse(regimen)
        reg_label = reg.describe()
    else:
        from ..regimen import EventTable

        path = c.input_file(events, "--events", (".csv", ".txt", ".dat"))
        reg = EventTable.read(path, time_unit=time_unit)
        reg_label = f"event table {path.name} ({len(reg.ids)} ID(s), times in {time_unit})"

    # patients
    pop, n_used, pop_label = _population(population, n, seed, reg, events is not None, disease)
    return Plan(mdl, reg, pop, n_used, seed, output, be, regimen_label=reg_label, population_label=pop_label)


def _example_plan(name, *, drug, model, regimen, events, population, n, seed, output, backend) -> Plan:
    clash = [opt for opt, v in (("--drug", drug), ("--model", model), ("--regimen", regimen), ("--events", events),
                                ("--population", population)) if v is not None]
    if clash:
        raise OptionError(f"--example {name} brings its own model, doses and patients, so {clash[0]} does not apply; "
                          f"leave {clash[0]} out or drop --example.")
    from ..examples import EXAMPLES, load_example

    if name not in EXAMPLES:
        raise OptionError(f"--example '{name}' is not a built-in example; use one of {', '.join(EXAMPLES)}.")
    ex = load_example(name, n=DEFAULT_N if n is None else n, seed=seed)
    out = ex.output
    if output.until is not None or output.every != ex.output.every:
        from ..output import OutputTimes

        out = OutputTimes(every=output.every, until=output.until if output.until is not None else ex.output.until)
    return Plan(ex.model, ex.regimen, ex.population, None, ex.seed, out, backend, example=ex,
                regimen_label=ex.regimen.describe(), population_label=ex.population.description)


def _load_drug(name: str) -> Any:
    """A Drug (a file with a [drug] table: label regimen and dosing rules) or, for a built-in model
    without one (mitox-2y), the model itself."""
    from ..drugs import available_drugs, load_drug
    from ..models import available_models, load_model

    drugs = available_drugs()
    known = drugs + [m for m in available_models() if m not in drugs]
    key = name.strip().lower().replace("_", "-")
    if key not in known:
        raise OptionError(f"there is no built-in drug named '{name}'; use one of {', '.join(known)} "
                          "(list them with 'mschemo drugs').")
    return load_drug(key) if key in drugs else load_model(key)


def _drug_plan(drug, *, regimen, events, time_unit, population, n, seed, output, backend, rules, region, options,
               decisions, disease=False) -> Plan:
    """A drug: its label regimen unless --regimen is given, its dosing rules unless --no-rules."""

    # the rules asked for
    if region is not None:
        regions = drug.rules.regions
        if region not in regions:
            fix = (f"use one of {', '.join(regions)}" if regions else "leave --cap-region out")
            raise OptionError(f"--cap-region {region} does not apply to {drug.name}, which has "
                              f"{'no lifetime dose cap' if not regions else 'no cap for that region'}; {fix}.")
    opts: list[str] = []
    for o in options:
        key = o.strip().lower()
        known = drug.rules.available_options
        if key not in known:
            fix = f"use one of {', '.join(known)}" if known else "it has no optional rules, so leave --option out"
            raise OptionError(f"--option '{o}' is not an optional dosing rule of {drug.name}; {fix}.")
        if key not in opts:
            opts.append(key)

    # doses
    if regimen is not None and events is not None:
        raise OptionError("--regimen and --events both give the doses; give one of them.")
    if events is not None:
        if rules:
            raise OptionError(f"the dosing rules of {drug.name} apply to a regimen, not to an event table; give "
                              "--regimen (or leave it out for the label regimen), or add --no-rules to simulate "
                              "--events as written.")
        if decisions:
            raise OptionError("--decisions writes the course decisions of a regimen, and --events has none; leave "
                              "--decisions out or give --regimen.")
        from ..regimen import EventTable

        path = c.input_file(events, "--events", (".csv", ".txt", ".dat"))
        reg = EventTable.read(path, time_unit=time_unit)
        pop, n_used, pop_label = _population(population, n, seed, reg, True, disease)
        return Plan(drug.model, reg, pop, n_used, seed, output, backend,
                    regimen_label=f"event table {path.name} ({len(reg.ids)} ID(s), times in {time_unit})",
                    population_label=pop_label, rules=False)
    planned = drug.plan(regimen)   # checks the text (and another drug's label plan) before anything runs
    reg_label = _drug_regimen_label(drug, regimen, planned)

    # patients: the default cohort plus the covariates the drug needs
    extra = ", ".join(cov.name for cov in drug.covariates)
    plus = f" + {extra}" if extra else ""
    if population is not None and c.input_file(population, "--population", (".csv", ".toml")).suffix.lower() == ".csv":
        from ..population import Population

        path = Path(population)
        if n is not None:
            raise OptionError(f"--n does not apply to a patient table ('{path.name}' gives the patients); "
                              "leave --n out.")
        pop = Population.from_csv(path)
        missing = [cov.name for cov in drug.covariates if cov.name not in pop.table.columns]
        if seed is not None and not missing and not disease:
            raise OptionError(f"--seed does not apply to a patient table ('{path.name}' gives the patients and every "
                              f"covariate {drug.name} needs); leave --seed out.")
        drawn = f"; {', '.join(missing)} drawn from {drug.name}'s distribution" if missing else ""
        pop_label = f"{pop.description}{drawn}"
        return Plan(drug.model, planned, pop, None, seed, output, backend, regimen_label=reg_label,
                    population_label=pop_label, drug=drug, regimen_text=regimen, rules=rules, region=region,
                    options=tuple(opts))
    if population is not None:
        from ..population import PopulationSpec

        spec = PopulationSpec.from_file(Path(population))
        n_used = DEFAULT_N if n is None else n
        return Plan(drug.model, planned, spec, n_used, seed, output, backend, regimen_label=reg_label,
                    population_label=f"{n_used} virtual patients from {Path(population).name} ({spec.name}{plus})",
                    drug=drug, regimen_text=regimen, rules=rules, region=region, options=tuple(opts))
    from ..population import PopulationSpec

    n_used = DEFAULT_N if n is None else n
    return Plan(drug.model, planned, drug.population_spec(), n_used, seed, output, backend, regimen_label=reg_label,
                population_label=f"{n_used} virtual patients ({PopulationSpec().name}{plus})", drug=drug,
                regimen_text=regimen, rules=rules, region=region, options=tuple(opts))


def _drug_regimen_label(drug: Any, text: str | None, planned: Any) -> str:
    from ..regimen import Regimen

    src = drug.regimen_source
    cite = f"{src.author} {src.year}".strip() if not src.is_assumption else "an assumption"
    if isinstance(planned, Regimen):
        what = planned.describe()
    else:
        what = f"{drug.default_regimen} (built per patient from body weight)"
    return f"{what} (the label regimen; {cite})" if text is None else what


def _load_model(text: str) -> Any:
    from ..models import available_models, load_model

    if not text.strip():
        raise OptionError("--model is empty; give a built-in name or the path of a model file (.toml).")
    path = Path(text)
    if path.suffix or len(path.parts) > 1:
        return load_model(c.input_file(text, "--model", (".toml",)))
    known = available_models()
    if text.strip().lower().replace("_", "-") not in known:
        raise OptionError(f"there is no built-in model named '{text}'; use one of {', '.join(known)} or the path of a "
                          "model file (.toml).")
    return load_model(text.strip().lower().replace("_", "-"))


def _population(text: str | None, n: int | None, seed: int | None, regimen: Any, from_events: bool,
                disease: bool = False) -> tuple[Any, int | None, str]:
    from ..population import Population, PopulationSpec

    if text is not None:
        path = c.input_file(text, "--population", (".csv", ".toml"))
        if path.suffix.lower() == ".csv":
            if n is not None:
                raise OptionError(f"--n does not apply to a patient table ('{path.name}' gives the patients); "
                                  "leave --n out.")
            if seed is not None and not disease:
                raise OptionError(f"--seed does not apply to a patient table ('{path.name}' gives the patients); "
                                  "leave --seed out.")
            pop = Population.from_csv(path)
            return pop, None, pop.description
        spec = PopulationSpec.from_file(path)
        n_used = DEFAULT_N if n is None else n
        return spec, n_used, f"{n_used} virtual patients from {path.name} ({spec.name})"
    if from_events and n is None:
        import pandas as pd

        ids = list(regimen.ids)
        if seed is not None and not disease:
            raise OptionError("--seed does not apply to typical patients; give --n N for virtual patients, or leave "
                              "--seed out.")
        pop = Population(pd.DataFrame({"id": ids, "height_cm": 170.0, "weight_kg": 70.0}),
                         description=f"one typical patient (170 cm, 70 kg) per ID of the event table ({len(ids)})")
        return pop, None, pop.description
    n_used = DEFAULT_N if n is None else n
    spec = PopulationSpec()
    return spec, n_used, f"{n_used} virtual patients ({spec.name})"


# -- running and writing ----------------------------------------------------------------------
def _run(plan: Plan, quiet: bool, immune: bool = False) -> Any:
    """Run the plan; ``immune`` also records the memory compartment the disease model reads."""
    from .. import simulate

    total = plan.n if plan.n is not None else len(plan.population)
    show = not quiet and total >= c.PROGRESS_MIN_PATIENTS
    if plan.drug is not None:
        with c.progress_bar(total, show, label="deciding courses") as progress:
            rules = plan.drug.rules if plan.rules else plan.drug.rules.without()
            if plan.region is not None:
                rules = rules.with_region(plan.region)
            if plan.options:
                rules = rules.with_options(*plan.options)
            return simulate(plan.drug, plan.regimen_text, plan.population, rules=rules, n=plan.n, seed=plan.seed,
                            output=plan.output, backend=plan.backend, progress=progress, throw=False, immune=immune)
    with c.progress_bar(total, show) as progress:
        return simulate(plan.model, plan.regimen, plan.population, n=plan.n, output=plan.output, backend=plan.backend,
                        seed=plan.seed, progress=progress, throw=False, chunk_size=c.chunk_size_for(total, show),
                        immune=immune)


def _write_table(result: Any, plan: Plan, path: Path, kind: str | None, stage) -> str:
    tmp = stage(path)
    if plan.example is not None and kind is None:
        df = plan.example.peer_table(result)
        write_peer_table(df, tmp)
        what = f"per-patient nadirs, {len(df)} rows"
    else:
        result.write(tmp, kind=kind or "wide")
        rows = result.n_patients * result.times_d.size * (1 if (kind or "wide") == "wide" else len(result.columns))
        what = f"{kind or 'wide'} table, {rows:,} rows"
    return f"{c.fmt_path(path)} ({what})"


def write_peer_table(df: Any, path: Path) -> None:
    """The benchmark peers' per-patient table: ints as ints, every other number to 10 significant digits."""
    if path.suffix.lower() == ".csv":
        df.to_csv(path, index=False, float_format="%.10g")
    else:
        df.to_parquet(path, index=False)


def _write_plot(result: Any, path: Path, stage, title: str | None = None) -> str:
    from ..plotting import save_figure

    fig = result.plot(title=title)
    save_figure(fig, stage(path))
    return f"{c.fmt_path(path)} (plot)"


def _plot_title(result: Any, plan: Plan) -> str | None:
    """A drug's figure title: drug, regimen, patients and whether the rules were on (None: the default)."""
    if plan.drug is None:
        return None
    if not plan.rules:
        rules = "rules off"
    else:
        region = plan.region or plan.drug.rules.region
        caps = {r.region for r in plan.drug.rules if getattr(r, "region", "")}
        rules = "rules on" + (f", {region.upper()} cap" if region in caps else "") + \
            "".join(f", {o}" for o in plan.options)
    regimen = plan.regimen_label.split(" (the label regimen;")[0] + (" (label)" if plan.regimen_text is None else "")
    return f"{plan.drug.name}: {regimen.replace('mg/m2', 'mg/m²')}; {result.n_patients} patients, {rules}"


def _rules_in_force(plan: Plan) -> list[str]:
    """Labels of the rules that act in this run."""
    if plan.drug is None or not plan.rules:
        return []
    rules = plan.drug.rules
    if plan.region is not None:
        rules = rules.with_region(plan.region)
    if plan.options:
        rules = rules.with_options(*plan.options)
    return rules.describe()


def _rules_text(plan: Plan) -> str:
    if not plan.rules:
        return "dosing rules off"
    region = plan.region or plan.drug.rules.region
    from ..dosing import CumulativeCap

    has_cap = any(isinstance(r, CumulativeCap) and r.region for r in plan.drug.rules)
    bits = [f"cap region {region}"] if has_cap else []
    if plan.options:
        bits.append(f"options {', '.join(plan.options)}")
    return "dosing rules on" + (f" ({'; '.join(bits)})" if bits else "")


def write_decisions(decisions: Any, path: Path, stage) -> str:
    """The decisions table to a staged .csv or .parquet file."""
    tmp = stage(path)
    if path.suffix.lower() == ".csv":
        decisions.to_csv(tmp, index=False, float_format="%.10g")
    else:
        decisions.to_parquet(tmp, index=False)
    return f"{c.fmt_path(path)} (dosing decisions, {len(decisions)} rows)"


def show_result(result: Any, plan: Plan, written: list[str], disease: tuple[Any, Any] | None = None) -> None:
    """Print what was run, the summary table, the dosing decisions, the disease (``(DiseaseResult or
    None, DiseasePlan)``), the solve status, the files and the disclaimer."""
    from rich.markup import escape

    con = c.console()
    prov = result.provenance
    backend = prov.get("backend", {})
    con.print(f"[bold]{result.model.name}[/bold]: {result.model.describe()}")
    con.print(f"doses: {plan.regimen_label}")
    seeded = plan.n is not None or (plan.drug is not None and "drawn from" in plan.population_label)
    seed = "" if plan.example is not None or not seeded else f"; seed {prov.get('seed')}"
    con.print(f"patients: {plan.population_label}{seed}")
    con.print(f"solver: {backend.get('backend', '?')} (rtol {backend.get('rtol', '?')}); output: "
              f"{prov.get('output_times', '')}")
    if plan.drug is not None:
        con.print(f"dosing rules: {_rules_text(plan)[len('dosing rules '):]}")
        for label in _rules_in_force(plan):
            con.print(f"  - {escape(label)}")
    con.print(c.summary_table(result))
    if result.decisions is not None:
        con.print(c.decisions_table(result.decisions, title=f"Dosing decisions over {result.n_patients} patient(s): "
                                                            "courses by action and rule"))
    if disease is not None:
        dres, dplan = disease
        if dres is not None:
            dz.show(con, dres, dplan, prov.get("seed"))
        else:
            con.print("disease: not simulated, as some patients could not be solved (see the solve status).")
    con.print(c.status_line(result))
    for line in written:
        con.print(f"wrote {line}")
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")


def _warn_failures(result: Any) -> None:
    if not result.all_ok:
        import numpy as np

        bad = int(np.sum(result.status != 0))
        c.err_console().print(f"warning: {bad} of {result.n_patients} patient(s) could not be solved; their values are "
                              "missing (NaN), see the solve status above.")
        raise SystemExit(1)
