"""Report sections from training runs: PtE's per-slice tables and ProEx's profile diversity."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from profilerec.errors import DataError, UserError
from profilerec.report import build_from_dirs, write_report

if TYPE_CHECKING:
    from tests.report.conftest import Inputs

# Hand-made, as a PtE run writes it: "overall" (left out of the report), a slice with
# n = 0 and empty tables, and sasrec+pte lacking NDCG@10 in tail_users.
SLICES: dict[str, Any] = {
    "overall": {
        "n": 6,
        "metrics": {"sasrec": {"recall@10": 0.7777, "ndcg@10": 0.6666}},
        "ci": {"sasrec": {"recall@10": [0.7, 0.8], "ndcg@10": [0.6, 0.7]}},
        "comparisons": [],
    },
    "cold_users": {
        "n": 3,
        "metrics": {
            "sasrec": {"recall@10": 0.1, "ndcg@10": 0.05, "recall@20": 0.9, "mrr": 0.04},
            "sasrec+pte": {"recall@10": 0.12345, "ndcg@10": 0.0432, "recall@20": 0.95},
        },
        "ci": {
            "sasrec": {"recall@10": [0.02, 0.18], "ndcg@10": [0.011, 0.09]},
            "sasrec+pte": {"recall@10": [0.05, 0.2], "ndcg@10": [0.0204, 0.0661]},
        },
        "comparisons": [
            {
                "method": "sasrec+pte",
                "reference": "sasrec",
                "metric": "ndcg@10",
                "mean_diff": -0.0068,
                "ci": [-0.02, 0.01],
                "p_value": 0.4,
            }
        ],
    },
    "tail_items": {"n": 0, "metrics": {}, "ci": {}, "comparisons": []},
    "tail_users": {
        "n": 1234,
        "metrics": {"sasrec": {"recall@10": 0.2, "ndcg@10": 0.3}, "sasrec+pte": {"recall@10": 0.4}},
        "ci": {"sasrec": {"recall@10": [0.1, 0.3]}},
        "comparisons": [],
    },
}
DIVERSITY = {
    "k": 3,
    "embedder": "tiny-embedder",
    "user_mean_pairwise_cosine": 0.81234,
    "item_mean_pairwise_cosine": 0.45671,
}


def write_run(run: Path, inputs: Inputs, slices: Any = None, **metrics: Any) -> Path:
    """A run folder with metrics.json (``metrics`` added) and ranks.parquet, plus
    slices.json if given (a string is written as is)."""
    run.mkdir(parents=True, exist_ok=True)
    (run / "metrics.json").write_text(json.dumps({**inputs.metrics, **metrics}))
    inputs.ranks.write_parquet(run / "ranks.parquet")
    if slices is not None:
        text = slices if isinstance(slices, str) else json.dumps(slices)
        (run / "slices.json").write_text(text)
    return run


def build(run: Path, inputs: Inputs) -> str:
    out = build_from_dirs(run, inputs.dataset.root, n_users=1, date="2025-01-31")
    return out.read_text(encoding="utf-8")


def slice_block(html: str, name: str) -> str:
    """The part of the slices section from ``name``'s heading to the next slice's."""
    section = html.split('<section id="slices">')[1].split("</section>")[0]
    return section.split(f"<h3>{name} ")[1].split("<h3>")[0]


def rows(block: str) -> dict[str, list[tuple[str, bool]]]:
    """A table as method -> [(cell text without tags, bold?)]."""
    table = {}
    for row in re.findall(r"<tr>(.*?)</tr>", block.split("<tbody>")[1], flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        table[cells[0]] = [(re.sub(r"<[^>]+>", "", c), "<strong>" in c) for c in cells[1:]]
    return table


@pytest.fixture(scope="module")
def html(inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> str:
    run = tmp_path_factory.mktemp("pte_proex") / "run"
    return build(write_run(run, inputs, slices=SLICES, diversity=DIVERSITY), inputs)


def test_one_table_per_slice_but_overall(html: str) -> None:
    section = html.split('<section id="slices">')[1].split("</section>")[0]
    assert re.findall(r"<h3>(\w+) ", section) == ["cold_users", "tail_items", "tail_users"]
    assert "0.7777" not in html  # overall's numbers: the main table covers it
    assert '<a href="#slices">Slices</a>' in html
    # Placed after the main metrics table, before the comparisons.
    assert html.index('id="metrics"') < html.index('id="slices"') < html.index('id="comparisons"')


def test_slice_numbers_and_ci(html: str) -> None:
    cold = slice_block(html, "cold_users")
    assert "n = 3 test examples" in cold and "cold start" in cold
    assert re.findall(r"<th>([^<]+)</th>", cold) == ["method", "Recall@10", "NDCG@10"]
    assert rows(cold) == {
        "sasrec": [("0.1000 [0.020, 0.180]", False), ("0.0500 [0.011, 0.090]", True)],
        "sasrec+pte": [("0.1235 [0.050, 0.200]", True), ("0.0432 [0.020, 0.066]", False)],
    }
    tail = slice_block(html, "tail_users")
    assert "n = 1,234 test examples" in tail
    # A missing CI prints the mean alone, a missing metric a dash.
    assert rows(tail) == {
        "sasrec": [("0.2000 [0.100, 0.300]", False), ("0.3000", True)],
        "sasrec+pte": [("0.4000", True), ("–", False)],
    }


def test_empty_slice_says_so(html: str) -> None:
    empty = slice_block(html, "tail_items")
    assert "n = 0 test examples" in empty
    assert "No test examples fall in this slice." in empty
    assert "<table" not in empty


def test_profile_diversity(html: str) -> None:
    section = html.split('<section id="diversity">')[1].split("</section>")[0]
    assert "mean pairwise cosine of the K = 3 embeddings; 1.0 = collapsed" in section
    assert rows(section) == {"users": [("0.8123", False)], "items": [("0.4567", False)]}
    assert '<a href="#diversity">Profile diversity</a>' in html


def test_diversity_of_one_side_only(inputs: Inputs, tmp_path: Path) -> None:
    # Items not profiled: no items row. K = 1 (no pairs) for both: no section at all.
    one_side = {"k": 2, "user_mean_pairwise_cosine": 1.0, "item_mean_pairwise_cosine": None}
    page = build(write_run(tmp_path / "a", inputs, diversity=one_side), inputs)
    section = page.split('<section id="diversity">')[1].split("</section>")[0]
    assert rows(section) == {"users": [("1.0000", False)]}
    single = {"k": 1, "user_mean_pairwise_cosine": None, "item_mean_pairwise_cosine": None}
    assert 'id="diversity"' not in build(
        write_run(tmp_path / "b", inputs, diversity=single), inputs
    )


def test_no_files_no_sections(inputs: Inputs, tmp_path: Path) -> None:
    page = build(write_run(tmp_path / "run", inputs), inputs)
    assert 'id="slices"' not in page and 'href="#slices"' not in page
    assert 'id="diversity"' not in page and 'href="#diversity"' not in page
    # metrics.json as run_proex writes it when given no diversity.
    page = build(write_run(tmp_path / "proex", inputs, diversity=None), inputs)
    assert 'id="diversity"' not in page


@pytest.mark.parametrize(
    ("slices", "message"),
    [
        ('{"cold_users": {"n": 3,\n', r"slices\.json:2: not JSON"),
        ("[1, 2]", r"slices\.json: expected an object of slice name"),
        ({"cold_users": 3}, r"slices\.json: slice 'cold_users' is not an object"),
        ({"cold_users": {"metrics": {}}}, r"slice 'cold_users': 'n' must be a non-negative integer, got None"),
        ({"tail_users": {"n": -1}}, r"'n' must be a non-negative integer, got -1"),
        ({"tail_users": {"n": "5"}}, r"'n' must be a non-negative integer, got '5'"),
        (
            {"cold_users": {"n": 3, "metrics": {"sasrec": {"recall@10": "0.1"}}}},
            r"slice 'cold_users': 'metrics' of method 'sasrec': 'recall@10' is not a number",
        ),
        (
            {"cold_users": {"n": 3, "metrics": {"sasrec": [0.1]}}},
            r"'metrics' of method 'sasrec': not an object",
        ),
        (
            {"cold_users": {"n": 3, "metrics": {}, "ci": {"sasrec": {"ndcg@10": [0.1]}}}},
            r"'ci' of method 'sasrec': 'ndcg@10' is not a \[lo, hi\] pair",
        ),
    ],
)  # fmt: skip
def test_malformed_slices(inputs: Inputs, tmp_path: Path, slices: Any, message: str) -> None:
    run = write_run(tmp_path / "run", inputs, slices=slices)
    with pytest.raises(DataError, match=message) as err:
        build_from_dirs(run, inputs.dataset.root)
    assert err.value.path == str(run / "slices.json")
    assert not (run / "report.html").exists()


def test_malformed_diversity(inputs: Inputs, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", inputs, diversity={"user_mean_pairwise_cosine": "high"})
    with pytest.raises(DataError, match=r"metrics\.json: 'diversity': user_mean_pairwise_cosine"):
        build_from_dirs(run, inputs.dataset.root)
    run = write_run(tmp_path / "list", inputs, diversity=[0.5])
    with pytest.raises(DataError, match=r"metrics\.json: 'diversity' must be an object"):
        build_from_dirs(run, inputs.dataset.root)


def test_write_report_checks_slices(inputs: Inputs, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^slices: slice 'x': 'n' must be"):
        write_report(
            tmp_path / "r.html", metrics=inputs.metrics, ranks=inputs.ranks,
            dataset=inputs.dataset, slices={"x": {"n": 1.5}},
        )  # fmt: skip
