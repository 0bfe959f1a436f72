"""``profilerec run EXPERIMENT.yaml``: the experiment file, read and checked before anything runs.

One YAML file describes a whole comparison (as Elliot and RecBole do), in blocks that map
onto the existing stages and their own config classes::

    dataset:
      source: demo                      # demo, a path, or {download: NAME, category: CAT}
      prepare: {format: amazon2023, k_core: 5, split: {kind: leave_last_out}}
    trainings:                          # optional; each is `train --method blue`
      blue: {config: examples/blue.yaml, set: {max_steps: 20}}
    profiles:                           # each is `profile`
      zero_shot: {generator: transformers, batch_size: 16, generation: {max_new_tokens: 64}}
      blue: {training: blue}            # the adapter of a training above
    evaluate:                           # `evaluate` over the profile sets
      embedder: sentence-transformers
      options: {untuned: [sasrec], baseline_params: {sasrec: {epochs: 60}}}
    report: true

Unknown keys and bad values are one-line errors naming the block, raised here, before any
model loads or any file is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from profilerec.configs import from_mapping, read_yaml_options
from profilerec.errors import UserError

TOP_KEYS = ("dataset", "trainings", "profiles", "evaluate", "report")
LOADING_KEYS = ("generator", "adapter", "training", "dtype", "device")


@dataclass(frozen=True)
class ProfileBlock:
    """One profile set: how to load its generator, and the profile stage's config."""

    name: str
    generator: str
    adapter: str | None
    training: str | None
    dtype: str
    device: str
    config: Any  # ProfileConfig
    raw: dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    path: Path
    out: Path
    source: str | dict[str, str]
    prepare: Any  # PrepareConfig
    trainings: dict[str, Any]  # name -> BlueConfig
    profiles: dict[str, ProfileBlock]
    embedder: str
    evaluate: Any | None  # EvaluateConfig
    evaluate_sets: tuple[str, ...]
    report: bool
    raw: dict[str, Any] = field(default_factory=dict)
    #: none or tensorboard: the metrics table also to OUT/tensorboard/eval.
    eval_report_to: str = "none"


def load_experiment(path: str | Path, out: str | Path) -> Experiment:
    """Read and check ``path``, an experiment that writes into the folder ``out``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"experiment file {path} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc})") from None
    _mapping(data, str(path), TOP_KEYS)
    base = path.parent
    source, prepare = _dataset(data.get("dataset"), f"{path}: dataset")
    trainings = {
        name: _training(block, f"{path}: trainings.{name}", base)
        for name, block in _mapping(data.get("trainings") or {}, f"{path}: trainings").items()
    }
    profiles = {
        name: _profile(name, block, f"{path}: profiles.{name}", trainings)
        for name, block in _mapping(data.get("profiles") or {}, f"{path}: profiles").items()
    }
    embedder, evaluate, sets, eval_report_to = _evaluate(
        data.get("evaluate"), f"{path}: evaluate", profiles
    )
    report = data.get("report", evaluate is not None)
    if not isinstance(report, bool):
        raise UserError(f"{path}: report must be true or false, got {report!r}")
    if report and evaluate is None:
        raise UserError(f"{path}: report: true needs an evaluate block")
    return Experiment(
        path, Path(out), source, prepare, trainings, profiles, embedder, evaluate, sets,
        report, data, eval_report_to,
    )  # fmt: skip


def _mapping(data: Any, where: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of key: value")
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise UserError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
    return data


def _tuples(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """YAML lists where a config holds tuples (its defaults are tuples)."""
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    return {
        k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v
        for k, v in data.items()
    }


def _dataset(block: Any, where: str) -> tuple[str | dict[str, str], Any]:
    from profilerec.data.prepare import PrepareConfig
    from profilerec.data.readers import ReadOptions
    from profilerec.data.splits import SplitConfig

    if block is None:
        raise UserError(f"{where}: required (source: demo, a path, or {{download: NAME}})")
    block = _mapping(block, where, ("source", "prepare"))
    source = block.get("source")
    if isinstance(source, dict):
        _mapping(source, f"{where}.source", ("download", "category"))
        from profilerec.data.registry import get_dataset

        spec = get_dataset(str(source.get("download")))
        source = {"download": spec.name, "category": spec.resolve(source.get("category"))}
    elif not isinstance(source, str) or not source:
        raise UserError(f"{where}: source must be demo, a path, or {{download: NAME, category: C}}")
    prep = dict(_mapping(block.get("prepare") or {}, f"{where}.prepare"))
    split = from_mapping(SplitConfig, _mapping(prep.pop("split", {}), f"{where}.prepare.split"), f"{where}.prepare.split")  # fmt: skip
    read = from_mapping(ReadOptions, _mapping(prep.pop("read", {}), f"{where}.prepare.read"), f"{where}.prepare.read")  # fmt: skip
    config = from_mapping(PrepareConfig, prep | {"split": split, "read": read}, f"{where}.prepare")
    from profilerec.data.sanity import validate_config

    validate_config(config)
    return source, config


def _training(block: Any, where: str, base: Path) -> Any:
    from profilerec.methods.blue.config import BlueConfig

    block = _mapping(block, where, ("method", "config", "set"))
    if block.get("method", "blue") != "blue":
        raise UserError(f"{where}: method must be blue (the GRPO profiler trainer)")
    options: dict[str, Any] = {}
    if block.get("config"):
        options = read_yaml_options(relative_path(block["config"], base), "blue")
    options |= _mapping(block.get("set") or {}, f"{where}.set")
    return from_mapping(BlueConfig, _tuples(BlueConfig, options), where)


def relative_path(path: str, base: Path) -> Path:
    """A path as written, else relative to the experiment file (examples ship both ways)."""
    given = Path(path)
    return given if given.exists() or given.is_absolute() else base / given


def _profile(name: str, block: Any, where: str, trainings: dict[str, Any]) -> ProfileBlock:
    from profilerec.llm.base import GenerationConfig
    from profilerec.profile.prompts import HistoryFormat
    from profilerec.profile.stage import ProfileConfig

    block = dict(_mapping(block or {}, where))
    loading = {k: block.pop(k) for k in LOADING_KEYS if k in block}
    training = loading.get("training")
    if training is not None and training not in trainings:
        raise UserError(f"{where}: training {training!r} is not in trainings ({', '.join(trainings) or 'none'})")  # fmt: skip
    if training is not None and loading.get("adapter"):
        raise UserError(f"{where}: give adapter or training, not both")
    history = from_mapping(HistoryFormat, _mapping(block.pop("history", {}), f"{where}.history"), f"{where}.history")  # fmt: skip
    generation = from_mapping(GenerationConfig, _mapping(block.pop("generation", {}), f"{where}.generation"), f"{where}.generation")  # fmt: skip
    block.setdefault("method", name)
    config = from_mapping(
        ProfileConfig,
        _tuples(ProfileConfig, block) | {"history": history, "generation": generation},
        where,
    )
    return ProfileBlock(
        name,
        str(loading.get("generator", "transformers")),
        loading.get("adapter"),
        training,
        str(loading.get("dtype", "auto")),
        str(loading.get("device", "auto")),
        config,
        {**block, **loading, "history": dataclasses.asdict(history), "generation": dataclasses.asdict(generation)},
    )  # fmt: skip


def _evaluate(
    block: Any, where: str, profiles: dict[str, ProfileBlock]
) -> tuple[str, Any | None, tuple[str, ...], str]:
    from profilerec.evaluate.stage import EvaluateConfig

    if block is None:
        return "sentence-transformers", None, (), "none"
    block = _mapping(block, where, ("embedder", "profiles", "options", "report_to"))
    report_to = str(block.get("report_to", "none"))
    from profilerec.methods.tracking import check_evaluation_backends

    try:
        check_evaluation_backends(report_to)  # tensorboard, mlflow; installed
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    sets = tuple(block.get("profiles", list(profiles)))
    missing = [s for s in sets if s not in profiles]
    if missing:
        raise UserError(f"{where}: profiles {', '.join(missing)} are not in the profiles block")
    options = _mapping(block.get("options") or {}, f"{where}.options")
    config = from_mapping(EvaluateConfig, _tuples(EvaluateConfig, options), f"{where}.options")
    return str(block.get("embedder", "sentence-transformers")), config, sets, report_to
