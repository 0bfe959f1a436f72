"""``Profiler``: the core object that turns a user's history into a textual profile.

It owns the three things a profile depends on besides the model: the prompt template, the
history format and the decoding settings. Keeping them together is the point: a profiler
trained on compact prompts must be asked in the same format at test time, and before this
class only the CLI knew that (a Python user with an adapter silently got the default
format). ``Profiler.from_run`` reads all of it from a training run folder, and the
``profile`` command, the server and Python users go through the same object.

Modelled on sentence-transformers' ``SentenceTransformer``: build once (``from_spec``,
``from_run`` or the constructor around any ``Generator``), then ``profile`` one history or
``profile_many`` a dataset's examples (through the resumable stage in ``profile/stage.py``).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.data.text import HistoryEntry, render_history
from profilerec.llm.base import GenerationConfig, Generator, Messages
from profilerec.llm.prompts import load_template
from profilerec.profile.generators import load_generator
from profilerec.profile.prompts import HistoryFormat, check_profile_template, history_texts
from profilerec.profile.quality import trim_to_sentence
from profilerec.profile.runs import ProfilerRun
from profilerec.profile.stage import BatchRunner, LocalRunner, ProfileConfig, load_profiles


class Profiler:
    """A generator asked through one template, history format and decoding config."""

    def __init__(
        self,
        generator: Generator | BatchRunner,
        *,
        template: str | Path = "profile",
        history: HistoryFormat | None = None,
        generation: GenerationConfig | None = None,
        sentence_end: bool = True,
        run: ProfilerRun | None = None,
    ) -> None:
        """``generator``: any ``Generator`` (``load_generator``) or ``BatchRunner`` (Ray);
        ``run``: the training run of its adapter, whose exposure ``profile_many`` checks."""
        self.generator = generator
        self.template = str(template)  # the name or path, as the stage records it
        self._template = load_template(self.template)
        check_profile_template(self._template)  # a bad template fails before any generation
        self.history = history or HistoryFormat()
        self.generation = generation or GenerationConfig()
        self.sentence_end = sentence_end
        self.run = run

    @classmethod
    def from_spec(
        cls,
        spec: str = "transformers",
        *,
        template: str | Path = "profile",
        history: HistoryFormat | None = None,
        generation: GenerationConfig | None = None,
        batch_size: int = 16,
        dtype: str = "auto",
        device: str = "auto",
    ) -> Profiler:
        """An untrained profiler: the model ``spec`` names (``profilerec.llm.SPEC_FORMS``).
        A trained adapter goes through ``from_run``, which also knows its history format."""
        gen = load_generator(spec, batch_size=batch_size, dtype=dtype, device=device)
        return cls(gen, template=template, history=history, generation=generation)

    @classmethod
    def from_run(
        cls,
        run: str | Path,
        *,
        generator: str = "transformers",
        template: str | Path = "profile",
        history: HistoryFormat | None = None,
        generation: GenerationConfig | None = None,
        batch_size: int = 16,
        dtype: str = "auto",
        device: str = "auto",
    ) -> Profiler:
        """A trained profiler as ``profile --adapter RUN`` loads it: ``run`` is a ``profilerec
        train`` folder (its ``best_adapter/``, else ``adapter/``) or an adapter folder; the
        run's base model under its adapter, asked in the history format it trained on
        (``history`` overrides it), refusing in ``profile_many`` the examples it saw."""
        trained = ProfilerRun.read(run)
        fmt = history or trained.history_format()
        gen = load_generator(
            generator, adapter=trained.path, batch_size=batch_size, dtype=dtype, device=device
        )
        return cls(gen, template=template, history=fmt, generation=generation, run=trained)

    @property
    def model_id(self) -> str:
        return self.generator.model_id

    # -- one history -------------------------------------------------------------------

    def prompt(
        self, history: Sequence[str], dataset: Dataset | None = None, user_id: str | None = None
    ) -> Messages:
        """The chat prompt for a history, oldest first.

        Without ``dataset`` each entry is an item's text as shown. With it, an entry that is
        a catalogue ``item_id`` shows its title (any other string is shown as given), and
        with ``user_id`` also that user's rating and review of it, as ``profile_many``
        shows them. Only the given history reaches the prompt.
        """
        if dataset is None:
            text = render_history(
                [HistoryEntry(title=t) for t in history],
                max_items=self.history.max_items,
                item_chars=self.history.item_chars,
                snippet_chars=self.history.snippet_chars,
                with_reviews=False,
            )
        else:  # one examples-shaped row, so the stage's renderer serves (reviews included)
            row = pl.DataFrame(
                {"example_id": [0], "user_id": [user_id], "history": [list(history)]},
                schema={
                    "example_id": pl.Int64,
                    "user_id": pl.String,
                    "history": pl.List(pl.String),
                },
            )
            text = history_texts(dataset, row, self.history)[0]
        return self._template.render(history=text)

    def profile(
        self, history: Sequence[str], dataset: Dataset | None = None, user_id: str | None = None
    ) -> str:
        """One profile for one history (``prompt`` says how it is shown), kept up to its
        last full sentence as the stage keeps it."""
        runner = (
            self.generator
            if isinstance(self.generator, BatchRunner)
            else LocalRunner(self.generator)
        )
        [(_, texts)] = list(
            runner.run([(0, [self.prompt(history, dataset, user_id)])], self.generation)
        )
        text = texts[0].strip()
        return trim_to_sentence(text) if self.sentence_end else text

    # -- a dataset's examples ------------------------------------------------------------

    def stage_config(
        self,
        *,
        method: str = "zero_shot",
        splits: Sequence[str] = ("test",),
        batch_size: int = 16,
        limit: int = 0,
        sample_users: int = 0,
        sample_seed: int = 0,
    ) -> ProfileConfig:
        """The profile stage's config (recorded as ``profile_config.json``) for this profiler."""
        return ProfileConfig(
            method=method,
            template=self.template,
            splits=tuple(dict.fromkeys(splits)),  # a split given twice counts once
            batch_size=batch_size,
            limit=limit,
            sample_users=sample_users,
            sample_seed=sample_seed,
            history=self.history,
            generation=self.generation,
            sentence_end=self.sentence_end,
        )

    def write(
        self,
        dataset: Dataset,
        out: str | Path,
        config: ProfileConfig,
        *,
        examples: pl.DataFrame | None = None,
        overwrite: bool = False,
        allow_exposed: bool = False,
        progress: bool = True,
    ) -> Path:
        """Write ``out/profiles.parquet`` through the resumable stage: ``config`` from
        ``stage_config`` (its selection applies unless ``examples`` are given). A killed
        run resumes; a rerun that would drop rows or change settings is refused unless
        ``overwrite``."""
        from profilerec.profile import stage  # looked up per call: tests interrupt it

        mine = self.stage_config()
        for name in ("template", "history", "generation", "sentence_end"):
            if getattr(config, name) != getattr(mine, name):
                raise ValueError(f"config.{name} is not this profiler's; use stage_config()")
        if self.run is not None:
            chosen = examples if examples is not None else stage.select_examples(dataset, config)
            note = self.run.check_exposure(chosen, allow=allow_exposed)
            if note:
                warnings.warn(note, stacklevel=2)
        return stage.run_profile(
            dataset,
            self.generator,
            out,
            config,
            examples=examples,
            overwrite=overwrite,
            progress=progress,
        )

    def profile_many(
        self,
        dataset: Dataset,
        examples: pl.DataFrame | None = None,
        *,
        out: str | Path | None = None,
        method: str = "zero_shot",
        batch_size: int = 16,
        overwrite: bool = False,
        allow_exposed: bool = False,
        progress: bool = False,
    ) -> pl.DataFrame:
        """One profile per row of ``examples`` (rows of ``dataset.examples``; default its
        test split), as a profiles frame (``example_id``, ``user_id``, ``profile``, ...).

        With ``out`` the profiles are written there and a rerun resumes; without, the stage
        works in a temporary folder.
        """
        if examples is None:
            examples = dataset.split("test")
        splits = sorted(examples["split"].unique()) if "split" in examples.columns else ["test"]
        config = self.stage_config(method=method, splits=splits, batch_size=batch_size)
        with tempfile.TemporaryDirectory(prefix="profilerec-") as tmp:
            path = self.write(
                dataset,
                tmp if out is None else out,
                config,
                examples=examples,
                overwrite=overwrite,
                allow_exposed=allow_exposed,
                progress=progress,
            )
            return load_profiles(path)
