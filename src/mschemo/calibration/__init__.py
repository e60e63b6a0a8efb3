"""Calibration of drug-effect parameters to published clinical facts (targets) and their checks."""

from .targets import FITTED, TARGETS, Scenario, Target

__all__ = ["FITTED", "TARGETS", "Scenario", "Target"]
