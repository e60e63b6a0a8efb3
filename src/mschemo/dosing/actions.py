"""The words of a dosing decision, in one place.

A rule that fails does one of :data:`RULE_ACTIONS`; a decision is one of :data:`ACTIONS`; the
decisions table records each action in the past tense (:data:`RECORDED`); a check of one rule ends in
one of :data:`STATUSES`.
"""

from __future__ import annotations

__all__ = ["ACTIONS", "RULE_ACTIONS", "RECORDED", "GIVEN", "REFUSED", "STATUSES", "recorded"]

#: what a decision may be, with what it means
ACTIONS: dict[str, str] = {
    "give": "give the course as planned",
    "reduce": "give the course at a lower dose (titration)",
    "increase": "give the course at a higher dose (titration)",
    "delay": "not yet: re-check after the rule's interval",
    "withhold": "skip this course",
    "stop": "no further course",
}
#: what a failing rule may do (``action`` in a drug file)
RULE_ACTIONS = ("delay", "withhold", "stop")
#: an action as the decisions table records it
RECORDED: dict[str, str] = {"give": "given", "reduce": "reduced", "increase": "increased", "delay": "delayed",
                            "withhold": "withheld", "stop": "stopped"}
#: recorded actions of a course that was given
GIVEN = ("given", "reduced", "increased")
#: recorded actions of a course that was not given and will not be
REFUSED = ("withheld", "stopped")
#: the outcome of one rule's check: met, not met, or a measurement to make before the dose
STATUSES = ("pass", "fail", "to-check")


def recorded(action: str) -> str:
    """The decisions table's word for ``action`` ("give" -> "given")."""
    return RECORDED[action]
