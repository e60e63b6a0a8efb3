"""The infusion-centre sheet: one printable page (self-contained HTML) for a :class:`DosePlan`.

It shows the patient, the proposed dose and date (mg for the record's weight and height, infusion
duration), the next-dose checklist (the label rules with the model's status, then standard
pre-infusion checks that are not model outputs), every rule result with its reason, the date of the
next count, a full-width figure (base64 PNG; nothing is fetched) and the disclaimer at the top and
the bottom. A proposal to give while a check did not pass reads NEEDS REVIEW (amber) with those
checks listed, never a green GIVE. File paths appear as file names only (no folder of this machine).

Example::

    plan = ms.recommend_dose(ms.estimate_map(record.drug, record))
    plan.to_html("sheet.html")          # written atomically (temporary file, then rename)

Research and education only, not a prescription.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .._internal.html import esc as _e
from .._internal.html import png_img as _png
from .._internal.meta import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .plan import DosePlan

__all__ = ["sheet_html", "write_sheet", "STANDARD_CHECKS", "file_names_only"]

#: an absolute path (POSIX or Windows) not inside a word (so "mg/m2" and "x10^9/L" are left alone)
_PATH = re.compile(r"(?<![\w.^/\\])(?:[A-Za-z]:)?[\\/](?:[^\s\\/'\"<>]+[\\/])+([^\s\\/'\"<>]*)")

#: standard pre-infusion checks (not model outputs): drug -> list of items; "*" applies to every drug
STANDARD_CHECKS: dict[str, tuple[str, ...]] = {
    "*": ("Pregnancy test negative (patients who could be pregnant)",
          "No active infection (temperature, symptoms, recent antibiotics)",
          "Patient identity, drug, dose in mg and route double-checked by two staff"),
    "cyclophosphamide": ("Hydration plan and urinalysis (haemorrhagic cystitis); mesna if the protocol uses it",
                         "Antiemetic given as per local protocol"),
    "mitoxantrone": ("Infusion site checked (extravasation risk)",
                     "Lifetime dose recorded in the patient's file after the infusion"),
    "cladribine": ("Tuberculosis, hepatitis B/C and HIV screening done before treatment (label)",
                   "Herpes zoster and other live-vaccine considerations reviewed"),
}

_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; font-size: 10.5pt;
       max-width: 190mm; margin: 0 auto; padding: 4mm; line-height: 1.3; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 3mm 0 1.5mm; border-bottom: 1px solid #999; }
.disclaimer { border: 2px solid #b00020; color: #b00020; font-weight: bold; padding: 1.5mm 3mm; margin: 2mm 0;
              text-align: center; font-size: 11pt; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; }
.box { border: 1px solid #aaa; padding: 2mm 3mm; }
.decision { font-size: 13pt; font-weight: bold; }
.give { color: #0b6e2b; } .delay, .review, .needs-review { color: #9a5b00; } .withhold, .stop { color: #b00020; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 1mm 0; }
th, td { border: 1px solid #bbb; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
thead th { background: #eef2f7; }
.pass { color: #0b6e2b; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.to-check { color: #9a5b00; font-weight: bold; }
ul.check { list-style: none; padding-left: 0; margin: 1mm 0; } ul.check li::before { content: "\\2610  "; }
.small { font-size: 8.5pt; color: #444; }
figure { margin: 3mm 0; } figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #444; margin-top: 1mm; }
.review-list { margin: 1mm 0 0; padding-left: 5mm; color: #9a5b00; }
@media print { body { padding: 0; } .box, table, figure { break-inside: avoid; } a { color: inherit; } }
@media screen and (max-width: 600px) { .grid { grid-template-columns: 1fr; } }
"""


def _num(x: float | None, fmt: str = ".2f") -> str:
    return "" if x is None or not math.isfinite(x) else format(x, fmt)


def _patient(plan: DosePlan) -> str:
    rec = plan.record
    cov = rec.covariates
    bits = [("Patient", rec.id), ("Drug", plan.drug)]
    if "sex" in cov:
        bits.append(("Sex", cov["sex"]))
    if "age_y" in cov:
        bits.append(("Age", f"{cov['age_y']:g} years"))
    if "height_cm" in cov:
        bits.append(("Height", f"{cov['height_cm']:g} cm"))
    if "weight_kg" in cov:
        bits.append(("Weight", f"{cov['weight_kg']:g} kg"))
    if rec.bsa_m2 is not None:
        bits.append(("BSA", f"{rec.bsa_m2:.2f} m2 (Mosteller)"))
    d = rec.doses
    last = d.iloc[-1]
    bits.append(("Doses given", f"{len(d)}, the last {last['amount']:g} {last['unit']} on {last['date']}"))
    if plan.cumulative is not None:
        c = plan.cumulative
        bits.append(("Lifetime dose so far", f"{c['given']:g} {c['unit']}"))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in bits)
    return f'<div class="box"><h2>Patient</h2><table>{rows}</table></div>'


def file_names_only(text: str) -> str:
    """``text`` with every absolute file path cut to its file name (no folder of this machine)."""
    return _PATH.sub(lambda m: m.group(1) or "(folder)", text)


def _proposal(plan: DosePlan) -> str:
    verdict = plan.verdict
    out = [f'<div class="box"><h2>Proposal (model)</h2><p class="decision {_e(verdict.replace(" ", "-"))}">'
           f"{_e(verdict.upper())}</p>"]
    if verdict != plan.decision:   # the model would give, but a check did not pass
        items = "".join(f"<li>{_e(r.rule)}: {_e(r.status)} ({_e(r.value)})</li>"
                        for r in plan.open_checks.itertuples(index=False))
        out.append(f'<p><b>The model proposes to {_e(plan.decision)} this dose, but these checks did not pass; '
                   f'review them before giving:</b></p><ul class="review-list">{items}</ul>')
    rows = [(k[0].upper() + k[1:], v) for k, v in plan.proposal_rows() if k not in ("lifetime dose", "next count")]
    if rows:
        out.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>")
    out.append(f"<p>{_e(plan.reason)}</p></div>")
    return "".join(out)


def _checklist(plan: DosePlan) -> str:
    items = []
    for row in plan.checks.itertuples(index=False):
        items.append(f'<li>{_e(row.rule)}: <span class="{_e(row.status)}">{_e(row.status)}</span> '
                     f'({_e(row.value)})</li>')
    std = STANDARD_CHECKS["*"] + STANDARD_CHECKS.get(plan.drug, ())
    return ('<div class="box"><h2>Next-dose checklist</h2><p class="small">Label rules (status from the patient '
            'file and the model):</p><ul class="check">' + "".join(items) + "</ul>"
            '<p class="small">Standard pre-infusion checks (not model outputs):</p><ul class="check">'
            + "".join(f"<li>{_e(s)}</li>" for s in std) + "</ul></div>")


def _rules(plan: DosePlan) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("Rule", "Status", "Value", "Limit", "Reason"))
    body = "".join(f'<tr><td>{_e(r.rule)}</td><td class="{_e(r.status)}">{_e(r.status)}</td><td>{_e(r.value)}</td>'
                   f"<td>{_e(r.limit)}</td><td>{_e(r.reason)}</td></tr>" for r in plan.checks.itertuples(index=False))
    return f"<h2>Rule results</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _parameters(plan: DosePlan) -> str:
    p = plan.parameters
    if p is None or not len(p):
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("Parameter", "Unit", "Typical", "Estimate", "90 % interval"))
    body = "".join(f"<tr><td>{_e(r.parameter)}</td><td>{_e(r.unit)}</td><td>{r.typical:.3g}</td><td>{r.map:.3g}</td>"
                   f"<td>{r.p5:.3g}-{r.p95:.3g}</td></tr>" for r in p.itertuples(index=False))
    return (f"<h2>This patient's estimated parameters</h2><table><thead><tr>{head}</tr></thead><tbody>{body}"
            f'</tbody></table><p class="small">Posterior: {_e(plan.posterior_method)}; {plan.n_draws} draws, '
            f"seed {plan.seed}.</p>")


def sheet_html(plan: DosePlan, *, figure: bool = True) -> str:
    """The sheet as one HTML document (no external assets)."""
    title = f"Infusion-centre sheet: {plan.drug}, patient {plan.patient_id}"
    disclaimer = f'<div class="disclaimer">{_e(plan.disclaimer)}</div>'
    nxt = ""
    if plan.next_count_date is not None:
        nxt = (f'<div class="box"><h2>Next count</h2><p><b>{_e(plan.next_count_date.isoformat())}</b>: '
               f"{_e(plan.next_count_reason)}</p></div>")
    img = ""
    if figure:
        from .figure import BAND_LABEL

        fig = plan.plot()
        alt = f"counts of patient {plan.patient_id}: measured, predicted median and {BAND_LABEL}"
        img = (f"<h2>Counts: measured and predicted</h2><figure>{_png(fig, alt, dpi=130)}<figcaption>Points: the "
               f"measured counts. Line: the posterior median; band: the {_e(BAND_LABEL)}. A count outside the band "
               "is ringed in red.</figcaption></figure>")
    notes = "".join(f"<li>{_e(file_names_only(n))}</li>" for n in plan.notes)
    body = [
        f"<h1>{_e(title)}</h1>", disclaimer,
        '<div class="grid">', _patient(plan), _proposal(plan), "</div>",
        '<div class="grid">', _checklist(plan), nxt or '<div></div>', "</div>",
        _rules(plan), img, _parameters(plan),
        f'<h2>Notes</h2><ul class="small">{notes}</ul>' if notes else "",
        f'<p class="small">mschemo {_e(__version__)}; made {_e(dt.date.today().isoformat())}; source '
        f"{_e(file_names_only(str(plan.record.source)) if plan.record.source else '-')}. Model estimates from the population model and this patient's counts.</p>",
        disclaimer,
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def write_sheet(plan: DosePlan, path: str | Path) -> Path:
    """Write the sheet to ``path`` (.html) atomically; the document is built first, so a failure
    leaves no file."""
    from .._internal.files import atomic_path
    from ..errors import OptionError

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise OptionError(f"sheet file '{path}' has suffix {path.suffix or '(none)'}; use .html.")
    text = sheet_html(plan)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
