"""The dashboard in a real browser: Playwright driving Debian's headless Chromium against a
real ``trygg serve`` on a small demo database.

Screenshots and the printed PDF land in ``test-artifacts/`` (git-ignored) for people to
look at. Accessibility is checked on every page: labelled form controls, one h1 and
headings in order, keyboard focus reaching the main links, status colours with enough
contrast and a text label beside every colour.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from tests.e2e.live import running_server, trygg

sync_api = pytest.importorskip("playwright.sync_api")
AXE = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
STATUS_LABELS = {"Uppfyllt", "I fas", "Ligger efter", "Ej påbörjat", "Ingår ej", "Försenad"}
STATUS_LABELS |= {"Ej uppfyllt", "Missed"}
STATUS_LABELS |= {"Met", "On track", "Behind", "Not started", "Not included", "Overdue"}

# CI sets TRYGG_REQUIRE_BROWSER=1, so a missing browser fails there instead of skipping.
if not CHROMIUM.exists() and os.environ.get("TRYGG_REQUIRE_BROWSER") == "1":
    raise RuntimeError("TRYGG_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A 120-day demo served by a real server; yields its address and keys by role."""
    db = tmp_path_factory.mktemp("dashboard") / "demo.db"
    out = trygg("demo", "--db", str(db), "--days", "120", "--no-serve", env={}).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("tl_"):
            found[parts[0] if parts[1] == "-" else parts[1]] = parts[2]
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{db}"}
    with running_server(env) as base:
        wait_for_views(base, found["auditor"])
        yield {"base": base, "url": env["TRYGG_DATABASE_URL"], **found}


def wait_for_views(base: str, token: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = httpx.get(
            f"{base}/v1/projections", headers={"Authorization": f"Bearer {token}"}
        ).json()["items"]
        if items and all(i["lag"] == 0 for i in items):
            return
        time.sleep(0.1)
    raise AssertionError("the projections did not catch up")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="sv-SE", accept_downloads=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("API-nyckel").fill(token)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


# -- accessibility helpers --------------------------------------------------------------------

UNLABELLED_JS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
  .filter(el => {
    if (el.tagName === 'BUTTON') return !el.textContent.trim() && !el.getAttribute('aria-label');
    return !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
      && !el.getAttribute('aria-labelledby');
  })
  .map(el => el.outerHTML)"""

HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .filter(h => h.getClientRects().length).map(h => Number(h.tagName[1]))"""

STATUS_COLOURS_JS = """() => [...document.querySelectorAll(
    '.badge[class*="status-"], td.cell[class*="status-"], .tile[class*="status-"]')]
  .map(el => ({cls: el.className, fg: getComputedStyle(el).color,
               bg: getComputedStyle(el).backgroundColor, text: el.textContent.trim()}))"""


def check_accessibility(page) -> None:
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
        for v in AXE.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious  # axe-core: no serious or critical violation
    assert page.evaluate(UNLABELLED_JS) == [], "every form control needs a label"
    levels = page.evaluate(HEADINGS_JS)
    assert levels.count(1) == 1, levels
    assert levels[0] == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading levels skip: {levels}"
    for el in page.evaluate(STATUS_COLOURS_JS):
        assert contrast(parse_rgb(el["fg"]), parse_rgb(el["bg"])) >= 4.5, el
        assert any(label in el["text"] for label in STATUS_LABELS), f"colour alone: {el}"
    charts = page.locator("svg.chart, svg.mini")
    for i in range(min(charts.count(), 5)):
        assert charts.nth(i).get_attribute("role") == "img"
        assert charts.nth(i).locator("title").first.text_content().strip()


def parse_rgb(value: str) -> tuple[int, int, int]:
    found = re.findall(r"[\d.]+", value)
    return int(float(found[0])), int(float(found[1])), int(float(found[2]))


def parse_hex(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# -- tests ------------------------------------------------------------------------------------


def test_the_status_colours_defined_in_the_stylesheet_have_enough_contrast():
    css = (ROOT / "api" / "static" / "dashboard.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--(status-[\w]+-(?:bg|fg)):\s*(#[0-9a-fA-F]{6})", css))
    statuses = {name.rsplit("-", 1)[0] for name in colours}
    assert {"status-met", "status-on_track", "status-behind", "status-not_started"} <= statuses
    for status in statuses:
        ratio = contrast(parse_hex(colours[f"{status}-fg"]), parse_hex(colours[f"{status}-bg"]))
        assert ratio >= 4.5, f"{status}: {ratio:.2f}"
    trend = dict(re.findall(r"--(trend-\w+-fg):\s*(#[0-9a-fA-F]{6})", css))
    for name, colour in trend.items():
        assert contrast(parse_hex(colour), (255, 255, 255)) >= 4.5, name


def test_a_steering_member_signs_in_looks_drills_down_exports_prints_and_signs_out(page, demo):
    base = demo["base"]
    page.goto(f"{base}/")
    assert "/login" in page.url
    check_accessibility(page)
    shot(page, "01-sign-in")
    sign_in(page, base, demo["steering"])

    # The overview: the promise, how far it has come, and the matrix.
    assert page.locator("h1").inner_text().startswith("Medborgarlöfte 2021–2022")
    assert page.locator("td.cell").count() >= 5 * 10
    first_cell = page.locator("td.cell.status-met").first
    assert "Levererat" in first_cell.get_attribute("title")  # the numbers on hover
    check_accessibility(page)
    shot(page, "02-overview")

    # Drill into a station from the matrix.
    page.locator("table.matrix thead").get_by_role("link", name="Alingsås").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Alingsås station"
    assert page.locator("svg.chart rect").count() > 10
    check_accessibility(page)
    shot(page, "03-station")

    # Change the date range.
    page.get_by_label("Från", exact=True).fill("2021-10-01")
    page.get_by_label("Till", exact=True).fill("2021-11-30")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_load_state()
    assert "from=2021-10-01" in page.url
    assert "to=2021-11-30" in page.url
    assert page.get_by_text("Visar 2021-10-01 – 2021-11-30").first.is_visible()
    shot(page, "04-station-range")

    # Download a table as XLSX and open it.
    weekly = page.locator("section", has=page.locator("#h-weekly"))
    with page.expect_download() as info:
        weekly.get_by_role(
            "link", name="Ladda ned tabellen Aktiviteter per vecka som Excel", exact=False
        ).click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Vecka", "Veckan börjar")
    assert rows[1][0] == "2021-W39"
    assert sum(row[-1] for row in rows[1:]) > 0

    # The printable report, printed to PDF.
    page.goto(f"{base}/report?from=2021-09-01&to=2021-12-31")
    assert page.locator("h1").inner_text().startswith("Medborgarlöfte")
    check_accessibility(page)
    shot(page, "05-report")
    page.emulate_media(media="print")
    assert not page.locator(".report-tools").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 20_000
    page.emulate_media(media="screen")

    # Sign out: the session is gone.
    page.goto(f"{base}/")
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.get_by_text("Du är utloggad").is_visible()
    page.goto(f"{base}/stations/alingsas")
    assert "/login" in page.url


def test_keyboard_reaches_the_main_links(page, demo):
    sign_in(page, demo["base"], demo["steering"])
    reached = []
    for _ in range(25):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert reached[0] == "Hoppa till innehållet"
    for name in ["Översikt", "Alingsås", "Lerum", "Aktörer", "Rapport", "English", "Logga ut"]:
        assert name in reached, (name, reached)
    focused = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focused != "none"  # focus is visible


def test_as_of_english_and_the_audit_page(page, demo):
    base = demo["base"]
    sign_in(page, base, demo["auditor"])
    page.goto(f"{base}/?as_of=2021-11-15&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    banner = page.locator(".asof-banner")
    assert "as it stood on 2021-11-15" in banner.inner_text()
    check_accessibility(page)
    shot(page, "06-overview-as-of-en")
    page.goto(f"{base}/audit")  # the language is remembered
    assert page.locator("h1").inner_text() == "Audit"
    assert page.get_by_role("heading", name="Projections (read models)").is_visible()
    check_accessibility(page)
    shot(page, "07-audit")


def test_a_partner_sees_its_own_page_only(page, demo):
    base = demo["base"]
    sign_in(page, base, demo["vasttrafik"])
    assert page.url.endswith("/actors/vasttrafik")
    assert page.locator("h1").inner_text() == "Västtrafik"
    check_accessibility(page)
    shot(page, "08-partner")
    response = page.goto(f"{base}/stations/lerum")
    assert response.status == 403
    assert page.get_by_role("link", name="Till din sida").is_visible()
    shot(page, "09-partner-forbidden")


def test_the_report_command_prints_a_pdf(demo, tmp_path):
    out = tmp_path / "rapport.pdf"
    env = {"TRYGG_DATABASE_URL": demo["url"]}
    trygg("report", "--from", "2021-09-01", "--to", "2021-12-31", "--out", str(out), env=env)
    assert out.read_bytes().startswith(b"%PDF")


PAGES = [
    "/",
    "/stations/alingsas",
    "/actors",
    "/actors/polisen-alingsas",
    "/audit",
    "/report?from=2021-09-01&to=2021-12-31",
    "/ideas/triage",
]


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_fits_the_screen_and_passes_axe(browser, demo, width):
    """Issue #12: no page scrolls sideways on a 390 px phone; wide tables scroll in their
    own focusable region; axe-core finds nothing serious or critical at either width."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="sv-SE")
    page = context.new_page()
    try:
        sign_in(page, demo["base"], demo["admin"])
        for path in PAGES:
            response = page.goto(demo["base"] + path)
            assert response.status == 200, path
            page.wait_for_load_state()
            scroll, screen = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= screen, (path, scroll, screen)
            check_accessibility(page)
            regions = page.locator(".table-wrap")
            for i in range(regions.count()):
                assert regions.nth(i).get_attribute("tabindex") == "0", path
                assert regions.nth(i).get_attribute("aria-label"), path
            name = path.strip("/").split("?")[0].replace("/", "-") or "overview"
            shot(page, f"10-{width}-{name}")
    finally:
        context.close()


def test_on_a_phone_status_and_delivered_come_first(browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale="sv-SE")
    page = context.new_page()
    try:
        sign_in(page, demo["base"], demo["steering"])
        page.goto(demo["base"] + "/stations/lerum")
        row = page.locator("table.commitments tbody tr").first
        status = row.locator("td.c-status").bounding_box()
        delivered = row.locator("td.c-delivered").bounding_box()
        actor = row.locator("td").first.bounding_box()
        assert (
            status["y"] <= delivered["y"] < actor["y"]
        )  # a card: status, delivered, then the rest
    finally:
        context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_steering_groups_meeting(browser, demo, width, tmp_path):
    """Issue #12: pick a quarter, read the grid, open a station, print the report to PDF,
    open the CSV: at desktop and phone widths, axe-clean at every step."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="sv-SE", accept_downloads=True
    )
    page = context.new_page()
    base = demo["base"]
    try:
        sign_in(page, base, demo["steering"])
        page.get_by_role("link", name="Kvartal 4 2021").first.click()
        page.wait_for_load_state()
        assert "from=2021-10-01" in page.url
        assert "to=2021-12-31" in page.url
        check_accessibility(page)
        cells = page.locator("td.cell")
        assert cells.count() >= 5 * 10
        statuses = {cells.nth(i).get_attribute("class") for i in range(cells.count())}
        assert any("status-" in s for s in statuses)
        assert "2021-10-01 – 2021-12-31" in page.locator("table.matrix caption").inner_text()
        shot(page, f"11-{width}-meeting-quarter")

        page.locator("table.matrix thead").get_by_role("link", name="Lerum").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Lerum station"
        assert "from=2021-10-01" in page.url  # the quarter follows
        check_accessibility(page)
        shot(page, f"11-{width}-meeting-station")

        page.goto(f"{base}/report?from=2021-10-01&to=2021-12-31")
        check_accessibility(page)
        assert page.locator("section.station-page").count() == 5
        page.emulate_media(media="print")
        pdf = page.pdf(path=str(tmp_path / "rapport.pdf"), format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        page.emulate_media(media="screen")

        page.goto(f"{base}/?from=2021-10-01&to=2021-12-31")
        grid = page.locator("section", has=page.locator("#h-matrix"))
        with page.expect_download() as info:
            grid.get_by_role("link", name="CSV", exact=False).first.click()
        text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        header = text.splitlines()[0].split(";")
        assert header[:2] == ["Åtagande", "Aktör"]  # opens in Swedish Excel: ';'
    finally:
        context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_resident_sends_an_idea_from_a_phone_and_reads_the_answers(browser, demo, width):
    """Issue #15: the form works without JavaScript and without signing in; the public
    page fits the screen, passes axe, and shows the steering group's answers."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="sv-SE", java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(demo["base"] + "/ideas")
        assert page.locator("form textarea").count() == 1
        page.select_option("#station", "floda")
        page.select_option("#zone", "platform")
        page.fill("#text", "Fler bänkar med tak på perrongen, det blåser mycket.")
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "Tack för din idé"
        shot(page, f"20-{width}-idea-sent")

        page.goto(demo["base"] + "/public")
        scroll, screen = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll <= screen, (scroll, screen)
        assert "Trygghetsvärdarna går nu även på torget" in page.content()  # a reply
        assert "Fler bänkar med tak" not in page.content()  # undecided: not published
        shot(page, f"21-{width}-public")
        page.goto(demo["base"] + "/public?lang=en")
        assert page.locator("h2").first.inner_text() == "What the parties promised and did"
    finally:
        context.close()
    # axe needs scripts: the same pages again, with JavaScript, for the audit only.
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="sv-SE")
    page = context.new_page()
    try:
        for path in ("/ideas", "/public"):
            page.goto(demo["base"] + path)
            check_accessibility(page)
    finally:
        context.close()


def test_the_steering_group_answers_an_idea_on_the_triage_page(page, demo):
    """Issue #15: the undecided ideas come first, each with a form; the answer is public."""
    sign_in(page, demo["base"], demo["steering"])
    page.goto(demo["base"] + "/ideas/triage?status=new")
    first = page.locator("article.idea").filter(has_text="tydligare skylt")
    first.locator("select").select_option("adopted")
    first.locator("textarea").fill("Trafikverket sätter upp en skylt med numret på perrongen.")
    first.locator("button[type=submit]").click()
    assert "decided=1" in page.url
    assert page.locator("p.notice[role=status]").count() == 1
    check_accessibility(page)
    wait_for_views(demo["base"], demo["admin"])
    page.goto(demo["base"] + "/public")
    assert "sätter upp en skylt med numret" in page.content()
