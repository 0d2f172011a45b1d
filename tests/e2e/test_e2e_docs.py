"""The API docs render offline and under their Content-Security-Policy: every request to
another origin is cut, and the page must still show the API, with no policy violation."""

from __future__ import annotations

from e2e_helpers import start_desk, wait_until


def test_docs_and_redoc_render_offline(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, [("PS-001", "s001")])
    elsewhere: list[str] = []
    violations: list[str] = []

    def cut_off_the_internet(route):
        if route.request.url.startswith(desk.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", cut_off_the_internet)
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        page.goto(desk.url + "/docs")
        wait_until(page, "document.querySelector('.swagger-ui .info .title') !== null", timeout_ms=30_000)
        assert "spectrum desk" in page.inner_text(".swagger-ui .info .title")
        wait_until(page, "document.querySelectorAll('.opblock').length > 5", timeout_ms=30_000)
        page.goto(desk.url + "/redoc")
        wait_until(page, "document.querySelector('h1') !== null && document.body.innerText.includes('/api/v1/events')",
                   timeout_ms=60_000)
        assert "spectrum desk" in page.inner_text("h1")
    finally:
        server.__exit__()
    assert elsewhere == []
    # ReDoc's "powered by" footer points at its logo on cdn.redoc.ly: the policy blocks that
    # image (as it should) and nothing else
    assert [v for v in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in v] == []
