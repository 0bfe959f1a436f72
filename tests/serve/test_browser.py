"""The web page in headless Chromium (the system browser, driven by Playwright)."""

from __future__ import annotations

import tempfile

import pytest

from profilerec.report.chromium import FLAGS, find_chromium

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (scripts/test-deps.sh installs it)"
)


def test_page_opens_a_user_switches_methods_and_profiles_a_pasted_history(
    server: str, state: object
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    args = [f for f in FLAGS if f not in ("--headless", "--enable-logging=stderr", "--v=0")]
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=args
        )
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        assert "253 users" in page.text_content("#status")  # type: ignore[operator]

        user = state.users[0]  # type: ignore[attr-defined]
        page.fill("#user-input", user)
        page.click("#user-open")
        page.wait_for_selector("#recs-a li", timeout=30_000)
        page.wait_for_selector("#recs-b li", timeout=30_000)
        history = page.locator("#history li").all_text_contents()
        assert len(history) == len(state.examples["history"][0])  # type: ignore[attr-defined]
        assert page.locator("#profiles blockquote").count() == 1
        first_a = page.locator("#recs-a li").first.get_attribute("data-item-id")
        assert page.locator("#recs-a li").count() == 10

        page.select_option("#method-a", "popularity")
        page.wait_for_function(
            "first => document.querySelector('#recs-a li').dataset.itemId !== first", arg=first_a
        )
        assert "training interactions" in page.locator("#recs-a li").first.text_content()  # type: ignore[operator]
        # The held-out next item is marked wherever it appears in a list.
        target = state.ds.item_ids[state.targets[0]]  # type: ignore[attr-defined]
        for li in page.locator("li.target").all():
            assert li.get_attribute("data-item-id") == target

        page.fill(
            "#adhoc-history", "\n".join([*state.ds.item_ids[:2], "a rose scented hand cream"])
        )  # type: ignore[attr-defined]
        page.fill("#api-key", "sesame")
        page.click("#adhoc-go")
        page.wait_for_selector("#adhoc-recs li", timeout=60_000)
        assert page.locator("#adhoc-recs li").count() == 10
        assert not page.text_content("#adhoc-error")

        page.fill("#api-key", "wrong")
        page.click("#adhoc-go")
        page.wait_for_function("document.querySelector('#adhoc-error').textContent.length > 0")
        assert "401" in page.text_content("#adhoc-error")  # type: ignore[operator]
        browser.close()
    # The failed fetch logs one console error (the 401 response); nothing else may.
    assert [e for e in errors if "401" not in e] == []


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs", "document.querySelectorAll('.swagger-ui .opblock').length >= 7"),
        ("/redoc", "document.body.innerText.includes('/v1/users/{user_id}/recommendations')"),
    ],
)
def test_api_docs_render_with_no_network(server: str, path: str, rendered: str) -> None:
    """Issue 33: /docs and /redoc were blank offline (Swagger UI and ReDoc came from a CDN).
    Every request leaving this server is refused here, and both pages still render."""
    sync_api = pytest.importorskip("playwright.sync_api")
    args = [f for f in FLAGS if f not in ("--headless", "--enable-logging=stderr", "--v=0")]
    outside: list[str] = []

    def only_local(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(server):
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            route.abort()  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=args
        )
        page = browser.new_page()
        page.route("**/*", only_local)
        page.goto(server + path)
        page.wait_for_function(rendered, timeout=60_000)
        browser.close()
    assert [u for u in outside if not u.startswith("data:")] == []
