"""The report's verdict paragraph, fused-method labels and the table against the best ID
baseline, checked on the rendered HTML."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from profilerec.report import write_report
from profilerec.report.verdict import NON_LLM_METHODS, is_llm_method, method_label, verdict

if TYPE_CHECKING:
    from tests.report.conftest import Inputs


def demo_like(inputs: Inputs) -> dict[str, Any]:
    """The shape of the demo's metrics.json: sasrec best ID (untuned), hybrid wins."""
    values = {
        "sasrec": {"ndcg@10": 0.0712, "recall@10": 0.11},
        "itemknn": {"ndcg@10": 0.0601, "recall@10": 0.10},
        "mean_history": {"ndcg@10": 0.0401, "recall@10": 0.07},
        "hybrid": {"ndcg@10": 0.0755, "recall@10": 0.12},
        "zero_shot": {"ndcg@10": 0.0432, "recall@10": 0.08},
        "history+zero_shot": {"ndcg@10": 0.0500, "recall@10": 0.09},
        "hybrid+zero_shot": {"ndcg@10": 0.0701, "recall@10": 0.115},
    }
    ci = {m: {k: [v * 0.5, v * 1.5] for k, v in vals.items()} for m, vals in values.items()}

    def cmp(method: str, metric: str, diff: float, lo: float, hi: float, p: float) -> dict:
        return {"method": method, "reference": "sasrec", "metric": metric, "mean_diff": diff,
                "ci": [lo, hi], "p_value": p, "detectable": 0.02}  # fmt: skip

    vs = [
        cmp("itemknn", "ndcg@10", -0.0111, -0.03, 0.01, 0.31),
        cmp("hybrid", "ndcg@10", 0.0043, 0.001, 0.008, 0.012),
        cmp("zero_shot", "ndcg@10", -0.0280, -0.055, -0.0004, 0.046),
        cmp("zero_shot", "recall@10", -0.03, -0.06, 0.0, 0.05),
        cmp("history+zero_shot", "ndcg@10", -0.0212, -0.05, 0.007, 0.14),
        cmp("hybrid+zero_shot", "ndcg@10", -0.0011, -0.01, 0.008, 0.77),
    ]
    hybrid = lambda text, w: {"id_model": "sasrec", "text_method": text,  # noqa: E731
                              "chosen": {"weight": w}, "valid_ndcg@10": 0.05}  # fmt: skip
    return {
        **inputs.metrics,
        "metrics": values,
        "ci": ci,
        "comparisons": [],
        "best_id_baseline": "sasrec",
        "comparisons_vs_best_id": vs,
        "tuning": {
            "sasrec": {"chosen": {}, "valid_ndcg@10": 0.06},
            "itemknn": {"chosen": {"k": 50}, "valid_ndcg@10": 0.05},
            "hybrid": hybrid("mean_history", 0.2),
            "hybrid+zero_shot": hybrid("zero_shot", 0.5),
        },
        "config": {"tune": True, "untuned": ["sasrec"]},
    }


def render(inputs: Inputs, metrics: dict[str, Any], path: Path) -> str:
    ranks = pl.concat(
        [inputs.ranks.filter(pl.col("method") == "zero_shot").with_columns(method=pl.lit(m))
         for m in metrics["metrics"]]
    )  # fmt: skip
    return write_report(
        path,
        metrics=metrics,
        ranks=ranks,
        dataset=inputs.dataset,
        profiles=inputs.profiles,
        n_users=2,
        date="2025-01-31",
    ).read_text(encoding="utf-8")


def text_of(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_first_paragraph_is_the_verdict(inputs: Inputs, tmp_path: Path) -> None:
    page = render(inputs, demo_like(inputs), tmp_path / "r.html")
    main = page.split("<main>")[1].split("</header>")[1]
    first = text_of(re.search(r"<p[^>]*>(.*?)</p>", main, flags=re.S).group(1))  # type: ignore[union-attr]
    assert first.startswith(
        "Best method on test NDCG@10: hybrid(sasrec + mean_history, w=0.2) (0.0755)."
    )
    assert "Best ID baseline (highest validation NDCG@10 among the ID models): sasrec, " in first
    assert "at its defaults, test NDCG@10 0.0712 [0.0356, 0.1068]." in first
    # every LLM method with its difference, CI and p-value; no ID or non-LLM text method
    assert "zero_shot -0.0280 (95% CI [-0.0550, -0.0004], p = 0.046)" in first
    assert "history+zero_shot -0.0212 (95% CI [-0.0500, +0.0070], p = 0.140)" in first
    assert "hybrid(sasrec + zero_shot, w=0.5) -0.0011" in first
    assert "itemknn" not in first and "+0.0043" not in first
    assert "No LLM method is significantly above sasrec." in first


def test_fused_rows_are_labelled_and_untuned_tagged(inputs: Inputs, tmp_path: Path) -> None:
    page = render(inputs, demo_like(inputs), tmp_path / "r.html")
    body = page.split('class="metrics"')[1].split("</tbody>")[0]
    rows = [text_of(r) for r in re.findall(r"<tr><td>(.*?)</td>", body, flags=re.S)]
    assert "hybrid(sasrec + mean_history, w=0.2)" in rows
    assert "hybrid(sasrec + zero_shot, w=0.5)" in rows
    assert "sasrecbest ID baselineuntuned" in rows  # tags follow the name
    assert "itemknn" in rows  # tuned: no tag
    note = text_of(page.split('id="metrics"')[1].split("</p>")[0])
    assert "Fitted at their documented defaults, not tuned: sasrec" in note
    assert "among the tuned ID models" not in page


def test_table_against_the_best_id_baseline(inputs: Inputs, tmp_path: Path) -> None:
    page = render(inputs, demo_like(inputs), tmp_path / "r.html")
    section = page.split('id="vs-best-id"')[1].split("</section>")[0]
    assert "against the best ID baseline, sasrec" in section
    rows = [
        [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1], flags=re.S)
    ]
    assert len(rows) == 6
    assert rows[1][:3] == ["hybrid(sasrec + mean_history, w=0.2)", "ndcg@10", "+0.0043"]
    assert 'class="better"' in section and 'class="worse"' in section


def test_no_verdict_without_best_id(inputs: Inputs, tmp_path: Path) -> None:
    assert verdict(inputs.metrics) is None
    page = render(inputs, inputs.metrics, tmp_path / "r.html")
    assert 'id="verdict"' not in page  # no best ID baseline, no bundled-model profiles
    assert 'id="vs-best-id"' not in page


def test_significant_llm_method_is_named(inputs: Inputs) -> None:
    metrics = demo_like(inputs)
    for row in metrics["comparisons_vs_best_id"]:
        if row["method"] == "history+zero_shot":
            row.update(mean_diff=0.01, ci=[0.002, 0.02], p_value=0.01)
    found = verdict(metrics)
    assert found is not None
    assert found.sentences[-1] == "Significantly above sasrec: history+zero_shot."


def test_labels_and_kinds() -> None:
    from profilerec.evaluate.stage import BASE_METHODS, ID_METHODS
    from profilerec.report.verdict import ID_METHODS as REPORT_ID

    assert set(NON_LLM_METHODS) == set(BASE_METHODS) and set(REPORT_ID) == set(ID_METHODS)
    tuning = {"hybrid": {"id_model": "ease", "text_method": "mean_history",
                         "chosen": {"weight": 0.3}}}  # fmt: skip
    assert method_label("hybrid", tuning) == "hybrid(ease + mean_history, w=0.3)"
    assert method_label("hybrid", None) == "hybrid"
    assert not is_llm_method("hybrid", tuning) and not is_llm_method("history_text")
    assert is_llm_method("blue") and is_llm_method("history+blue") and is_llm_method("hybrid+x")


def test_bundled_model_caveat(inputs: Inputs, tmp_path: Path) -> None:
    plain = render(inputs, demo_like(inputs), tmp_path / "a.html")
    assert "SmolLM2-135M" not in plain
    bundled = {
        name: frame.with_columns(model_id=pl.lit("HuggingFaceTB/SmolLM2-135M-Instruct[bfloat16]"))
        for name, frame in inputs.profiles.items()
    }
    metrics = demo_like(inputs)
    ranks = pl.concat(
        [inputs.ranks.filter(pl.col("method") == "zero_shot").with_columns(method=pl.lit(m))
         for m in metrics["metrics"]]
    )  # fmt: skip
    page = write_report(
        tmp_path / "b.html", metrics=metrics, ranks=ranks, dataset=inputs.dataset,
        profiles=bundled, n_users=1, date="2025-01-31",
    ).read_text(encoding="utf-8")  # fmt: skip
    caveat = text_of(page.split('class="note caveat"')[1].split("</p>")[0])
    assert "Profiles blue, zero_shot were written by the bundled SmolLM2-135M" in caveat


def test_profile_quality_table(inputs: Inputs, tmp_path: Path) -> None:
    block = {"n": 253, "mean_words": 53.11, "cut_mid_sentence": 0.8775, "sameness": 0.41234,
             "invented_personal": 0.7431, "grounding": 0.589, "invented_example": "name: Alex Chen"}  # fmt: skip
    metrics = {**demo_like(inputs), "profile_quality": {"zero_shot": block}}
    page = render(inputs, metrics, tmp_path / "q.html")
    section = page.split('id="quality"')[1].split("</section>")[0]
    row = re.findall(r"<td>(.*?)</td>", section.split("<tbody>")[1])
    assert row == [
        "zero_shot",
        "253",
        "53.1",
        "87.8%",
        "74.3%",
        "0.412",
        "0.589",
        "name: Alex Chen",
    ]
    assert 'id="quality"' not in render(inputs, demo_like(inputs), tmp_path / "n.html")


def test_truncated_titles_show_their_full_text_on_hover(inputs: Inputs, tmp_path: Path) -> None:
    import shutil

    from profilerec.data.dataset import Dataset

    root = tmp_path / "long"
    shutil.copytree(inputs.dataset.root, root)
    items = pl.read_parquet(root / "items.parquet")
    long = "Soap " + "very " * 40 + "long title"
    items.with_columns(title=pl.lit(long)).write_parquet(root / "items.parquet")
    page = write_report(tmp_path / "r.html", metrics=inputs.metrics, ranks=inputs.ranks,
                        dataset=Dataset.load(root), n_users=1, date="2025-01-31").read_text()  # fmt: skip
    users = page.split('id="users"')[1]
    assert "very very" in users and f'title="{long}"' in users
    shown = re.findall(r'<li title="[^"]*">([^<]*)</li>', users)
    assert shown and all(t.endswith("…") and len(t) <= 100 for t in shown)
