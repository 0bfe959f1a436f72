# The public API as type checkers see it; __init__.py imports each name on first use.
# tests/test_readme.py holds these names equal to __init__.py's _EXPORTS.
from profilerec.api import prepare as prepare
from profilerec.data.dataset import Dataset as Dataset
from profilerec.data.prepare_config import PrepareConfig as PrepareConfig
from profilerec.embed import load_embedder as load_embedder
from profilerec.evaluate import evaluate as evaluate
from profilerec.evaluate.stage import EvaluateConfig as EvaluateConfig
from profilerec.llm.base import GenerationConfig as GenerationConfig
from profilerec.profile.generators import load_generator as load_generator
from profilerec.profile.profiler import Profiler as Profiler
from profilerec.profile.prompts import HistoryFormat as HistoryFormat
from profilerec.profile.runs import ProfilerRun as ProfilerRun
from profilerec.recsys.baselines import build_baseline as build_baseline

__version__: str
__all__: list[str]
