"""Validation and test NDCG@10 of single grid points of one ID baseline, one fit each.

Usage: python research/baselines/grid_points.py DATASET_DIR NAME '[{"lr": 0.01, "dropout": 0.5}, ...]'
For grids too slow for one ``evaluate`` process (SASRec on a loaded CPU): run points in
separate processes, pick the best on VALIDATION, then evaluate it with ``--untuned``.
Test NDCG@10 is printed for the report only; nothing here chooses by it.
"""

from __future__ import annotations

import json
import sys
import time

from profilerec.data.dataset import Dataset
from profilerec.recsys.baselines import build_baseline
from profilerec.recsys.sequences import sasrec_histories
from profilerec.recsys.tuning import Validation
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import rank_by_scores


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ds = Dataset.load(sys.argv[1])
    name, points = sys.argv[2], json.loads(sys.argv[3])
    test = ds.split("test").sort("example_id")
    histories, masks = sasrec_histories(ds, test), ds.seen_before(test)
    targets = [ds.item_index[i] for i in test["item_id"]]
    validation = Validation.of(ds)
    seeded = {"seed": 0} if name in ("popularity", "als", "bpr", "sasrec") else {}
    for point in points:
        start = time.time()
        model = build_baseline(name, **seeded, **point).fit(ds)
        ranked = rank_by_scores(
            lambda a, b, m=model: m.score(histories[a:b]), len(targets), targets, masks, k=10
        )
        row = {
            **point,
            "valid_ndcg@10": round(float(validation.ndcg10_per_user(model).mean()), 4),
            "test_ndcg@10": round(float(NDCG(10).per_user(ranked.target_ranks).mean()), 4),
            "seconds": round(time.time() - start, 1),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
