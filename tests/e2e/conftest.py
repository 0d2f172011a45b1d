"""Browser fixtures: Debian's chromium (installed by scripts/install-chromium.sh when missing)
driven by Playwright for Python; each test gets a fresh user-data directory."""

from __future__ import annotations

import pytest

from e2e_helpers import ARTIFACTS, CHROMIUM_ARGS, find_chromium


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Playwright for Python: .venv/bin/pip install playwright "
                    "(it drives Debian's chromium; never run `playwright install`)")
    path, reason = find_chromium()
    if not path:
        pytest.skip(f"browser tests need chromium, which could not be installed: {reason}")
    return path


@pytest.fixture(scope="module")
def playwright_session(chromium_path):
    """Playwright's sync API keeps an asyncio loop running in this thread while it is open, so
    it is closed after each module (a session-wide one would break later asyncio.run() tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser_page(playwright_session, chromium_path, tmp_path):
    """A page in a fresh headless chromium profile, 1600×1000, that fails the test on page errors."""
    context = playwright_session.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1600, "height": 1000}, ignore_default_args=["--enable-automation"])
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    ARTIFACTS.mkdir(exist_ok=True)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="module")
def browser(playwright_session, chromium_path):
    """One headless chromium for a module's pages (each page gets its own context)."""
    b = playwright_session.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def open_page(browser):
    """``open_page(width, height, locale)``: a page in a fresh context (its own storage) that fails
    the test on page errors."""
    contexts, errors = [], []

    def make(width: int, height: int, locale: str = "en-US"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        ARTIFACTS.mkdir(exist_ok=True)
        return page

    yield make
    for c in contexts:
        c.close()
    assert not errors, f"errors in the page: {errors}"
