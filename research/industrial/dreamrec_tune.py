"""Tune DreamRec on Industrial's validation split (issue 35), for PtE's DreamRec rows.

A small grid (learning rate x guidance weight x dropout) of plain DreamRec trained on the
training interactions with early stopping on validation NDCG@10; the best setting is what
``research/industrial/pte_train.sh`` passes to PtE (``backbone_params``). Test is never read.
Writes ``runs/industrial/pte/dreamrec_tuning.json`` (every setting and its validation NDCG@10).

    OMP_NUM_THREADS=1 .venv/bin/python research/industrial/dreamrec_tune.py
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from profilerec.atomic import write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.methods.backbones.dreamrec import (
    DreamRecConfig,
    train_dreamrec,
    valid_ndcg,
    validation_set,
)

DATA = Path("runs/industrial/data")
OUT = Path("runs/industrial/pte/dreamrec_tuning.json")
GRID = {"lr": [1e-3, 5e-3], "guidance_w": [0.0, 2.0, 6.0], "dropout": [0.1, 0.5]}


def main() -> None:
    ds = Dataset.load(DATA)
    valid = validation_set(ds)
    done = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    seen = {json.dumps(r["params"], sort_keys=True) for r in done["runs"]}
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        if json.dumps(params, sort_keys=True) in seen:
            continue
        t0 = time.time()
        model = train_dreamrec(
            ds, DreamRecConfig(**params, epochs=200, patience=5, threads=1), progress=True
        )
        score = valid_ndcg(model.score_histories, *valid)
        done["runs"].append({"params": params, "valid_ndcg@10": score, "seconds": time.time() - t0})
        print(params, round(score, 4), flush=True)
        done["best"] = max(done["runs"], key=lambda r: r["valid_ndcg@10"])
        write_text_atomic(OUT, json.dumps(done, indent=2))
    print("best", done["best"])


if __name__ == "__main__":
    main()
