"""Every route and every bad-input case, against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

KEY = {"X-API-Key": "sesame"}


@pytest.fixture(scope="module")
def client(server: str) -> httpx.Client:
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def user(client: httpx.Client) -> str:
    return client.get("/v1/users", params={"limit": 1}).json()["users"][0]


def test_health_ready_openapi_page(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["ready"] and ready["items"] == 356 and ready["users"] == 253
    paths = client.get("/openapi.json").json()["paths"]
    for route in (
        "/v1/users/{user_id}",
        "/v1/users/{user_id}/recommendations",
        "/v1/profiles",
        "/v1/recommendations",
        "/v1/items/{item_id}",
        "/health",
        "/ready",
    ):
        assert route in paths
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert (
        page.status_code == 200
        and "/static/app.js" in page.text
        and "http" not in page.text.split("<body>")[1].replace('href="/docs"', "")
    )
    assert client.get("/static/app.js").status_code == 200


def test_user_history_profiles_and_next_item(
    client: httpx.Client, user: str, state: object
) -> None:
    body = client.get(f"/v1/users/{user}").json()
    times = [h["timestamp"] for h in body["history"]]
    assert times == sorted(times) and times[-1] < body["next_item"]["timestamp"]
    assert [p["name"] for p in body["profiles"]] == ["zs"]
    assert {"model_id", "template", "generation", "example_id"} <= body["profiles"][0][
        "provenance"
    ].keys()
    # The stored profile is the one written from this history: same text as the set holds.
    assert body["profiles"][0]["profile"] == state.profile_sets["zs"].rows[user]["profile"]  # type: ignore[attr-defined]


def test_recommendations_for_every_method(client: httpx.Client, user: str, state: object) -> None:
    methods = client.get("/v1/methods").json()["user_methods"]
    assert {"zs", "history+zs", "hybrid+zs", "sasrec", "hybrid", "popularity"} <= set(methods)
    history = {h["item_id"] for h in client.get(f"/v1/users/{user}").json()["history"]}
    for method in methods:
        body = client.get(
            f"/v1/users/{user}/recommendations", params={"k": 7, "method": method}
        ).json()
        ids = [r["item_id"] for r in body["items"]]
        assert len(ids) == 7 and len(set(ids)) == 7, method
        scores = [r["score"] for r in body["items"]]
        assert scores == sorted(scores, reverse=True), method
        assert not (set(ids) & (history - {body["next_item_id"]})), (
            f"{method} recommends a seen item"
        )
        assert all(r["why"] for r in body["items"])
    pop = client.get(
        f"/v1/users/{user}/recommendations", params={"method": "popularity", "k": 3}
    ).json()
    assert pop["items"][0]["why"].endswith("training interactions")


def test_recommendation_matches_a_direct_ranking(
    client: httpx.Client, user: str, state: object
) -> None:
    """A profile set's method is cosine(profile vector, item vectors) with the history masked."""
    import torch
    import torch.nn.functional as F

    st = state
    row = st.user_row[user]  # type: ignore[attr-defined]
    vec = torch.from_numpy(st.outputs["zs"].vectors[row])  # type: ignore[attr-defined]
    scores = st.item_vecs @ F.normalize(vec, dim=0)  # type: ignore[attr-defined]
    target = st.targets[row]  # type: ignore[attr-defined]
    masked = [i for i in st.seen[row] if i != target]  # type: ignore[attr-defined]
    scores[masked] = -torch.inf
    expected = [st.ds.item_ids[i] for i in torch.topk(scores, 5).indices.tolist()]  # type: ignore[attr-defined]
    body = client.get(f"/v1/users/{user}/recommendations", params={"k": 5, "method": "zs"}).json()
    assert [r["item_id"] for r in body["items"]] == expected


def test_hybrid_is_the_z_scored_fusion_of_its_id_model_and_the_profile(
    client: httpx.Client, user: str, state: object
) -> None:
    """``hybrid+zs`` is evaluate's: its ID model's scores on the whole past fused with the
    profile's cosine at its weight; checked against a direct computation, named by its label."""
    import torch
    import torch.nn.functional as F

    from profilerec.recsys.hybrid import fuse

    st = state
    served = st.served["hybrid+zs"]  # type: ignore[attr-defined]
    row = st.user_row[user]  # type: ignore[attr-defined]
    model = st.id_models[served.id_model]  # type: ignore[attr-defined]
    id_scores = torch.as_tensor(model.score([st.id_histories[row]])).reshape(1, -1)  # type: ignore[attr-defined]
    vec = torch.from_numpy(st.outputs["zs"].vectors[row])  # type: ignore[attr-defined]
    cosine = (st.item_vecs @ F.normalize(vec, dim=0)).reshape(1, -1)  # type: ignore[attr-defined]
    fused = fuse(id_scores, cosine, served.weight)[0]
    target = st.targets[row]  # type: ignore[attr-defined]
    fused[[i for i in st.seen[row] if i != target]] = -torch.inf  # type: ignore[attr-defined]
    body = client.get(
        f"/v1/users/{user}/recommendations", params={"k": 5, "method": "hybrid+zs"}
    ).json()
    got = [r["score"] for r in body["items"]]
    assert got == pytest.approx(torch.topk(fused, 5).values.tolist(), abs=1e-5)
    assert body["label"] == served.label and served.label.startswith("hybrid(")


def test_item(client: httpx.Client, state: object) -> None:
    item_id = state.ds.item_ids[3]  # type: ignore[attr-defined]
    body = client.get(f"/v1/items/{item_id}").json()
    assert body["item_id"] == item_id and body["title"] and body["training_interactions"] >= 0


def test_post_profile_and_recommendations(client: httpx.Client, state: object) -> None:
    ids = state.ds.item_ids[:3]  # type: ignore[attr-defined]
    history = [*ids, "a gentle fragrance-free face cleanser"]
    made = client.post("/v1/profiles", json={"history": history}, headers=KEY)
    assert made.status_code == 200, made.text
    assert made.json()["catalogue_items"] == ids and made.json()["model_id"].startswith("gated:")
    methods = client.get("/v1/methods").json()["adhoc_methods"]
    assert {"profile", "history+profile", "hybrid+profile", "hybrid", "sasrec"} <= set(methods)
    for method in methods:
        body = {
            "history": history,
            "profile": made.json()["profile"] or "likes skin care",
            "method": method,
            "k": 5,
        }
        r = client.post("/v1/recommendations", json=body, headers=KEY)
        assert r.status_code == 200, (method, r.text)
        got = [x["item_id"] for x in r.json()["items"]]
        assert len(got) == 5 and not set(got) & set(ids), method
    only_profile = client.post(
        "/v1/recommendations", json={"profile": "loves red lipstick"}, headers=KEY
    )
    assert only_profile.status_code == 200 and only_profile.json()["method"] == "profile"


def test_the_prompt_holds_the_pasted_history_only(state: object) -> None:
    """Ad-hoc prompts come from profile.prompts: a free-text item appears as given."""
    from profilerec.serve.recommend import profile_prompt

    prompt = profile_prompt(state, ["B0", "my own hand cream"])  # type: ignore[arg-type]
    text = " ".join(m["content"] for m in prompt)
    assert "my own hand cream" in text


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "needle"),
    [
        ("GET", "/v1/users/nobody", {}, 404, "unknown user"),
        ("GET", "/v1/users/nobody/recommendations", {}, 404, "unknown user"),
        ("GET", "/v1/items/nothing", {}, 404, "unknown item"),
        ("GET", "/v1/nowhere", {}, 404, "Not Found"),
        ("GET", "/v1/users/{user}/recommendations?k=0", {}, 422, "greater than or equal"),
        ("GET", "/v1/users/{user}/recommendations?k=101", {}, 422, "less than or equal"),
        ("GET", "/v1/users/{user}/recommendations?k=ten", {}, 422, "integer"),
        ("GET", "/v1/users/{user}/recommendations?method=magic", {}, 400, "unknown method"),
        ("POST", "/v1/profiles", {"json": {"history": []}}, 422, "at least 1"),
        ("POST", "/v1/profiles", {"json": {"history": ["x"] * 201}}, 422, "at most 200"),
        ("POST", "/v1/profiles", {"json": {"history": ["  "]}}, 422, "at least 1 character"),
        ("POST", "/v1/profiles", {"json": {"history": ["x" * 301]}}, 422, "at most 300"),
        ("POST", "/v1/profiles", {"json": {"items": ["x"]}}, 422, "history"),
        (
            "POST",
            "/v1/profiles",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            422,
            "JSON",
        ),
        ("POST", "/v1/profiles", {"json": {"history": "abc"}}, 422, "list"),
        ("POST", "/v1/recommendations", {"json": {}}, 422, "history, a profile"),
        (
            "POST",
            "/v1/recommendations",
            {"json": {"history": ["a"], "k": 0}},
            422,
            "greater than or equal",
        ),
        (
            "POST",
            "/v1/recommendations",
            {"json": {"history": ["a"], "method": "magic"}},
            400,
            "unknown method",
        ),
        (
            "POST",
            "/v1/recommendations",
            {"json": {"history": ["a"], "method": "profile"}},
            400,
            "needs a profile",
        ),
        (
            "POST",
            "/v1/recommendations",
            {"json": {"profile": "p", "method": "history_text"}},
            400,
            "needs a history",
        ),
        ("POST", "/v1/recommendations", {"json": {"profile": "x" * 4001}}, 422, "at most 4000"),
        (
            "POST",
            "/v1/recommendations",
            {"json": {"history": ["a"], "method": "hybrid"}},
            400,
            "needs catalogue items",
        ),
        (
            "POST",
            "/v1/profiles",
            {
                "content": b'{"history": ["' + b"x" * 70000 + b'"]}',
                "headers": {"Content-Type": "application/json"},
            },
            413,
            "body over",
        ),
    ],
)
def test_bad_input_is_a_4xx_json_error(
    client: httpx.Client, user: str, method: str, path: str, kwargs: dict, status: int, needle: str
) -> None:
    headers = {**KEY, **kwargs.pop("headers", {})}
    r = client.request(method, path.format(user=user), headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert needle.lower() in str(r.json()["detail"]).lower()


def test_streamed_oversized_body_is_refused(client: httpx.Client) -> None:
    """A chunked body (no Content-Length) is counted as it arrives."""

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"history": ["'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"]}'

    r = client.post(
        "/v1/profiles", content=chunks(), headers={**KEY, "Content-Type": "application/json"}
    )
    assert r.status_code == 413


def test_api_key_guards_post_routes_only(client: httpx.Client, user: str) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}):
        for path, body in (
            ("/v1/profiles", {"history": ["a"]}),
            ("/v1/recommendations", {"profile": "p"}),
        ):
            r = client.post(path, json=body, headers=headers)
            assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    assert client.get(f"/v1/users/{user}/recommendations").status_code == 200


def test_gets_answer_while_a_generation_is_in_flight_and_a_full_queue_is_503(
    client: httpx.Client, user: str, serve_parts: dict
) -> None:
    gen = serve_parts["generator"]
    gen.gate.clear()
    gen.started.clear()
    result: dict[str, httpx.Response] = {}
    worker = threading.Thread(
        target=lambda: result.setdefault(
            "r", client.post("/v1/profiles", json={"history": ["a b c"]}, headers=KEY)
        )
    )
    worker.start()
    try:
        assert gen.started.wait(30), "generation never started"
        start = time.perf_counter()
        for _ in range(5):
            r = client.get(f"/v1/users/{user}/recommendations", params={"method": "history_text"})
            assert r.status_code == 200
        assert client.get("/ready").json()["queue"]["pending"] == 1  # still generating
        assert time.perf_counter() - start < 10
        full = client.post("/v1/profiles", json={"history": ["d"]}, headers=KEY)
        assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1
        assert "queue is full" in full.json()["detail"]
    finally:
        gen.gate.set()
        worker.join(60)
    assert result["r"].status_code == 200


def test_no_generator_is_503_not_500(state: object, run_app) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from profilerec.serve.app import create_app

    bare = dataclasses.replace(state, generator=None, profiler=None)  # type: ignore[type-var]
    with run_app(create_app(lambda: bare)) as base:
        r = httpx.post(f"{base}/v1/profiles", json={"history": ["a"]}, timeout=30)
        assert r.status_code == 503 and "without a generator" in r.json()["detail"]
        assert httpx.get(f"{base}/v1/methods", timeout=30).json()["generator"] is None
