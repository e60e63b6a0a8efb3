"""``mschemo personalise``: one patient's next dose from that patient's own file (doses, counts,
LVEF): the estimated parameters, the proposed dose and date, the predicted nadir with its band, the
risk of grade >= 3, the label rules and the best day for the next count; optionally a figure and a
printable infusion-centre sheet."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from . import _common as c

_INPUT = "Patient"
_PLAN = "Plan"
_OUTPUT = "Output"
EXAMPLES = {"cyclophosphamide": "cyclophosphamide.csv", "mitoxantrone": "mitoxantrone.csv",
            "cladribine": "cladribine.json"}
KINDS = ("wbc", "anc", "alc")
REGIONS = ("us", "eu")


def personalise_command(
    patient: Annotated[str | None, typer.Argument(metavar="PATIENT.csv|PATIENT.json", show_default=False,
                                                  help="The patient file: drug, covariates, dated doses, counts "
                                                       "and LVEF (see docs/personalise.md).")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_INPUT,
                                                help="A built-in example patient instead of a file: "
                                                     "cyclophosphamide, mitoxantrone or cladribine.")] = None,
    on: Annotated[str | None, typer.Option("--on", metavar="YYYY-MM-DD", rich_help_panel=_PLAN,
                                           help="The wanted date of the next dose \\[default: the later of the day "
                                                "after the last count and the date the regimen makes it due].")] = None,
    target_nadir: Annotated[str | None, typer.Option("--target-nadir", metavar="LOW-HIGH", rich_help_panel=_PLAN,
                                                     help="The wanted nadir range in 10^9/L, e.g. '1.5-2.0' "
                                                          "(same as --target-low/--target-high).")] = None,
    target_low: Annotated[str | None, typer.Option("--target-low", metavar="NUMBER", rich_help_panel=_PLAN,
                                                   help="Lower end of the wanted nadir, 10^9/L \\[default: the drug "
                                                        "file's titration aim; cyclophosphamide WBC 1.5].")] = None,
    target_high: Annotated[str | None, typer.Option("--target-high", metavar="NUMBER", rich_help_panel=_PLAN,
                                                    help="Upper end of the wanted nadir, 10^9/L \\[default: the "
                                                         "drug file's; cyclophosphamide WBC 2.0].")] = None,
    target_kind: Annotated[str | None, typer.Option("--target-kind", metavar="wbc|anc|alc", rich_help_panel=_PLAN,
                                                    help="The count the target is for \\[default: wbc].")] = None,
    max_risk: Annotated[str, typer.Option("--max-risk", "--max-risk-grade3", metavar="P", rich_help_panel=_PLAN,
                                          help="Largest acceptable probability of CTCAE grade >= 3 (WBC or ANC) "
                                               "at the nadir.")] = "0.10",
    risk_grade: Annotated[str, typer.Option("--risk-grade", metavar="3|4", rich_help_panel=_PLAN,
                                            help="The CTCAE grade whose risk --max-risk bounds (4: severe only; "
                                                 "a WBC target of 1.5-2.0 lies inside grade 3).")] = "3",
    cap_region: Annotated[str | None, typer.Option("--cap-region", metavar="us|eu", rich_help_panel=_PLAN,
                                                   help="Which lifetime cap applies (mitoxantrone: 140 mg/m2 US, 72 "
                                                        "EU) \\[default: the drug file's].")] = None,
    samples: Annotated[str | None, typer.Option("--samples", metavar="INTEGER", rich_help_panel=_PLAN,
                                                help="Draw the full posterior by sampling-importance-resampling "
                                                     "(this many samples) \\[default: Laplace draws].")] = None,
    draws: Annotated[str, typer.Option("--draws", metavar="INTEGER", rich_help_panel=_PLAN,
                                       help="Posterior draws used for the predictions.")] = "300",
    seed: Annotated[str, typer.Option("--seed", metavar="INTEGER", rich_help_panel=_PLAN,
                                      help="Seed of the posterior draws (same seed, same plan).")] = "0",
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE.png", rich_help_panel=_OUTPUT,
                                             help="Write the figure (.png, .pdf or .svg): measured counts, "
                                                  "posterior median and 90 % band, the proposed dose.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", metavar="FILE.html", rich_help_panel=_OUTPUT,
                                              help="Write the printable infusion-centre sheet (one HTML page).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=_OUTPUT,
                                        help="No tables; errors only.")] = False,
) -> None:
    """A patient's next dose from their own blood counts (Bayesian: population model as the prior).

    Reads the patient file, estimates the patient's parameters (MAP with Laplace or SIR posterior),
    checks the label rules before the dose (ANC, LVEF, lifetime cap, cladribine ALC), and proposes
    the dose and date: the highest probability of a nadir in the target range with the probability
    of grade >= 3 within --max-risk (mitoxantrone: the highest such dose up to the label's;
    cladribine: the label course, given, delayed or stopped by its rules).

    Examples:

      mschemo personalise --example cyclophosphamide --sheet sheet.html

      mschemo personalise patient.csv --target-nadir 1.5-2.0 --max-risk-grade3 0.1 --plot plan.png

    Research and education only, not a prescription.
    """
    opts = _options(patient=patient, example=example, on=on, target_nadir=target_nadir, target_low=target_low,
                    target_high=target_high, target_kind=target_kind, max_risk=max_risk, risk_grade=risk_grade,
                    cap_region=cap_region, samples=samples, draws=draws, seed=seed, plot=plot, sheet=sheet)
    plan, label = _plan(opts)
    written: list[str] = []
    with c.staged_outputs() as stage:
        if opts["plot"] is not None:
            from ..plotting import save_figure
            save_figure(plan.plot(), stage(opts["plot"]))
            written.append(f"wrote {c.fmt_path(opts['plot'])} (counts: measured, predicted, proposed dose)")
        if opts["sheet"] is not None:
            from ..planning.sheet import write_sheet
            write_sheet(plan, stage(opts["sheet"]))
            written.append(f"wrote {c.fmt_path(opts['sheet'])} (infusion-centre sheet)")
    if quiet:
        return
    _show(plan, label, written)


# -- options ------------------------------------------------------------------------------------------
def _number(text: str | None, option: str, example: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise OptionError(f"{option} '{text}' is not a number; give e.g. {option} {example}.") from None
    if not math.isfinite(value):
        raise OptionError(f"{option} '{text}' is not a finite number; give e.g. {option} {example}.")
    return value


def _target(nadir: str | None, low: str | None, high: str | None, kind: str | None) -> Any:
    from ..planning import NadirTarget

    kind_val = c.choice(kind, "--target-kind", KINDS)
    if nadir is not None:
        if low is not None or high is not None:
            raise OptionError("--target-nadir and --target-low/--target-high both give the target; use one of them.")
        parts = nadir.replace(" ", "").replace("–", "-").split("-")
        if len(parts) != 2 or not all(parts):
            raise OptionError(f"--target-nadir '{nadir}' is not a range; write LOW-HIGH in 10^9/L, e.g. "
                              "--target-nadir 1.5-2.0.")
        low, high = parts
    if (low is None) != (high is None):
        which = "--target-high" if high is None else "--target-low"
        raise OptionError(f"the target range needs both ends; add {which} (e.g. --target-low 1.5 --target-high 2.0).")
    if low is None:
        if kind_val is not None:
            raise OptionError("--target-kind needs a range; add --target-low and --target-high (e.g. 1.5 and 2.0).")
        return None
    lo = _number(low, "--target-low", "1.5")
    hi = _number(high, "--target-high", "2.0")
    if lo <= 0 or hi <= lo:
        raise OptionError(f"the target range {lo:g}-{hi:g} x10^9/L is empty or not positive; give 0 < low < high, "
                          "e.g. --target-low 1.5 --target-high 2.0.")
    return NadirTarget(kind_val or "wbc", lo, hi)


def _options(**o: Any) -> dict[str, Any]:
    if (o["patient"] is None) == (o["example"] is None):
        raise OptionError("give a patient file (PATIENT.csv or PATIENT.json) or --example NAME (one of "
                          f"{', '.join(EXAMPLES)}), not both and not neither.")
    out: dict[str, Any] = {}
    if o["example"] is not None:
        name = c.choice(o["example"], "--example", tuple(EXAMPLES))
        from .. import estimation
        out["path"] = Path(estimation.__file__).resolve().parent / "examples" / EXAMPLES[name]
        out["label"] = f"example '{name}'"
    else:
        out["path"] = c.input_file(o["patient"], "PATIENT", (".csv", ".json"))
        out["label"] = str(o["patient"])
    if o["on"] is not None:
        import datetime as dt
        try:
            out["on"] = dt.date.fromisoformat(o["on"].strip())
        except ValueError:
            raise OptionError(f"--on '{o['on']}' is not a date; write YYYY-MM-DD, e.g. --on 2026-03-31.") from None
    else:
        out["on"] = None
    out["target"] = _target(o["target_nadir"], o["target_low"], o["target_high"], o["target_kind"])
    risk = _number(o["max_risk"], "--max-risk", "0.10")
    if not 0 <= risk <= 1:
        raise OptionError(f"--max-risk {o['max_risk']} is not a probability; give a number from 0 to 1, e.g. "
                          "--max-risk 0.10.")
    out["max_risk"] = risk
    grade = c.choice(o["risk_grade"], "--risk-grade", ("3", "4"))
    out["risk_grade"] = int(grade)
    out["region"] = c.choice(o["cap_region"], "--cap-region", REGIONS)
    out["samples"] = c.whole_number(o["samples"], "--samples", 100, "1000")
    out["draws"] = c.whole_number(o["draws"], "--draws", 20, "300")
    out["seed"] = c.whole_number(o["seed"], "--seed", 0, "1")
    out["plot"] = c.output_path(o["plot"], "--plot", c.PLOT_SUFFIXES)
    out["sheet"] = c.output_path(o["sheet"], "--sheet", (".html",))
    if out["plot"] is not None and out["sheet"] is not None and out["plot"].resolve() == out["sheet"].resolve():
        raise OptionError("--plot and --sheet name the same file; give two file names.")
    return out


def _plan(o: dict[str, Any]) -> tuple[Any, str]:
    from ..estimation.map import estimate_map, sample_posterior
    from ..estimation.patient import read_patient
    from ..planning import recommend_dose

    record = read_patient(o["path"])
    if o["region"] is not None:
        from ..drugs import load_drug
        drug = load_drug(record.drug)
        if not drug.rules.regions:
            raise OptionError(f"--cap-region applies to drugs with a lifetime cap; {record.drug} has none, so leave "
                              "it out.")
    post = estimate_map(record.drug, record)
    if o["samples"] is not None:
        post = sample_posterior(post, o["samples"], seed=o["seed"])
    plan = recommend_dose(post, target=o["target"], max_risk_grade3=o["max_risk"], on=o["on"], n_draws=o["draws"],
                          seed=o["seed"], region=o["region"], risk_grade=o["risk_grade"])
    return plan, o["label"]


# -- output -------------------------------------------------------------------------------------------
def _text_table(df: Any, title: str) -> Any:
    """A Rich table of text cells, left-aligned (status words coloured)."""
    from rich.markup import escape
    from rich.table import Table

    colour = {"pass": "green", "fail": "bold red", "to-check": "yellow"}
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        table.add_column(str(col), overflow="fold", ratio=3 if col in ("reason", "proposal (model)") else None)
    for row in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, row):
            text = escape(str(v))
            cells.append(f"[{colour[v]}]{text}[/]" if col == "status" and v in colour else text)
        table.add_row(*cells)
    return table


def _show(plan: Any, label: str, written: list[str]) -> None:
    import pandas as pd
    from rich.markup import escape

    from ..dosing import count_name

    con = c.console()
    rec = plan.record
    con.print(f"[bold]patient {escape(plan.patient_id)}[/bold]: {escape(plan.drug)}, {len(rec.doses)} dose(s) from "
              f"{rec.start}, {len(rec.counts)} count(s) ({escape(label)})")
    con.print(f"[bold]{plan.decision.upper()}[/bold]: {escape(plan.reason)}")
    rows = plan.proposal_rows()
    if rows:
        con.print(_text_table(pd.DataFrame(rows, columns=["", "proposal (model)"]), "Proposed next dose"))
    con.print(_text_table(plan.checks, "Rules and checks before the dose"))
    if len(plan.candidates) > 1:
        cand = plan.candidates
        unit_col = next(col for col in cand.columns if col.startswith("dose_") and col != "dose_mg")
        k = plan.kind
        show = pd.DataFrame({
            f"dose ({plan.dose_unit})": cand[unit_col], "mg": cand["dose_mg"].round(0),
            "P(target)": [f"{p:.0%}" if p == p else "" for p in cand["p_target"]],
            "P(grade>=3)": [f"{p:.0%}" for p in cand["p_grade3"]], "P(grade 4)": [f"{p:.0%}" for p in cand["p_grade4"]],
            f"{count_name(k)} nadir": [f"{m:.2f} ({lo:.2f}-{hi:.2f})" for m, lo, hi in
                                   zip(cand[f"nadir_{k}_median_1e9_per_L"], cand[f"nadir_{k}_p5_1e9_per_L"],
                                       cand[f"nadir_{k}_p95_1e9_per_L"])],
            "proposed": ["<-" if p else "" for p in cand["proposed"]]})
        con.print(c.frame_table(show, title=f"Candidate doses on {cand['date'].iloc[0]} (posterior, {plan.n_draws} "
                                            "draws)"))
    par = plan.parameters
    con.print(c.frame_table(pd.DataFrame({"parameter": par["parameter"], "unit": par["unit"],
                                          "typical": par["typical"], "estimate": par["map"],
                                          "90 % interval": [f"{a:.3g}-{b:.3g}" for a, b in zip(par["p5"], par["p95"])]}),
                            title=f"Estimated parameters of this patient ({plan.posterior_method})"))
    for n in plan.notes:
        con.print(f"note: {escape(n)}")
    for line in written:
        con.print(escape(line))
    con.print(f"[bold]{c.DISCLAIMER}[/bold]")
