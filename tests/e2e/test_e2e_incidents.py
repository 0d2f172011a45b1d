"""The incidents view: the list comes first (phone and desk layouts, no sideways scroll, a
wide-area incident once with its sites, an unacknowledged critical one marked in words), the
detail opens in view with its timeline, the keyboard drives both, an operator acknowledges and
resolves (errors in the page's language), a viewer sees no actions, new incidents arrive live
without reordering the rows, and the language switch changes the new strings."""

from __future__ import annotations

import pytest

from e2e_helpers import (ARTIFACTS, ago, english_only_patterns, event, now_utc, start_desk, viewport_ok, visible_texts,
                         wait_until)

SITES = [("PS-014 Sekolah Dasar Negeri 3 Kebayoran Lama Selatan", "gsm-1"), ("PS-027", "gsm-2"), ("CC-003", "pmr-1"),
         ("PS-101", "gsm-3")]
BURSTS = 4  # pulsed bursts of the jammer at the first site


def seed(desk) -> None:
    """A pulsed critical jammer at the first site (4 bursts, the last on the air) that the second
    site hears too (one wide-area incident), and a closed warning at the third site."""
    first = [event(*SITES[0], ago(200 - 40 * k), end=None if k == BURSTS - 1 else ago(190 - 40 * k), kind="pulsed")
             for k in range(BURSTS)]
    desk.post(*SITES[0], "/events", {"events": first})
    desk.post(*SITES[1], "/events", {"events": [event(*SITES[1], ago(150))]})
    desk.post(*SITES[2], "/events", {"events": [event(*SITES[2], ago(3000), end=ago(2990), kind="tone", severity="warning",
                                                      band="UHF PMR", low_hz=452.5e6, high_hz=452.6e6)]})


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    server, live = start_desk(tmp_path_factory.mktemp("incidents"), SITES, status_check_s=0.5, incident_hold_s=1800)
    seed(live)
    yield live
    server.__exit__()


def open_desk(page, desk, token: str) -> None:
    page.goto(desk.url + "/#token=" + token)
    page.wait_for_selector("#incidents .inc[data-key]")
    wait_until(page, "document.querySelectorAll('#incidents .inc').length >= 2 && window.__desk.state.loaded")


def rows(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('#incidents .inc')].map(e => {
      const shown = (sel) => { const c = e.querySelector(sel); return c && c.checkVisibility() && c.getBoundingClientRect().width > 0 ? c.innerText : null; };
      return {key: e.dataset.key, attention: e.classList.contains('attention'), site: shown('.site-n'), since: shown('.since'),
              sev: shown('.sev'), state: shown('.istate'), kind: shown('.kind'), bursts: shown('.bursts'), desk: shown('.desk-st')};
    })""")


def in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
      return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5; }""", selector)


@pytest.mark.parametrize("width, height", [(390, 844), (1440, 900)])
def test_list_and_detail_as_a_viewer(desk, open_page, width, height):
    page = open_page(width, height)
    open_desk(page, desk, desk.viewer)
    assert page.get_attribute("#tab-incidents", "aria-selected") == "true" and page.locator("#feed").is_hidden()
    result = viewport_ok(page)
    assert result["overflow"] <= 0 and result["worst"] is None, f"{width}px: sideways overflow {result}"

    wide, closed = rows(page)  # newest first onset first
    # the wide-area incident once, naming both sites; critical and unacknowledged: said in words
    assert wide["site"] == f"{SITES[0][0]}, {SITES[1][0]}", wide
    assert wide["attention"] and "not acknowledged" in wide["desk"], wide
    assert wide["state"] == "active" and wide["sev"].endswith("critical") and "pulsed" in wide["kind"], wide
    assert wide["bursts"] == f"{BURSTS + 1} bursts" and wide["since"].startswith("since ") and wide["since"].endswith(" WIB")
    assert closed["site"] == SITES[2][0] and closed["state"] == "closed" and not closed["attention"], closed
    assert closed["kind"] == "tone" and closed["bursts"] == "1 burst"
    page.screenshot(path=str(ARTIFACTS / f"incidents-{width}x{height}-en.png"))

    # The detail opens in view with one mark per event on the timeline; a viewer gets no actions.
    page.click(f'#incidents .inc[data-key="{wide["key"]}"]')
    page.wait_for_selector("#incident:not([hidden]) .timeline")
    page.wait_for_timeout(200)
    assert in_view(page, "#incident")
    assert page.locator("#incident .timeline rect.mark").count() == BURSTS + 1
    assert page.locator("#incident .lane").count() == 2  # pulsed at one site, wideband noise at the other
    assert SITES[1][0] in page.inner_text("#incident-h") and "wide area" in page.inner_text("#inc-body")
    assert page.locator("#inc-actions").is_hidden() and page.locator("#incident button:visible").count() == 1  # close
    page.screenshot(path=str(ARTIFACTS / f"incident-detail-{width}x{height}-en.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector("#incident", state="hidden")
    assert page.evaluate("document.activeElement.dataset.key") == wide["key"]  # focus back on its row


def test_operator_acknowledges_and_resolves_by_keyboard_in_both_languages(desk, open_page):
    page = open_page(390, 844)
    open_desk(page, desk, desk.operator)
    wide, closed = rows(page)
    assert wide["attention"]

    # Keyboard: into the list, down to the second row, up again, Enter opens; focus is visible.
    page.focus(f'#incidents .inc[data-key="{wide["key"]}"]')
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.key") == closed["key"]
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.dataset.key") == wide["key"]
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_selector("#incident:not([hidden]) .timeline")
    assert in_view(page, "#incident") and page.is_visible("#act-ack")
    assert "desk-e2e" in page.inner_text("#inc-as")

    # Acknowledge: the row stops standing out, the audit trail names the token.
    page.click("#act-ack")
    wait_until(page, f"!document.querySelector('#incidents .inc[data-key=\"{wide['key']}\"]').classList.contains('attention')")
    wait_until(page, "document.querySelector('#incident .audit') && document.querySelector('#incident .audit').innerText.includes('desk-e2e acknowledged')")
    assert page.locator("#act-ack").is_hidden()
    assert "acknowledged" in rows(page)[0]["desk"]

    # Resolving without an outcome: the service's 422, said in the page's language.
    page.click("#act-resolve button[type=submit]")
    wait_until(page, "document.querySelector('#inc-msg').classList.contains('error')")
    assert page.inner_text("#inc-msg") == "The service refused the field “outcome”: it is missing or not valid."
    page.select_option("#desk .lang-select", "id")
    wait_until(page, "document.documentElement.lang === 'id'")
    page.wait_for_timeout(200)
    assert page.inner_text("#tab-incidents").startswith("Insiden") and page.inner_text("#act-resolve button") == "Selesaikan"
    assert "semburan" in rows(page)[0]["bursts"] and "ditanggapi oleh desk-e2e" in page.inner_text("#inc-body")
    page.click("#act-resolve button[type=submit]")
    wait_until(page, "document.querySelector('#inc-msg').innerText.startsWith('Layanan menolak kolom “hasil”')")
    page.screenshot(path=str(ARTIFACTS / "incident-detail-390x844-id.png"))
    patterns = english_only_patterns()  # no English message left on the list or in the detail
    left = [(key, text) for text in visible_texts(page) for key, pat in patterns if pat.match(text)]
    assert not left, f"English strings shown in Indonesian: {left[:10]}"

    # Assign, note and resolve; the list shows the outcome.
    page.fill("#act-team", "Tim Bravo")
    page.click("#act-assign button[type=submit]")
    wait_until(page, "document.querySelector('#incident .audit').innerText.includes('Tim Bravo')")
    page.fill("#act-text", "Mobil van putih di depan sekolah")
    page.click("#act-note button[type=submit]")
    wait_until(page, "document.querySelector('#incident .audit').innerText.includes('Mobil van putih')")
    page.select_option("#act-outcome", "confirmed_jammer")
    page.click("#act-resolve button[type=submit]")
    wait_until(page, "document.querySelector('#incidents .inc').innerText.includes('pengacak terkonfirmasi')")
    page.select_option("#desk .lang-select", "en")
    wait_until(page, "document.querySelector('#incidents .inc').innerText.includes('resolved: confirmed jammer')")


def test_new_incidents_arrive_live_without_reordering(desk, open_page):
    page = open_page(1440, 900)
    open_desk(page, desk, desk.viewer)
    before = [r["key"] for r in rows(page)]
    desk.post(*SITES[3], "/events", {"events": [event(*SITES[3], now_utc(), kind="swept", low_hz=1575.0e6,
                                                      high_hz=1576.0e6, band="GNSS L1")]})
    wait_until(page, "document.querySelectorAll('#incidents .inc').length === 3", timeout_ms=15_000)
    after = rows(page)
    assert after[0]["site"] == SITES[3][0] and after[0]["attention"]  # the newest onset on top
    assert [r["key"] for r in after[1:]] == before  # the others kept their order
    # a new burst of the listed jammer changes its row in place, and its open detail
    page.click(f'#incidents .inc[data-key="{before[0]}"]')
    page.wait_for_selector("#incident:not([hidden]) .timeline")
    marks = page.locator("#incident .timeline rect.mark").count()
    desk.post(*SITES[0], "/events", {"events": [event(*SITES[0], now_utc(), kind="pulsed")]})
    wait_until(page, f"document.querySelectorAll('#incident .timeline rect.mark').length === {marks + 1}", timeout_ms=15_000)
    wait_until(page, f"document.querySelector('#incidents .inc[data-key=\"{before[0]}\"] .bursts').innerText === '{BURSTS + 2} bursts'",
               timeout_ms=15_000)
    assert [r["key"] for r in rows(page)] == [after[0]["key"], *before]


def test_refusals_read_as_sentences_in_the_page_language(desk, open_page):
    """The buttons are hidden from viewers; were one to act anyway, the 403 reads as a sentence,
    and so does the 404 of an incident that is gone."""
    page = open_page(768, 1024, locale="id-ID")
    open_desk(page, desk, desk.viewer)
    text = page.evaluate("""async (id) => {
      const api = await import('/static/js/api.js'), d = await import('/static/js/incident_detail.js');
      try { await api.postJSON(sessionStorage.getItem('spectrum.viewerToken'), `/incidents/${id}/acknowledge`, {}); return 'accepted'; }
      catch (e) { return [e.status, d.actionError(e)]; }
    }""", rows(page)[0]["key"])
    assert text == [403, "Token ini tidak boleh menindak insiden: perlu peran operator atau admin."]
    missing = page.evaluate("""async (token) => {
      const api = await import('/static/js/api.js'), d = await import('/static/js/incident_detail.js');
      try { await api.postJSON(token, '/incidents/no-such-id/notes', {text: 'x'}); return 'accepted'; }
      catch (e) { return [e.status, d.actionError(e)]; }
    }""", desk.operator)
    assert missing == [404, "Insiden ini sudah tidak ada (mungkin bergabung dengan insiden lain); buka lagi dari daftar."]


def test_the_filter_bar_narrows_the_incident_list(desk, open_page):
    """Band, kind and time filter the incidents as they filter the events (the closed PMR tone
    at the third site, 50 minutes old, against the GSM jammer on the air)."""
    page = open_page(1440, 900)
    open_desk(page, desk, desk.viewer)

    def sites_listed() -> list[str]:
        return [r["site"] for r in rows(page)]

    def shown_after(select: str, value: str, expect_cc: bool) -> list[str]:
        page.select_option(select, value)
        has_cc = "true" if expect_cc else "false"
        wait_until(page, f"[...document.querySelectorAll('#incidents .inc .site-n')].some(e => e.innerText.includes('CC-003')) === {has_cc}")
        return sites_listed()

    everything = sites_listed()
    assert any("CC-003" in s for s in everything) and any(SITES[0][0] in s for s in everything)
    tones = shown_after("#f-kind", "tone", expect_cc=True)
    assert all("CC-003" in s for s in tones), tones
    shown_after("#f-kind", "", expect_cc=True)
    pmr = shown_after("#f-band", "UHF PMR", expect_cc=True)
    assert all("CC-003" in s for s in pmr), pmr
    shown_after("#f-band", "", expect_cc=True)
    recent = shown_after("#f-time", "900", expect_cc=False)  # last 15 min: the tone ended 50 min ago
    assert any(SITES[0][0] in s for s in recent), recent
    shown_after("#f-time", "", expect_cc=True)
    assert sorted(sites_listed()) == sorted(everything)
