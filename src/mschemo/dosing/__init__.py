"""What may be given, decided the same way for simulated and real patients.

- :mod:`.rules`: the rules of a drug file as data (:class:`DosingRules`);
- :mod:`.courses`: courses of doses and the one conversion between mg, mg/m2 and mg/kg (:class:`BodySize`);
- :mod:`.decide`: the one interpreter, :func:`decide` (the facts before a course -> a :class:`Decision`);
- :mod:`.actions`: the words of a decision.
"""

from .actions import ACTIONS, GIVEN, RECORDED, REFUSED, RULE_ACTIONS, STATUSES
from .courses import DOSE_UNITS, BodySize, Course, capped, courses_of
from .decide import Check, Decision, PreDose, Reading, checklist, count_name, decide
from .rules import (
    COUNT_VALID_D,
    COVARIATE_VALID_D,
    RULE_KINDS,
    CountRule,
    CovariateRule,
    CumulativeCap,
    DosingRules,
    NadirTitration,
    TitrationBand,
    read_rules,
)

__all__ = ["ACTIONS", "GIVEN", "RECORDED", "REFUSED", "RULE_ACTIONS", "STATUSES", "DOSE_UNITS", "BodySize", "Course",
           "capped", "courses_of", "checklist", "Check", "Decision", "PreDose", "Reading", "count_name", "decide", "COUNT_VALID_D",
           "COVARIATE_VALID_D", "RULE_KINDS", "CountRule", "CovariateRule", "CumulativeCap", "DosingRules",
           "NadirTitration", "TitrationBand", "read_rules"]
