"""The columns of a trial's per-patient and per-visit tables (units in the names).

These tables are what a trial run writes (Parquet) and what the outcome statistics and the report
read; a user can rebuild every figure of the report from them. The per-patient table has the base
columns below, then the columns of each endpoint of the spec (``endpoints.endpoint_columns``: an
endpoint NAME gives NAME, NAME_event, NAME_d, ... by its kind), then the dosing columns.
"""

from __future__ import annotations

__all__ = ["BASE_COLUMNS", "DOSING_COLUMNS", "VISIT_COLUMNS", "PATIENT_COLUMNS", "patient_columns", "endpoint_column_text"]

BASE_COLUMNS: dict[str, str] = {
    "id": "patient number in the trial (1..N over all arms)",
    "arm": "arm name (in memory a categorical in the spec's arm order)",
    "age_y": "age at randomisation (years)",
    "sex": "F or M",
    "height_cm": "height (cm)",
    "weight_kg": "weight (kg)",
    "bsa_m2": "body-surface area (m2)",
    "ms_course": "RRMS, SPMS or PPMS at randomisation",
    "ms_duration_y": "years since onset at randomisation",
    "edss_baseline": "EDSS scored at the baseline visit (day 0; the reference of the EDSS endpoints)",
    "prior_relapses_1y": "relapses in the year before randomisation (simulated at screening)",
    "prior_relapses_2y": "relapses in the 2 years before randomisation (simulated at screening)",
    "screened_out_criteria": "candidates screened out by the eligibility criteria before this patient",
    "screened_out_labs": "candidates screened out by the screening labs before this patient",
    "followup_d": "days of follow-up (the trial's duration: analysis by intention to treat)",
    "relapses_total": "all relapses during follow-up, whatever an endpoint counts",
}

DOSING_COLUMNS: dict[str, str] = {
    "courses_planned": "treatment courses planned",
    "courses_given": "courses given (full or reduced dose)",
    "courses_delayed": "courses given late by a dosing rule",
    "courses_withheld": "courses not given by a dosing rule (this course only)",
    "discontinued": "treatment stopped by a dosing rule (cap, LVEF, counts)",
    "cumulative_dose": "cumulative dose in the regimen's unit (dose_unit)",
    "dose_unit": "unit of cumulative_dose (mg/m2, mg/kg or mg); empty in an arm without a drug",
    "cumulative_dose_mg": "cumulative dose in mg",
}

VISIT_COLUMNS: dict[str, str] = {
    "id": "patient number",
    "arm": "arm name",
    "visit": "visit number of the patient over all schedules (0 = baseline)",
    "schedule": "the schedule the visit belongs to (the spec's [schedules.NAME])",
    "day": "day of the visit",
    "wbc_1e9_per_L": "WBC as the laboratory reports it (with its error; NaN at visits of an EDSS schedule)",
    "anc_1e9_per_L": "ANC as reported",
    "alc_1e9_per_L": "ALC as reported",
    "edss": "EDSS scored at the visit (a relapse in progress counts); NaN at visits of a counts schedule",
}


def endpoint_column_text(endpoint) -> dict[str, str]:
    """Each column an endpoint adds, with what it holds."""
    from .endpoints import endpoint_columns

    t = endpoint.title
    words = {"": t, "_followup_d": f"days observed for {t}", "_event": f"True if {t} happened",
             "_d": f"day of {t}, or the day observation ended (censored)",
             "_grade": f"worst grade ({endpoint.scale}) at the visits, {t}",
             "_min_1e9_per_L": f"lowest reported count at the visits, {t}",
             "_true": f"{t}, from the true daily curve", "_true_grade": f"worst grade of the true daily curve, {t}"}
    out = {}
    for c in endpoint_columns(endpoint):
        suffix = c[len(endpoint.name):]
        out[c] = words.get(suffix, t)
    return out


def patient_columns(spec) -> list[str]:
    """The per-patient table's columns for ``spec``, in order."""
    cols = list(BASE_COLUMNS)
    for e in spec.all_endpoints():
        cols.extend(c for c in endpoint_column_text(e) if c not in cols)
    return cols + list(DOSING_COLUMNS)


def _default_patient_columns() -> dict[str, str]:
    from .spec import TrialSpec

    spec = TrialSpec.model_validate({"arms": [{"name": "placebo"}]})
    out = dict(BASE_COLUMNS)
    for e in spec.all_endpoints():
        out.update(endpoint_column_text(e))
    return out | DOSING_COLUMNS


#: the per-patient columns of a spec with the default endpoints
PATIENT_COLUMNS: dict[str, str] = _default_patient_columns()
