"""The HTML report: formatted values, marks, escaping, self-containment, optional sections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from profilerec.errors import UserError
from profilerec.report import write_report
from profilerec.report.plots import flatten_log
from profilerec.report.tables import comparisons_table, metric_columns, metrics_table
from profilerec.report.users import pick_examples

if TYPE_CHECKING:
    from tests.report.conftest import Inputs


@pytest.fixture(scope="module")
def full(full_report: Path) -> str:
    return full_report.read_text(encoding="utf-8")


def plain(inputs: Inputs, path: Path) -> str:
    return write_report(
        path,
        metrics=inputs.metrics,
        ranks=inputs.ranks,
        dataset=inputs.dataset,
        profiles=inputs.profiles,
        n_users=2,
        seed=3,
        date="2025-01-31",
    ).read_text(encoding="utf-8")


def metric_cells(html: str) -> dict[str, list[tuple[str, bool]]]:
    """Metrics table as method -> [(cell text without tags, bold?)]."""
    body = html.split('class="metrics"')[1].split("<tbody>")[1].split("</tbody>")[0]
    table = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        method = re.sub(r"<span class=\"tag\">.*?</span>|<[^>]+>", "", cells[0])
        table[method] = [(re.sub(r"<[^>]+>", "", c), "<strong>" in c) for c in cells[1:]]
    return table


def test_metric_cells_and_bold_best(full: str) -> None:
    labels = re.findall(r"<th>([^<]+)</th>", full.split('class="metrics"')[1].split("</thead>")[0])
    # ndcg@50 was not computed for anyone, so only Recall@50 appears at 50.
    assert labels == ["method", "Recall@10", "NDCG@10", "Recall@50", "MRR"]
    cells = metric_cells(full)
    assert list(cells) == ["popularity", "history_text", "zero_shot", "history+zero_shot"]
    # Bold: zero_shot on Recall@10 and @50, history_text on NDCG@10, popularity on MRR.
    assert cells["zero_shot"] == [
        ("0.0553 [0.031, 0.081]", True),
        ("0.0301 [0.015, 0.045]", False),
        ("0.1000 [0.050, 0.150]", True),
        ("0.0300 [0.015, 0.045]", False),
    ]
    assert cells["history_text"][1] == ("0.0800 [0.040, 0.120]", True)
    assert cells["popularity"][0] == ("0.0100 [0.005, 0.015]", False)
    assert cells["popularity"][3] == ("0.9000 [0.450, 1.350]", True)
    assert cells["history+zero_shot"][2] == ("–", False)
    assert sum(bold for row in cells.values() for _, bold in row) == 4


def test_metrics_table_model() -> None:
    metrics = {"a": {"recall@5": 0.2, "ndcg@5": 0.1, "hr@5": 0.2}, "b": {"recall@5": 0.2}}
    table = metrics_table({"metrics": metrics, "ci": {"a": {"recall@5": [0.1, 0.3]}}})
    assert table.columns == [("recall@5", "Recall@5"), ("ndcg@5", "NDCG@5")]
    (_, a), (_, b) = table.rows
    # Ties are all bold; a missing CI prints the mean alone; a missing metric a dash.
    assert [(c.text, c.best) for c in a] == [("0.2000 [0.100, 0.300]", True), ("0.1000", True)]
    assert [(c.text, c.best) for c in b] == [("0.2000", True), ("–", False)]
    assert (a[0].value, a[0].ci) == ("0.2000", "[0.100, 0.300]")
    many = {"m": {f"{p}@{k}": 0.0 for k in (50, 10, 20) for p in ("hr", "recall", "ndcg")}}
    assert [label for _, label in metric_columns({**many, "n": {"mrr": 0.1}})] == [
        "Recall@10", "NDCG@10", "Recall@20", "NDCG@20", "Recall@50", "NDCG@50", "MRR",
    ]  # fmt: skip


def test_comparisons(inputs: Inputs, full: str) -> None:
    rows = comparisons_table(inputs.metrics)
    assert [(r.mean_diff, r.ci, r.p_value, r.verdict) for r in rows] == [
        ("+0.0499", "[+0.0100, +0.0900]", "< 0.001", "better"),
        ("-0.0261", "[-0.0500, -0.0020]", "0.030", "worse"),
        ("-0.0001", "[-0.0100, +0.0100]", "0.951", ""),
    ]
    assert "Paired comparisons against zero_shot" in full
    assert '<td class="better">+0.0499</td>' in full
    # the power column; files written before it existed show it empty
    assert [r.detectable for r in rows] == ["±0.0283", "", ""]
    assert "<td>±0.0283</td>" in full


def test_model_text_is_escaped(full: str) -> None:
    assert "Likes &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; travel-size soap." in full
    assert "Soap &amp; Water &lt;travel size&gt;" in full  # item 7 is in u4's history
    assert "<script" not in full.lower()


def test_self_contained(full: str) -> None:
    assert "http://" not in full and "https://" not in full
    sources = re.findall(r'src="([^"]*)"', full)
    assert len(sources) == 3  # bars, rank histograms, training curves
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert re.search(r"<link|@import|url\(", full) is None


def test_users_side_by_side(full: str, inputs: Inputs) -> None:
    # All 6 users shown; zero_shot (rank 2) and history+zero_shot (rank 1) hit in the top 5,
    # popularity's rank 7 and history_text's 40 are outside it.
    n_users = len(inputs.titles)
    assert full.count('class="user"') == n_users
    assert full.count('<li class="hit"') == 2 * n_users
    u0 = inputs.titles["u0"]
    # the full title on hover (u0's target title holds no character HTML escapes)
    assert f'<li class="hit" title="{u0[-1]}"><span class="check">✓</span> {u0[-1]}</li>' in full
    boxes = full.split('<div class="top">')[1 : 1 + len(inputs.target_rank)]
    by_method = {b.split("<b>")[1].split("</b>")[0]: b for b in boxes}
    assert ">rank 7</span>" in by_method["popularity"] and "hit" not in by_method["popularity"]
    assert ">rank 40</span>" in by_method["history_text"]
    assert 'class="rank in"' in by_method["zero_shot"]
    # History: the last 10 of 13 earlier items, oldest first; 3 not shown.
    card = full.split('class="user"')[1]
    assert "3 earlier items not shown" in card
    shown = re.findall(r"<li[^>]*>(Item \d\d title|Soap[^<]*)</li>", card.split("<h4>Profiles")[0])
    assert shown == u0[3:-1]


def test_optional_sections(full: str, inputs: Inputs, tmp_path: Path) -> None:
    assert 'id="training"' in full and "blue: 4 logged steps" in full
    assert 'id="before-after"' in full and "true item rank 2 → 40" in full
    bare = plain(inputs, tmp_path / "a.html")
    assert 'id="training"' not in bare and 'href="#training"' not in bare
    assert 'id="before-after"' not in bare
    assert bare.count('class="user"') == 2
    # Same inputs, seed and date: byte-identical output (figures included).
    assert plain(inputs, tmp_path / "b.html") == bare


def test_pick_examples_is_seeded_and_respects_profiles(inputs: Inputs) -> None:
    partial = {"p": inputs.profiles["blue"].filter(pl.col("example_id") < 104)}
    picks = pick_examples(inputs.ranks, partial, 2, seed=5)
    assert len(picks) == 2 and set(picks) <= {100, 101, 102, 103}
    assert picks == pick_examples(inputs.ranks, partial, 2, seed=5)
    assert pick_examples(inputs.ranks, partial, 10, seed=5) == [100, 101, 102, 103]
    # Profiles of other examples only: fall back to any evaluated example.
    other = {"p": inputs.profiles["blue"].with_columns(pl.col("example_id") + 1000)}
    assert pick_examples(inputs.ranks, other, 10, seed=0) == list(range(100, 106))


def test_flatten_log() -> None:
    row = {"step": 3, "reward": 0.5, "reward_components": {"ndcg": 0.4, "fmt": 1}, "kl": 0.01,
           "note": "x", "done": True, "bad": float("nan")}  # fmt: skip
    assert flatten_log(row) == {
        "step": 3.0, "reward": 0.5, "reward/ndcg": 0.4, "reward/fmt": 1.0, "kl": 0.01,
    }  # fmt: skip


def test_user_mistakes(inputs: Inputs, tmp_path: Path) -> None:
    kwargs = {"ranks": inputs.ranks, "dataset": inputs.dataset}
    with pytest.raises(UserError, match="no 'metrics' table"):
        write_report(tmp_path / "r.html", metrics={"ci": {}}, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="lacks column"):
        write_report(
            tmp_path / "r.html", metrics=inputs.metrics, ranks=inputs.ranks.drop("top10"),
            dataset=inputs.dataset,
        )  # fmt: skip
    with pytest.raises(UserError, match="unknown profile set 'nope'"):
        write_report(
            tmp_path / "r.html", metrics=inputs.metrics, profiles=inputs.profiles,
            before_after=[("zero_shot", "nope")], **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip


def test_best_id_baseline_is_marked(inputs: Inputs, tmp_path: Path) -> None:
    assert "best ID baseline" not in plain(inputs, tmp_path / "a.html")
    marked = write_report(
        tmp_path / "b.html",
        metrics={**inputs.metrics, "best_id_baseline": "popularity"},
        ranks=inputs.ranks,
        dataset=inputs.dataset,
        n_users=1,
        date="2025-01-31",
    ).read_text(encoding="utf-8")
    rows = re.findall(
        r"<tr><td>(.*?)</td>", marked.split('class="metrics"')[1].split("</tbody>")[0]
    )
    tagged = [r for r in rows if '<span class="tag">best ID baseline</span>' in r]
    assert len(tagged) == 1 and tagged[0].startswith("popularity")
