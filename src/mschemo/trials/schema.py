"""The columns of a trial's per-patient and per-visit tables (units in the names).

These tables are what a trial run writes (Parquet) and what the outcome statistics and the report
read; a user can rebuild every figure of the report from them.
"""

from __future__ import annotations

__all__ = ["PATIENT_COLUMNS", "VISIT_COLUMNS"]

PATIENT_COLUMNS: dict[str, str] = {
    "id": "patient number in the trial (1..N over all arms)",
    "arm": "arm name (in memory a categorical in the spec's arm order)",
    "age_y": "age at randomisation (years)",
    "sex": "F or M",
    "height_cm": "height (cm)",
    "weight_kg": "weight (kg)",
    "bsa_m2": "body-surface area (m2)",
    "ms_course": "RRMS, SPMS or PPMS at randomisation",
    "ms_duration_y": "years since onset at randomisation",
    "edss_baseline": "EDSS at randomisation",
    "prior_relapses_2y": "relapses in the 2 years before randomisation",
    "followup_d": "days of follow-up (the trial's duration: analysis by intention to treat)",
    "relapses": "relapses during follow-up",
    "first_relapse_d": "day of the first relapse (NaN: none)",
    "relapse_event": "True if a relapse happened during follow-up",
    "time_to_first_relapse_d": "day of the first relapse, or of the end of follow-up (censored)",
    "cdp3_event": "3-month confirmed disability progression during follow-up",
    "cdp3_d": "day of the visit where progression later confirmed at 3 months was first seen, or the last visit (censored)",
    "cdp6_event": "6-month confirmed disability progression",
    "cdp6_d": "as cdp3_d for 6-month confirmation",
    "edss_end": "EDSS at the last visit",
    "edss_change": "EDSS at the last visit minus baseline",
    "wbc_min_1e9_per_L": "lowest WBC at the visits",
    "anc_min_1e9_per_L": "lowest ANC at the visits",
    "alc_min_1e9_per_L": "lowest ALC at the visits",
    "wbc_grade_max": "worst CTCAE v5 grade of WBC decrease at the visits (0-4)",
    "anc_grade_max": "worst CTCAE v5 grade of neutrophil count decrease at the visits (0-4)",
    "alc_grade_max": "worst CTCAE v5 grade of lymphocyte count decrease at the visits (0-4)",
    "who_leukopenia": "WBC < 4.0 x10^9/L at any visit (the WHO definition used in the mitoxantrone label)",
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
    "visit": "visit number (0 = baseline)",
    "day": "day of the visit",
    "wbc_1e9_per_L": "WBC at the visit (NaN at visits without counts; arms without a drug have baseline counts)",
    "anc_1e9_per_L": "ANC at the visit",
    "alc_1e9_per_L": "ALC at the visit",
    "edss": "EDSS scored at the visit (a relapse in progress counts); NaN at visits without an EDSS",
}
