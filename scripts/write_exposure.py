"""Write RUN/exposure.parquet for a training run made before runs recorded it.

Usage: python scripts/write_exposure.py RUN DATASET_DIR
Rebuilds the run's training examples and validation sample from its saved config with the
same functions ``train`` uses, so ``profile --adapter RUN`` can refuse leaked examples.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from profilerec.data.dataset import Dataset
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import select_train_examples
from profilerec.methods.blue.trainer import _future_items
from profilerec.methods.blue.validation import validation_sample
from profilerec.methods.exposure import exposure_frame, write_exposure
from profilerec.methods.rft.config import RFTConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    ds = Dataset.load(args.dataset)
    if (args.run / "blue_config.json").is_file():
        data = json.loads((args.run / "blue_config.json").read_text())
        cfg: BlueConfig | RFTConfig = BlueConfig(**{**BlueConfig().to_dict(), **data})
        future = _future_items(cfg)
    else:
        data = json.loads((args.run / "rft_config.json").read_text())
        cfg = RFTConfig(**{**RFTConfig().to_dict(), **data})
        future = cfg.n_positives
    train = select_train_examples(
        ds, cfg.train_examples, one_per_user=cfg.one_per_user, seed=cfg.seed
    )
    valid = ds.split("valid").sort("example_id")
    valid = validation_sample(valid, cfg.eval_examples, cfg.eval_per_user, cfg.seed)
    frame = exposure_frame(ds, train, valid, future_items=future)
    path = write_exposure(args.run, frame)
    print(f"{path}: {frame.height} rows, {frame['user_id'].n_unique()} users, future {future}")


if __name__ == "__main__":
    main()
