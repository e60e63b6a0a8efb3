"""The MS disease model: relapses, their course, sites and symptoms, EDSS disability and symptom
burden, driven by the immune memory compartment that chemotherapy depletes and by the other
treatments (see model.simulate_disease)."""

from .disability import DisabilityModel, simulate_disability
from .immune import ImmuneModel, ImmuneRecord
from .model import DiseaseResult, Treatments, attach_disease, simulate_disease
from .relapse_course import relapse_courses
from .relapses import RelapseModel, immune_multiplier, simulate_relapses
from .symptoms import SymptomTimeline, SymptomTreatments, relapse_sites, symptom_timeline

__all__ = ["RelapseModel", "simulate_relapses", "immune_multiplier", "ImmuneModel", "ImmuneRecord", "relapse_courses", "DisabilityModel",
           "simulate_disability", "relapse_sites", "symptom_timeline", "SymptomTimeline", "SymptomTreatments",
           "Treatments", "DiseaseResult", "simulate_disease", "attach_disease"]
