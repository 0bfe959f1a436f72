"""``profilerec run EXPERIMENT.yaml``: a whole comparison from one file (config + runner)."""

from profilerec.experiment.config import Experiment, load_experiment
from profilerec.experiment.runner import run_experiment

__all__ = ["Experiment", "load_experiment", "run_experiment"]
