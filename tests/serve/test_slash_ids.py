"""A user id holding "/" is listed and served (issue 32: the list named a user that its own
``GET /v1/users/{id}`` could not open)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from _datasets import write_dataset
from _embedders import AXES, KeywordEmbedder
from serve.conftest import running


def test_a_user_id_with_a_slash_is_served(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    from profilerec.serve.app import create_app
    from profilerec.serve.load import build_state

    seqs = {"shop/42": ["lipstick", "shampoo", "socks", "tent"], "u2": ["coffee", "guitar", "tent"]}
    ds = write_dataset(tmp_path / "data", seqs, catalogue=AXES, with_valid=False)
    state = build_state(ds.root, KeywordEmbedder(), generator=None)
    with running(create_app(lambda: state)) as base:
        listed = httpx.get(f"{base}/v1/users").json()
        users = listed["users"] if isinstance(listed, dict) else listed
        assert "shop/42" in str(users)
        for path in (quote("shop/42", safe=""), "shop/42"):
            body = httpx.get(f"{base}/v1/users/{path}").json()
            assert body["user_id"] == "shop/42", body
            recs = httpx.get(f"{base}/v1/users/{path}/recommendations", params={"k": 2})
            assert recs.status_code == 200 and len(recs.json()["items"]) == 2, recs.text
        assert httpx.get(f"{base}/v1/users/u2").json()["user_id"] == "u2"
        assert httpx.get(f"{base}/v1/users/nobody/recommendations").status_code == 404
