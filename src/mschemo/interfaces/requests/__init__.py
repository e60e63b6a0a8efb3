"""Requests shared by the command line and the web app: what a person asked for, checked whole
before anything runs, and what to run.

>>> from mschemo.interfaces.requests import CLI, SimulateRequest
>>> job = SimulateRequest(drug="mitoxantrone", n="50", seed="1", disease=False).resolve(CLI)
>>> job.drug.name, job.n, job.rules().region
('mitoxantrone', 50, 'us')
"""

from .base import API, CLI, PLOT_SUFFIXES, TABLE_SUFFIXES, Request, Spelling
from .check import CheckJob, CheckRequest, CheckResult
from .disease import DiseaseJob, DiseaseRequest
from .explain import ExplainJob, ExplainRequest, other_treatments
from .personalise import EXAMPLE_PATIENTS, PersonaliseJob, PersonaliseRequest
from .simulate import DEFAULT_N, SimulateRequest, SimulationJob, UntreatedJob
from .timeline import TimelineJob, TimelineRequest
from .trial import DEFAULT_N_PER_ARM, TrialJob, TrialRequest

__all__ = ["CheckJob", "CheckRequest", "CheckResult", "ExplainJob", "ExplainRequest", "other_treatments", "API", "CLI", "PLOT_SUFFIXES", "TABLE_SUFFIXES", "Request", "Spelling", "DiseaseJob", "DiseaseRequest",
           "EXAMPLE_PATIENTS", "PersonaliseJob", "PersonaliseRequest", "DEFAULT_N", "SimulateRequest", "SimulationJob",
           "UntreatedJob", "TimelineJob", "TimelineRequest", "DEFAULT_N_PER_ARM", "TrialJob", "TrialRequest"]
