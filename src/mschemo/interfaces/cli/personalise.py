"""``mschemo personalise``: one patient's next dose from that patient's own file (doses, counts,
LVEF): the estimated parameters, the proposed dose and date, the predicted nadir with its band, the
risk of grade >= 3, the label rules and the best day for the next count; optionally a figure and a
printable infusion-centre sheet."""

from __future__ import annotations

from typing import Annotated, Any

import typer

import mschemo as ms

from ..requests import EXAMPLE_PATIENTS, PersonaliseRequest
from . import _common as c

_INPUT = "Patient"
_PLAN = "Plan"
_OUTPUT = "Output"


def personalise_command(
    patient: Annotated[str | None, typer.Argument(metavar="PATIENT.csv|PATIENT.json", show_default=False,
                                                  help="The patient file: drug, covariates, dated doses, counts "
                                                       "and LVEF (see docs/personalise.md).")] = None,
    example: Annotated[str | None, typer.Option("--example", metavar="NAME", rich_help_panel=_INPUT,
                                                help="A built-in example instead of your own input: a patient "
                                                     f"({', '.join(EXAMPLE_PATIENTS)}).")] = None,
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
    seed: c.Seed = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE.png", rich_help_panel=_OUTPUT,
                                             help="Write the figure (.png, .pdf or .svg): measured counts, "
                                                  "posterior median and 90 % prediction interval, the proposed dose.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", metavar="FILE.html", rich_help_panel=_OUTPUT,
                                              help="Write the printable infusion-centre sheet (one HTML page).")] = None,
    quiet: c.Quiet = False,
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
    request = PersonaliseRequest(patient=patient, example=example, on=on, target_nadir=target_nadir,
                                 target_low=target_low, target_high=target_high, target_kind=target_kind,
                                 max_risk=max_risk, risk_grade=risk_grade, cap_region=cap_region, samples=samples,
                                 draws=draws, seed=seed, plot=plot, sheet=sheet)
    run_personalise(request, quiet)


def run_personalise(request: PersonaliseRequest, quiet: bool = False) -> None:
    job = request.resolve(c.CLI)
    plan = job.run()
    written: list[str] = []
    with c.staged_outputs(quiet) as stage:
        if job.plot is not None:
            ms.save_figure(plan.plot(), stage(job.plot))
            written.append(f"wrote {c.fmt_path(job.plot)} (counts: measured, predicted, proposed dose)")
        if job.sheet is not None:
            plan.to_html(stage(job.sheet))
            written.append(f"wrote {c.fmt_path(job.sheet)} (infusion-centre sheet)")
    if quiet:
        return
    _show(plan, job.label, written)


# -- output -------------------------------------------------------------------------------------------
def _text_table(df: Any, title: str) -> Any:
    """A table of text cells, left-aligned (status words coloured); reasons wrap at spaces."""
    from rich.markup import escape

    colour = {"pass": "green", "fail": "bold red", "to-check": "yellow"}
    t = c.table(title)
    for col in df.columns:
        c.add_column(t, str(col), text=col in ("reason", "proposal (model)", "rule", "value", ""),
                     cells=df[col].astype(str), ratio=3 if col in ("reason", "proposal (model)") else None)
    for row in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, row):
            text = escape(str(v))
            cells.append(f"[{colour[v]}]{text}[/]" if col == "status" and v in colour else text)
        t.add_row(*cells)
    return t


def _show(plan: Any, label: str, written: list[str]) -> None:
    import pandas as pd
    from rich.markup import escape

    con = c.console()
    rec = plan.record
    con.print(f"[bold]patient {escape(plan.patient_id)}[/bold]: {escape(plan.drug)}, {len(rec.doses)} dose(s) from "
              f"{rec.start}, {len(rec.counts)} count(s) ({escape(label)})")
    con.print(f"[bold]{plan.verdict.upper()}[/bold]: {escape(plan.reason)}")
    if plan.verdict != plan.decision:   # a dose to give, but a check did not pass
        open_checks = "; ".join(f"{r.rule} ({r.status})" for r in plan.open_checks.itertuples(index=False))
        con.print(f"[bold yellow]Review before giving[/bold yellow]: {escape(open_checks)}")
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
            f"{ms.dosing.count_name(k)} nadir": [f"{m:.2f} ({lo:.2f}-{hi:.2f})" for m, lo, hi in
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
