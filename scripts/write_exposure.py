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
from profilerec.errors import UserError
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import select_train_examples
from profilerec.methods.blue.validation import validation_sample
from profilerec.methods.exposure import exposure_frame, write_exposure
from profilerec.methods.rft.config import RFTConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    cfg: BlueConfig | RFTConfig
    for name, kind in (("blue_config.json", BlueConfig), ("rft_config.json", RFTConfig)):
        path = args.run / name
        if path.is_file():
            cfg = kind(**{**kind().to_dict(), **json.loads(path.read_text())})  # type: ignore[arg-type]
            break
    else:
        parser.error(f"{args.run} is not a training run (no blue_config.json or rft_config.json)")
    try:
        ds = Dataset.load(args.dataset)
    except UserError as err:
        parser.error(str(err))
    train = select_train_examples(
        ds, cfg.train_examples, one_per_user=cfg.one_per_user, seed=cfg.seed
    )
    valid = ds.split("valid").sort("example_id")
    valid = validation_sample(valid, cfg.eval_examples, cfg.eval_per_user, cfg.seed)
    frame = exposure_frame(ds, train, valid, future_items=cfg.future_items())
    path = write_exposure(args.run, frame)
    print(f"{path}: {frame.height} rows, {frame['user_id'].n_unique()} users")


if __name__ == "__main__":
    main()
