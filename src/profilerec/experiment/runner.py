"""Run an experiment file as the existing stages, redoing only what changed.

Each stage writes its own folder under the experiment folder (``dataset/``, ``train/NAME``,
``profiles/NAME``, ``eval/``, ``eval/report.html``) through the stage's own function, so
its atomic writes, part files and checkpoints work as they do from the CLI. A stage's
*fingerprint* is a hash of its block and of the fingerprints of the stages it reads;
``experiment.json`` records the fingerprint each stage started and finished with:

- finished with the same fingerprint and its output there: skipped;
- started with the same fingerprint but not finished (a kill): rerun, and the stage
  resumes (profile part files, training checkpoints; prepare and evaluate are atomic);
- anything else (its block, or a block upstream, was edited): its folder is removed and
  the stage runs from scratch, and so does everything downstream of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from profilerec.errors import UserError
from profilerec.experiment.config import Experiment, relative_path

STATE = "experiment.json"


def fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _State:
    """``experiment.json``: the fingerprint each stage started and finished with."""

    def __init__(self, out: Path) -> None:
        self.path = out / STATE
        data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.started: dict[str, str] = data.get("started", {})
        self.finished: dict[str, str] = data.get("finished", {})

    def save(self) -> None:
        tmp = self.path.with_name(f".{STATE}.tmp")
        tmp.write_text(json.dumps({"started": self.started, "finished": self.finished}, indent=2))
        tmp.replace(self.path)


class Runner:
    """Runs the stages of one experiment; ``ran`` lists the stages that did work."""

    def __init__(self, exp: Experiment, console: Console | None = None) -> None:
        self.exp, self.out = exp, exp.out
        self.console = console or Console(stderr=True, markup=False)
        self.state: _State | None = None  # read once the folder is checked
        self.ran: list[str] = []
        self._embedder: Any = None

    def stage(self, name: str, fp: str, folder: Path, marker: str, work: Callable[[], Any]) -> None:
        assert self.state is not None
        done = self.state.finished.get(name) == fp and (folder / marker).is_file()
        if done:
            self.console.print(f"{name}: unchanged, kept ({folder})")
            return
        if folder.exists() and self.state.started.get(name) != fp and name != "report":
            shutil.rmtree(folder)  # written under other settings: never mixed with these
        self.console.rule(f"{name}")
        self.state.started[name] = fp
        self.state.finished.pop(name, None)
        self.state.save()
        work()
        self.state.finished[name] = fp
        self.state.save()
        self.ran.append(name)

    def embedder(self) -> Any:
        if self._embedder is None:
            from profilerec.cli.loaders import make_embedder

            self._embedder = make_embedder(self.exp.embedder)
        return self._embedder

    def run(self) -> dict[str, Any]:
        from profilerec.data.dataset import Dataset
        from profilerec.outputs import check_out

        exp = self.exp
        check_out(self.out, None)
        self.out.mkdir(parents=True, exist_ok=True)
        self.state = _State(self.out)
        (self.out / "experiment.yaml").write_text(exp.path.read_text())
        data_dir = self.out / "dataset"
        ds_fp = fingerprint(exp.source, dataclasses.asdict(exp.prepare))
        self.stage("dataset", ds_fp, data_dir, "manifest.json", lambda: self._prepare(data_dir))
        ds = Dataset.load(data_dir)
        train_fps: dict[str, str] = {}
        for name, cfg in exp.trainings.items():
            run = self.out / "train" / name
            train_fps[name] = fingerprint(ds_fp, cfg.to_dict(), exp.embedder)
            self.stage(f"train/{name}", train_fps[name], run, "train_summary.json",
                       lambda run=run, cfg=cfg: self._train(ds, run, cfg))  # fmt: skip
        sets: dict[str, Path] = {}
        set_fps: dict[str, str] = {}
        for name, block in exp.profiles.items():
            folder = self.out / "profiles" / name
            upstream = train_fps.get(block.training or "", "")
            set_fps[name] = fingerprint(ds_fp, block.raw, upstream)
            self.stage(f"profiles/{name}", set_fps[name], folder, "profiles.parquet",
                       lambda b=block, f=folder: self._profile(ds, b, f))  # fmt: skip
            sets[name] = folder
        if exp.evaluate is None:
            return {"ran": self.ran}
        eval_dir = self.out / "eval"
        chosen = {s: sets[s] for s in exp.evaluate_sets}
        eval_fp = fingerprint(ds_fp, dataclasses.asdict(exp.evaluate), exp.embedder,
                              {s: set_fps[s] for s in chosen}, exp.eval_report_to)  # fmt: skip
        self.stage("evaluate", eval_fp, eval_dir, "metrics.json",
                   lambda: self._evaluate(ds, eval_dir, chosen))  # fmt: skip
        if exp.report:
            self.stage("report", fingerprint(eval_fp), eval_dir, "report.html",
                       lambda: self._report(eval_dir, data_dir, chosen))  # fmt: skip
        return {"ran": self.ran, "eval": eval_dir}

    def _prepare(self, data_dir: Path) -> None:
        from profilerec.data.prepare import demo_source, prepare

        source = self.exp.source
        if source == "demo":
            path = demo_source()
        elif isinstance(source, dict):
            path = self._download(source)
        else:
            path = relative_path(source, self.exp.path.parent)
            if not path.exists():
                raise UserError(f"dataset source {source} not found")
        prepare(path, data_dir, self.exp.prepare)

    def _download(self, source: dict[str, str]) -> Path:
        from profilerec.data.download import DownloadOptions, download
        from profilerec.data.registry import get_dataset

        spec = get_dataset(source["download"])
        raw = self.out / "raw"
        entry = download(spec, source["category"], raw, DownloadOptions())
        return raw / entry["prepare"]["source"]

    def _train(self, ds: Any, run: Path, cfg: Any) -> None:
        from profilerec.methods.blue.trainer import train_blue

        train_blue(ds, self.embedder(), run, cfg)

    def _profile(self, ds: Any, block: Any, folder: Path) -> None:
        from profilerec.cli.loaders import make_generator
        from profilerec.profile.stage import run_profile

        adapter = self.out / "train" / block.training if block.training else block.adapter
        adapter = Path(adapter) if adapter else None
        gen = make_generator(
            block.generator, adapter, block.config.batch_size, block.dtype, block.device
        )
        run_profile(ds, gen, folder, block.config)

    def _evaluate(self, ds: Any, eval_dir: Path, chosen: dict[str, Path]) -> None:
        from profilerec.evaluate.stage import run_evaluate
        from profilerec.profile.stage import load_profiles

        assert self.exp.evaluate is not None
        frames = {name: load_profiles(path) for name, path in chosen.items()}
        result = run_evaluate(ds, self.embedder(), eval_dir, self.exp.evaluate, frames)
        from profilerec.methods.tracking import log_evaluation

        board = self.out / "tensorboard" / "eval"  # beside eval/, which evaluate owns
        if board.exists():
            shutil.rmtree(board)
        log_evaluation(result, self.exp.eval_report_to, board, mlflow_dir=self.out)

    def _report(self, eval_dir: Path, data_dir: Path, chosen: dict[str, Path]) -> None:
        from profilerec.profile.stage import load_profiles
        from profilerec.report import build_from_dirs

        options: dict[str, Any] = {"profiles": {n: load_profiles(p) for n, p in chosen.items()}}
        logs = {n: self.out / "train" / n / "train_log.jsonl" for n in self.exp.trainings}
        if any(p.is_file() for p in logs.values()):
            from profilerec.report import load_train_log

            options["train_logs"] = {n: load_train_log(p) for n, p in logs.items() if p.is_file()}
        build_from_dirs(eval_dir, data_dir, **options)


def run_experiment(exp: Experiment, console: Console | None = None) -> dict[str, Any]:
    """Run ``exp``; returns which stages did work and where the evaluation is. Trainings
    and the evaluation that log to MLflow share one store, ``OUT/mlruns`` (unless the user
    set ``MLFLOW_TRACKING_URI``)."""
    from profilerec.methods.tracking import shared_mlflow_store

    with shared_mlflow_store(exp.out):
        return Runner(exp, console).run()
