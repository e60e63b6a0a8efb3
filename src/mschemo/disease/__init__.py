"""The MS disease model: relapses (and, in later steps, symptoms, recovery and disability)."""

from .relapse_course import relapse_courses
from .relapses import RelapseModel, lymphocyte_multiplier, simulate_relapses

__all__ = ["RelapseModel", "simulate_relapses", "lymphocyte_multiplier", "relapse_courses"]
