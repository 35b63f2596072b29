"""The steering group's dashboard over HTTP (TestClient, no browser): sign-in and
sessions, who sees what, exports, languages, and friendly pages for bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.dashboard.exports import sheet_title
from api.dashboard.sessions import COOKIE, SessionStore, sessions
from ledger.access import SYSTEM, Role
from ledger.inputs import ActionPlanIn, ActorIn, MeasureIn, PromiseIn
from tests.e2e.live import trygg
from tests.factories import activity, observation

PROMISE = {
    "code": "stk-test",
    "title": "Medborgarlöfte (test)",
    "period_start": "2021-09-01",
    "period_end": "2022-08-31",
    "stations": ["lerum", "herrljunga"],
    "parties": ["vasttrafik", "trafikverket", "polisen-alingsas"],
    "commitments": [
        {
            "code": "vt-hosts",
            "actor": "vasttrafik",
            "kind": "security_host_shift",
            "target": {"count": 5, "per": "week"},
            "description": "Trygghetsvärdar på stationerna",
        },
        {
            "code": "tv-guards",
            "actor": "trafikverket",
            "kind": "guard_shift",
            "stations": ["lerum"],
            "target": {"count": 5, "per": "week"},
            "description": "Väktare vid Lerum",
        },
        {
            "code": "police-presence",
            "actor": "polisen-alingsas",
            "kind": "patrol",
            "target": {"count": 2, "per": "week"},
            "description": "Ökad närvaro",
        },
    ],
}


@pytest.fixture
def data(registry, client, keys):
    """A promise, an action plan with an overdue measure, and a little activity."""
    registry.registry.make_promise(SYSTEM, PromiseIn.model_validate(PROMISE))
    registry.registry.create_action_plan(
        SYSTEM,
        ActionPlanIn(
            promise="stk-test",
            station="lerum",
            measures=[
                MeasureIn(
                    title="Belysning i gångtunneln", owner="trafikverket", due=date(2021, 10, 15)
                )
            ],
        ),
    )
    h = keys.header("partner")
    for n in range(1, 4):
        client.post("/v1/activities", json=activity(n), headers=h)
    client.post(
        "/v1/activities",
        json=activity(
            9,
            started_at="2021-10-08T16:00:00+02:00",
            ended_at="2021-10-08T20:00:00+02:00",
            note="=1+1 lampa trasig",
        ),
        headers=h,
    )
    last = client.post("/v1/observations", json=observation(), headers=h).json()["position"]
    # Read-your-writes: wait until every view has the data before the pages read them.
    steering = keys.header("steering")
    client.get("/v1/situation", params={"min_position": last}, headers=steering)
    client.get("/v1/stations/lerum/summary", params={"min_position": last}, headers=steering)
    client.get("/v1/action-plans/measures", params={"min_position": last}, headers=steering)
    return registry


def login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, token: str, next: str = "/"):
    csrf = login_csrf(client)
    return client.post(
        "/login", data={"token": token, "csrf": csrf, "next": next}, follow_redirects=False
    )


def page_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def assert_friendly(r, status: int | tuple[int, ...]):
    wanted = status if isinstance(status, tuple) else (status,)
    assert r.status_code in wanted, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>" in r.text
    assert "Traceback" not in r.text


# -- signing in and out -----------------------------------------------------------------------


def test_pages_send_the_reader_to_sign_in(client):
    r = client.get("/stations/lerum?from=2021-10-01", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fstations%2Flerum%3Ffrom%3D2021-10-01"


def test_a_link_from_another_site_reloads_itself_to_send_the_strict_cookie(client):
    r = client.get("/", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 200
    assert 'http-equiv="refresh"' in r.text


def test_sign_in_makes_a_server_side_session_in_a_strict_httponly_cookie(client, keys, data):
    r = sign_in(client, keys.steering)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # plain http here; see the https test
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert keys.steering not in cookie
    with data.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.id_sha256, sessions.c.key_id)).all()
    assert [row.id_sha256 for row in stored] == [hashlib.sha256(session_id.encode()).hexdigest()]
    assert session_id not in {row.id_sha256 for row in stored}
    assert client.get("/").status_code == 200


def test_the_cookie_is_secure_over_https(client, keys, data):
    secure = TestClient(client.app, base_url="https://testserver")
    r = sign_in(secure, keys.steering)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE + "="))
    assert "secure" in cookie.lower()


def test_a_wrong_token_is_refused_on_the_form(client, keys):
    r = sign_in(client, "tl_not-a-real-key")
    assert r.status_code == 401
    assert "okänd eller återkallad" in r.text
    assert not any(c.startswith(COOKIE + "=") for c in r.headers.get_list("set-cookie"))


def test_sign_in_without_the_form_token_is_refused(client, keys):
    login_csrf(client)
    r = client.post("/login", data={"token": keys.steering, "csrf": "forged"})
    assert_friendly(r, 403)
    r = client.post("/login", data={"token": keys.steering})
    assert_friendly(r, 403)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_from_another_origin_is_refused(client, keys):
    csrf = login_csrf(client)
    r = client.post(
        "/login",
        data={"token": keys.steering, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert_friendly(r, 403)


def test_next_never_leaves_the_site(client, keys):
    r = sign_in(client, keys.steering, next="//evil.example/")
    assert r.headers["location"] == "/"
    client.cookies.clear()
    r = sign_in(client, keys.steering, next="https://evil.example/")
    assert r.headers["location"] == "/"


def test_sign_out_needs_the_session_csrf_token_and_ends_the_session(client, keys, data):
    sign_in(client, keys.steering)
    html = client.get("/").text
    r = client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert_friendly(r, 403)
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    r = client.post("/logout", data={"csrf": page_csrf(html)}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?signed_out=1"
    assert client.get("/", follow_redirects=False).status_code == 303
    with data.engine.connect() as conn:
        assert conn.execute(select(sessions)).all() == []


def test_revoking_the_key_ends_its_sessions(client, keys, data):
    sign_in(client, keys.steering)
    assert client.get("/", follow_redirects=False).status_code == 200
    key_id = data.keys.authenticate(keys.steering).key_id
    data.keys.revoke(key_id)
    assert client.get("/", follow_redirects=False).status_code == 303
    with data.engine.connect() as conn:
        assert conn.execute(select(sessions).where(sessions.c.key_id == key_id)).all() == []


def test_a_session_expires(client, keys, data, monkeypatch):
    sign_in(client, keys.steering)
    later = SessionStore.now() + 9 * 3600
    monkeypatch.setattr(SessionStore, "now", staticmethod(lambda: later))
    assert client.get("/", follow_redirects=False).status_code == 303


# -- who sees what ----------------------------------------------------------------------------


def test_a_partner_sees_only_its_own_actor_page(client, keys, data):
    r = sign_in(client, keys.partner)
    assert r.headers["location"] == "/actors/vasttrafik"
    own = client.get("/actors/vasttrafik")
    assert own.status_code == 200
    assert "Trygghetsvärdar på stationerna" in own.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/actors/vasttrafik"
    for path in [
        "/actors/trafikverket",
        "/stations/lerum",
        "/report",
        "/audit",
        "/actors",
        "/export/progress.csv",
        "/export/weekly.csv?actor=trafikverket",
        "/export/activities.csv?station=lerum",
    ]:
        r = client.get(path)
        assert_friendly(r, 403)
        assert "egen organisations sida" in r.text or "granskare" in r.text
        assert 'href="/actors/vasttrafik"' in r.text
    assert client.get("/export/actor-progress.csv?actor=vasttrafik").status_code == 200
    assert client.get("/export/weekly.xlsx?actor=vasttrafik").status_code == 200


def test_the_audit_page_is_for_auditors_and_admins(client, keys, data, monkeypatch):
    sign_in(client, keys.steering)
    assert_friendly(client.get("/audit"), 403)
    client.cookies.clear()
    sign_in(client, keys.auditor)
    r = client.get("/audit")
    assert r.status_code == 200
    assert "Projektioner" in r.text
    assert "Aktiviteter" in r.text  # the activities projection, by its Swedish name
    assert "Senaste kontrollpunkt" in r.text
    runtime = client.app.state.runtime
    monkeypatch.setattr(runtime, "audit", None)
    assert "inte igång" in client.get("/audit").text

    class Broken:
        def summary(self):
            raise RuntimeError("boom")

    monkeypatch.setattr(runtime, "audit", Broken())
    r = client.get("/audit")
    assert r.status_code == 200
    assert "svarade inte" in r.text


# -- pages ------------------------------------------------------------------------------------


def test_the_overview_shows_every_commitment_and_station_with_text_statuses(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/", params={"to": "2021-10-31"})
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1") == 1
    assert "Medborgarlöfte (test)" in html
    for text in ["Trygghetsvärdar på stationerna", "Väktare vid Lerum", "Ökad närvaro"]:
        assert text in html
    cells = re.findall(r'<td class="cell status-(\w+)"(?: title="([^"]*)")?>(.*?)</td>', html, re.S)
    assert len(cells) == 3 * 2  # commitments × stations
    # Issue #12: "Ligger efter" (behind), and "Ej uppfyllt" once a range has ended.
    labels = {"met": "Uppfyllt", "on_track": "I fas", "behind": "Ligger efter"}
    labels |= {"not_started": "Ej påbörjat", "na": "Ingår ej", "missed": "Ej uppfyllt"}
    for status, title, body in cells:
        assert labels[status] in body  # never colour alone
        if status != "na":
            assert "Levererat" in title  # numbers on hover
    assert "Ingår ej" in html  # guards are promised at Lerum only
    assert "Belysning i gångtunneln" in html  # the overdue measure
    assert "Försenad" in html


def test_the_station_page(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/stations/lerum", params={"from": "2021-09-01", "to": "2021-12-31"})
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1") == 1
    assert "<svg" in html
    assert "<title" in html
    assert "v. 39 (2021-09-27 – 2021-10-03) – Totalt: 3 aktiviteter" in html  # on hover
    assert "Klotter" in html  # the situation, by category
    assert "Belysning i gångtunneln" in html
    assert 'class="overdue"' in html
    assert html.count("/export/") >= 8
    assert "style=" not in html  # the CSP forbids inline styles
    assert "<script" not in html
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


def test_the_actor_page_and_the_report(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/actors/trafikverket", params={"to": "2021-10-31"})
    assert r.status_code == 200
    assert "Väktare vid Lerum" in r.text
    assert "Ej uppfyllt" in r.text  # issue #12: a range that has ended is met or missed
    r = client.get("/report", params={"from": "2021-09-01", "to": "2021-10-31"})
    assert r.status_code == 200
    for text in ["Uppföljningsrapport", "Trygghetsvärdar på stationerna", "Väktare vid Lerum"]:
        assert text in r.text
    assert "Lerum" in r.text
    assert "Herrljunga" in r.text
    assert "Belysning i gångtunneln" in r.text  # an open measure
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@media print" in css.text


def test_as_of_shows_the_view_as_it_stood(client, keys, data):
    sign_in(client, keys.steering)
    # Everything in this test was recorded today: a day long ago saw an empty log.
    r = client.get("/", params={"as_of": "2021-01-15"})
    assert r.status_code == 200
    assert "loggposition" in r.text
    assert "Visa nuläget" in r.text
    # "As of" today (or later) is the present.
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()
    assert "loggposition" not in client.get("/", params={"as_of": today}).text


def test_no_promise_yet_is_a_page_not_an_error(client, keys):
    sign_in(client, keys.steering)
    r = client.get("/")
    assert r.status_code == 200
    assert "Inget medborgarlöfte" in r.text
    assert client.get("/stations/lerum").status_code == 200
    assert client.get("/actors/vasttrafik").status_code == 200
    assert client.get("/report").status_code == 200


def test_the_language_switch_is_remembered(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in r.text
    assert "Commitments by station" in r.text
    assert any(c.startswith("trygg_lang=en") for c in r.headers.get_list("set-cookie"))
    r = client.get("/stations/lerum")
    assert '<html lang="en">' in r.text
    assert "Latest activities" in r.text
    r = client.get("/", params={"lang": "sv"})
    assert "Åtaganden per station" in r.text
    assert '<html lang="sv">' in client.get("/login").text


# -- exports ----------------------------------------------------------------------------------


def test_csv_exports_have_swedish_headers_and_iso_dates(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/export/progress.csv", params={"to": "2021-10-31"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="trygg-progress')
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))  # #12
    assert rows[0][:4] == ["Åtagande", "Aktör", "Aktivitetstyp", "Station"]
    assert "Status" in rows[0]
    assert len(rows) == 1 + 5  # commitment × station pairs
    assert {"Västtrafik", "Lerum", "Trygghetsvärdar"} <= {cell for row in rows for cell in row}
    weekly = client.get(
        "/export/weekly.csv", params={"station": "lerum", "from": "2021-09-27", "to": "2021-10-10"}
    )
    lines = list(csv.reader(io.StringIO(weekly.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:2] == ["Vecka", "Veckan börjar"]
    assert lines[1][:2] == ["2021-W39", "2021-09-27"]
    assert lines[1][-1] == "3"


def test_exports_neutralise_formulas(client, keys, data):
    sign_in(client, keys.steering)
    params = {"station": "lerum", "from": "2021-09-01", "to": "2021-12-31"}
    text = client.get("/export/activities.csv", params=params).content.decode("utf-8-sig")
    assert "'=1+1 lampa trasig" in text
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/export/activities.xlsx", params=params).content)
    )
    notes = [c for row in book.active.iter_rows() for c in row if c.value == "=1+1 lampa trasig"]
    assert notes
    assert all(c.data_type == "s" for c in notes)


def test_xlsx_exports_open_with_real_dates(client, keys, data):
    sign_in(client, keys.steering)
    r = client.get("/export/measures.xlsx", params={"station": "lerum", "to": "2021-12-31"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert r.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Åtgärd", "Ansvarig", "Klart senast"]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["Åtgärd"].value == "Belysning i gångtunneln"
    assert row["Klart senast"].value.date() == date(2021, 10, 15)
    assert row["Klart senast"].number_format == "yyyy-mm-dd"
    assert row["Försenad"].value == "Ja"
    assert "Urval" in book.sheetnames


@pytest.mark.parametrize(
    "name",
    ["progress", "weekly", "weekly-detail", "trend", "measures", "open-measures", "overdue"],
)
def test_every_overview_table_exports_both_ways(client, keys, data, name):
    sign_in(client, keys.steering)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/export/{name}.{fmt}", params={"to": "2021-12-31"})
        assert r.status_code == 200, (name, fmt, r.text[:300])


@pytest.mark.parametrize(
    "name", ["situation", "effects", "activities", "weekly", "trend", "measures"]
)
def test_every_station_table_exports_both_ways(client, keys, data, name):
    sign_in(client, keys.steering)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/export/{name}.{fmt}", params={"station": "lerum", "to": "2021-12-31"})
        assert r.status_code == 200, (name, fmt, r.text[:300])


# -- bad input is a friendly page, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/?from=yesterday", 422),
        ("/?from=2022-02-30", 422),
        ("/?from=2022-03-01&to=2022-01-01", 422),
        ("/?to=9999-12-31", 422),
        ("/?from=1900-01-01", 422),
        ("/?from=2000-01-01&to=2010-01-01", 422),
        ("/?as_of=nonsense", 422),
        ("/?as_of=2021-02-29", 422),
        ("/?station=nowhere", 404),
        ("/?station=%3Cscript%3E", 422),
        ("/?promise=nope", 404),
        ("/?promise=" + "x" * 300, 422),
        ("/stations/nowhere", 404),
        ("/actors/nobody", 404),
        ("/export/nothing.csv", 404),
        ("/export/progress.pdf", 404),
        ("/export/situation.csv", 422),
        ("/export/weekly.csv?actor=nobody", 404),
        ("/static/nothing.css", 404),
        ("/login?failed=maybe", 422),
    ],
)
def test_bad_query_parameters_get_a_friendly_page(client, keys, data, path, status):
    sign_in(client, keys.steering)
    r = client.get(path)
    assert_friendly(r, status)


def test_static_files_are_only_the_shipped_ones(client):
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert client.get("/static/%2E%2E/app.py").status_code == 404
    assert client.get("/static/favicon.svg").status_code == 200


@pytest.mark.parametrize("path", ["/?by=evil", "/?lang=xx", "/stations/lerum?page=-1"])
def test_unknown_values_are_ignored(client, keys, data, path):
    sign_in(client, keys.steering)
    assert client.get(path).status_code == 200


def test_the_pages_hold_no_personal_data(client, keys, data):
    sign_in(client, keys.steering)
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    for path in ["/", "/stations/lerum", "/actors/vasttrafik", "/report"]:
        html = client.get(path).text
        assert not email.search(html), path


# -- the report command ---------------------------------------------------------------------


def test_the_report_command_writes_the_html(data, cli_env, tmp_path):
    out = tmp_path / "rapport.html"
    r = trygg(
        "report", "--from", "2021-09-01", "--to", "2021-10-31", "--out", str(out), env=cli_env
    )
    assert "Wrote the follow-up report" in r.stdout
    html = out.read_text(encoding="utf-8")
    assert "Uppföljningsrapport" in html
    assert "Trygghetsvärdar på stationerna" in html
    assert "@media print" in html  # the stylesheet travels inside the file
    assert 'href="/stations/' not in html  # no links that lead nowhere in a file
    bad = trygg(
        "report",
        "--from",
        "2021-13-01",
        "--to",
        "2021-10-31",
        "--out",
        str(out),
        env=cli_env,
        check=False,
    )
    assert bad.returncode == 2
    assert "inte ett datum" in bad.stderr


def test_exports_neutralise_formulas_in_headers_and_after_semicolons(client, keys, data, registry):
    """Issue #10: headers come from stored names too, and a spreadsheet splitting on `;`
    must not find a formula after one."""
    registry.registry.register_actor(
        SYSTEM, ActorIn(code="hyper", name="=HYPERLINK(x)", kind="contractor")
    )
    h = {"Authorization": f"Bearer {registry.create_key(Role.partner, 'hyper', None)[1]}"}
    client.post("/v1/activities", json=activity(77, note="lugnt;=cmd|' /C calc'!A0"), headers=h)
    last = client.post("/v1/activities", json=activity(78), headers=keys.header("partner"))
    # The exports read the views as they stand: let them catch up first.
    registry.views.wait_for(last.json()["position"], ("activities",))
    sign_in(client, keys.admin)
    params = {"station": "lerum", "from": "2021-09-27", "to": "2021-10-10", "by": "actor"}
    weekly = client.get("/export/weekly.csv", params=params).content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(weekly), delimiter=";"))
    assert "'=HYPERLINK(x)" in header
    rows = client.get("/export/activities.csv", params=params).content.decode("utf-8-sig")
    assert "lugnt;'=cmd" in rows
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/export/weekly.xlsx", params=params).content)
    )
    cells = [c for c in book.active[1] if c.value == "=HYPERLINK(x)"]
    assert cells
    assert all(c.data_type == "s" for c in cells)


def test_parked_events_are_said_everywhere_the_views_are_read(client, keys, data, registry):
    """Issue #10: an event the views could not apply is reported, loudly: the projections'
    state, /metrics, and a banner on every dashboard page."""
    runner = client.app.state.runtime.runner
    projection = runner.projections["activities"]
    original = projection.apply

    def refuse(conn, tables, events):
        if any(e.data.get("external_id") == "vt-parked" for e in events):
            raise ValueError("cannot project this event")
        return original(conn, tables, events)

    projection.apply = refuse
    try:
        h = keys.header("partner")
        parked = client.post(
            "/v1/activities", json=activity(500, external_id="vt-parked"), headers=h
        )
        later = client.post("/v1/activities", json=activity(501), headers=h).json()
        listed = client.get("/v1/activities", params={"min_position": later["position"]}, headers=h)
        assert listed.status_code == 200  # the views went on past the bad event
        status = {s["name"]: s for s in client.get("/v1/projections", headers=h).json()["items"]}[
            "activities"
        ]
        assert status["state"] == "degraded"
        assert status["parked"] == [parked.json()["position"]]
        assert 'trygg_projection_parked{projection="activities"} 1' in client.get("/metrics").text
        sign_in(client, keys.steering)
        page = client.get("/")
        assert "1 händelser kunde inte visas" in page.text
    finally:
        projection.apply = original
    assert runner.retry_parked("activities") == (1, 0)
    assert "kunde inte visas" not in client.get("/").text


def test_exports_speak_the_readers_language(client, keys, data):
    """Issue #12: Swedish CSV opens in Swedish Excel (BOM, ';', decimal comma); English CSV
    uses ',' and '.'; headers, codes and sheet names follow the language; sheet names are
    cut between words."""
    sign_in(client, keys.steering)
    params = {"station": "lerum", "from": "2021-09-27", "to": "2021-12-31"}
    sv = client.get("/export/progress.csv", params={**params, "lang": "sv"}).content
    assert sv.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(sv.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Åtagande"
    assert any("," in cell for row in rows[1:] for cell in row if cell[:1].isdigit())
    assert {row[-1] for row in rows[1:]} <= {
        "Uppfyllt",
        "Ej uppfyllt",
        "I fas",
        "Ligger efter",
        "Ej påbörjat",
    }
    en = client.get("/export/progress.csv", params={**params, "lang": "en"}).content
    assert not en.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(en.decode("utf-8"))))
    assert rows[0][:2] == ["Commitment", "Actor"]
    assert {row[-1] for row in rows[1:]} <= {"Met", "Missed", "On track", "Behind", "Not started"}
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/export/trend.xlsx", params={**params, "lang": "en"}).content)
    )
    assert book.sheetnames[1] == "Selection"
    long = "Lägesbild: de senaste fyra veckorna mot de fyra före"
    title = sheet_title(long)  # ':' may not stand in a sheet name
    assert len(title) <= 31
    assert title.split() == long.replace(":", "").split()[: len(title.split())]  # whole words


def test_the_triage_form_refuses_to_overwrite_a_decision_made_meanwhile(client, keys, data):
    """Two members answer the same idea: the second form, read before the first was saved,
    gets a 409 page instead of replacing the first answer."""
    sent = client.post(
        "/v1/public/ideas", json={"station": "lerum", "text": "Fler papperskorgar vid perrongen"}
    ).json()
    client.app.state.runtime.views.wait_for(sent["position"], ("ideas",))
    sign_in(client, keys.steering, "/ideas/triage")
    html = client.get("/ideas/triage").text
    csrf = page_csrf(html)
    form = {
        "csrf": csrf,
        "status": "considered",
        "reply": "Vi tittar på det.",
        "expected_version": "1",
    }
    first = client.post(f"/ideas/{sent['id']}/decide", data=form, follow_redirects=False)
    assert first.status_code == 303
    second = client.post(
        f"/ideas/{sent['id']}/decide", data={**form, "reply": "Nej."}, follow_redirects=False
    )
    assert_friendly(second, 409)
    idea = client.get(f"/v1/ideas/{sent['id']}", headers=keys.header("steering")).json()
    assert idea["reply"] == "Vi tittar på det."
