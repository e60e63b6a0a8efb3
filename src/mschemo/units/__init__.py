"""Units: the one place where mschemo reads the units people write.

Everything inside mschemo is in internal units:

========================  ==================  ==================================
quantity                  internal unit       examples people write
========================  ==================  ==================================
time                      ``d`` (days)        "30 min", "2 h", "5 days", "3 months"
amount (drug)             ``mg``              "800 mg", "0.5 g", "500 ug"
dose                      ``mg``, ``mg/m2``,  "12 mg/m2", "1.75 mg/kg"
                          ``mg/kg``
volume                    ``L``               "20 L", "500 mL"
clearance (flow)          ``L/d``             "1.1 L/h", "25 mL/min"
rate constant             ``1/d``             "0.1 1/h", "h-1"
concentration             ``mg/L``            "ng/mL", "ug/L"
potency (effect slope)    ``L/mg``            "L/ug"
cell count                ``1e9/L``           "4.6 x10^9/L", "4600 /uL", "4.6 G/L"
body weight / height      ``kg`` / ``cm``     "158 lb", "1.68 m"
========================  ==================  ==================================

Calendar lengths are fixed once, here, and used everywhere:
1 min = 1/1440 d, 1 h = 1/24 d, 1 week = 7 d, 1 month = 365.25/12 d (30.4375 d), 1 year = 365.25 d.

Units are read case-insensitively, with or without spaces. A number without a unit is always an
error (no silent guessing); every error is a :class:`~mschemo.errors.UnitError` whose message is
one sentence that names the field, the value and the fix.

The readers live in :mod:`.time_and_dose` (durations, intervals, doses, the calendar lengths) and
:mod:`.quantities` (parameter-file units, cell counts, weight, height). Every name is imported here,
so ``from mschemo.units import X`` finds it (the private ones too: mschemo.units was one module).
"""

from ..errors import UnitError as UnitError
from .quantities import _ACCEPTED as _ACCEPTED
from .quantities import _ATOMS as _ATOMS
from .quantities import _DIMENSIONLESS as _DIMENSIONLESS
from .quantities import _KIND_OF_SIGNATURE as _KIND_OF_SIGNATURE
from .quantities import INTERNAL_UNITS, UNIT_KINDS, convert, parse_count, parse_height, parse_weight
from .quantities import _parse_unit as _parse_unit
from .quantities import _positive_quantity as _positive_quantity
from .time_and_dose import _DAY as _DAY
from .time_and_dose import _DOSE_BASIS as _DOSE_BASIS
from .time_and_dose import _DOSE_UNIT_RE as _DOSE_UNIT_RE
from .time_and_dose import _EVERY_NUMBER as _EVERY_NUMBER
from .time_and_dose import _EVERY_OTHER as _EVERY_OTHER
from .time_and_dose import _EVERY_UNIT as _EVERY_UNIT
from .time_and_dose import _FREQUENCY_WORDS as _FREQUENCY_WORDS
from .time_and_dose import _HOUR as _HOUR
from .time_and_dose import _MASS_MG as _MASS_MG
from .time_and_dose import _MINUTE as _MINUTE
from .time_and_dose import _MONTH as _MONTH
from .time_and_dose import _NUMBER as _NUMBER
from .time_and_dose import _NUMBER_RE as _NUMBER_RE
from .time_and_dose import _SECOND as _SECOND
from .time_and_dose import _TIME_WORDS as _TIME_WORDS
from .time_and_dose import _WEEK as _WEEK
from .time_and_dose import _YEAR as _YEAR
from .time_and_dose import (
    DAY_D,
    DOSE_UNITS,
    HOUR_D,
    LONGEST_D,
    MINUTE_D,
    MONTH_D,
    WEEK_D,
    YEAR_D,
    dose_unit,
    format_dose,
    format_duration,
    parse_dose,
    parse_duration,
    parse_interval,
    time_unit_days,
)
from .time_and_dose import SECOND_D as SECOND_D
from .time_and_dose import _bad_dose_unit as _bad_dose_unit
from .time_and_dose import _dose_unit as _dose_unit
from .time_and_dose import _norm as _norm
from .time_and_dose import _plural as _plural
from .time_and_dose import _q as _q
from .time_and_dose import _times as _times
from .time_and_dose import _whole as _whole
from .time_and_dose import split_number as split_number

__all__ = [
    "split_number",
    "MINUTE_D",
    "HOUR_D",
    "DAY_D",
    "WEEK_D",
    "MONTH_D",
    "YEAR_D",
    "LONGEST_D",
    "DOSE_UNITS",
    "INTERNAL_UNITS",
    "UNIT_KINDS",
    "parse_duration",
    "parse_interval",
    "parse_dose",
    "dose_unit",
    "parse_count",
    "parse_weight",
    "parse_height",
    "time_unit_days",
    "convert",
    "format_duration",
    "format_dose",
]
