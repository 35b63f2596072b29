"""Every string the dashboard shows, in Swedish (default) and English.

``t(lang, key, **values)`` looks a key up; a missing key is a bug, so it raises.
Codes (activity kinds, categories, statuses…) are translated through ``label``.
Numbers follow the language: ``1 234,5`` in Swedish, ``1,234.5`` in English.
Dates are ISO 8601 in both.
"""

from __future__ import annotations

from typing import Any

LANGS = ("sv", "en")
DEFAULT_LANG = "sv"

UI: dict[str, tuple[str, str]] = {
    # chrome
    "app": ("Trygg Ledger", "Trygg Ledger"),
    "tagline": ("Styrgruppens uppföljning", "Steering group follow-up"),
    "skip": ("Hoppa till innehållet", "Skip to content"),
    "nav": ("Huvudmeny", "Main menu"),
    "breadcrumb": ("Du är här", "You are here"),
    "nav_overview": ("Översikt", "Overview"),
    "nav_stations": ("Stationer", "Stations"),
    "nav_actors": ("Aktörer", "Actors"),
    "nav_report": ("Rapport", "Report"),
    "nav_audit": ("Granskning", "Audit"),
    "language": ("Språk", "Language"),
    "sign_out": ("Logga ut", "Sign out"),
    "signed_in_as": ("Inloggad som {role}", "Signed in as {role}"),
    "role_partner": ("partner ({actor})", "partner ({actor})"),
    "role_steering": ("styrgrupp", "steering group"),
    "role_auditor": ("granskare", "auditor"),
    "role_admin": ("administratör", "administrator"),
    # sign-in
    "sign_in": ("Logga in", "Sign in"),
    "sign_in_intro": (
        "Logga in med din API-nyckel. Nyckeln sparas inte i webbläsaren: du får en "
        "session som gäller i {hours} timmar.",
        "Sign in with your API key. The key is not kept in the browser: you get a "
        "session that lasts {hours} hours.",
    ),
    "token": ("API-nyckel", "API key"),
    "token_hint": ("Börjar med tl_", "Starts with tl_"),
    "bad_token": ("Nyckeln är okänd eller återkallad.", "The key is unknown or revoked."),
    "signed_out": ("Du är utloggad.", "You are signed out."),
    # filters
    "filters": ("Urval", "Filters"),
    "from": ("Från", "From"),
    "to": ("Till", "To"),
    "station": ("Station", "Station"),
    "all_stations": ("Alla stationer", "All stations"),
    "as_of": ("Som det såg ut", "As it stood on"),
    "as_of_hint": ("tomt = nuläget", "empty = now"),
    "show": ("Visa", "Show"),
    "reset": ("Återställ", "Reset"),
    "as_of_banner": (
        "Du ser läget som det såg ut {date} (loggposition {position}): senare händelser, "
        "rättelser och återkallelser syns inte.",
        "You are looking at the situation as it stood on {date} (log position {position}): "
        "later events, corrections and retractions are not shown.",
    ),
    "back_to_now": ("Visa nuläget", "Show the present"),
    "quick_picks": ("Snabbval", "Quick picks"),
    "scroll_hint": (
        "Svep eller rulla i sidled för att se hela tabellen →",
        "Swipe or scroll sideways to see the whole table →",
    ),
    "table_region": ("Tabell", "Table"),
    "pick_period": ("Hela löftesperioden", "The whole promise period"),
    "pick_tertial": ("Tertial {name}", "Tertial {name}"),
    "pick_quarter": ("Kvartal {name}", "Quarter {name}"),
    "pick_month": ("Förra månaden ({name})", "Last month ({name})"),
    "parked_banner": (
        "{n} händelser kunde inte visas: vyerna utelämnar dem tills felet är åtgärdat "
        "(loggpositioner under Granskning; administratören kör trygg projections retry).",
        "{n} events could not be shown: the views leave them out until the fault is fixed "
        "(log positions under Audit; the administrator runs trygg projections retry).",
    ),
    "range_note": ("Visar {start} – {end}", "Showing {start} – {end}"),
    # overview
    "overview_title": ("Översikt", "Overview"),
    "period": ("Löftesperiod", "Promise period"),
    "elapsed": (
        "{share} av perioden har gått ({date})",
        "{share} of the period has passed ({date})",
    ),
    "period_over": ("Perioden är slut", "The period is over"),
    "status_on": ("Status {date}", "Status on {date}"),
    "matrix_title": ("Åtaganden per station", "Commitments by station"),
    "matrix_caption": (
        "Levererat {start} – {end} mot målet för samma dagar, bedömt {date}. Håll muspekaren "
        "över en ruta för siffrorna.",
        "Delivered {start} – {end} against the target for the same days, judged on {date}. "
        "Hover over a cell for the numbers.",
    ),
    "commitment": ("Åtagande", "Commitment"),
    "no_promise": (
        "Inget medborgarlöfte är registrerat ännu. En administratör registrerar löftet via "
        "API:t (POST /v1/promises).",
        "No citizen promise has been registered yet. An administrator registers it through "
        "the API (POST /v1/promises).",
    ),
    "weekly_all_title": ("Aktiviteter per vecka och aktör", "Activities per week and actor"),
    "situation_summary_title": (
        "Lägesbild: senaste fyra veckorna mot de fyra före",
        "Situation: the last four weeks against the four before",
    ),
    "situation_summary_caption": (
        "Antal rapporterade händelser per vecka (snitt) t.o.m. {date}. ↑ fler, ↓ färre.",
        "Reported incidents per week (average) up to {date}. ↑ more, ↓ fewer.",
    ),
    "overdue_title": ("Försenade åtgärder", "Overdue measures"),
    "none_overdue": ("Inga försenade åtgärder.", "No overdue measures."),
    "cell_title": (
        "{commitment} – {station}: {status}. Levererat {delivered} av {target} {metric} "
        "({share}); förväntat hittills {expected}.",
        "{commitment} – {station}: {status}. Delivered {delivered} of {target} {metric} "
        "({share}); expected by now {expected}.",
    ),
    "not_included": ("Ingår ej", "Not included"),
    "status_count": ("{n} av {total}", "{n} of {total}"),
    # station
    "station_title": ("{station} station", "{station} station"),
    "municipality": ("Kommun: {m}", "Municipality: {m}"),
    "weekly_title": ("Aktiviteter per vecka", "Activities per week"),
    "weekly_detail_title": (
        "Aktiviteter, timmar och personaltimmar per vecka, aktör och typ",
        "Activities, hours and staff hours per week, actor and kind",
    ),
    "by_actor": ("per aktör", "by actor"),
    "by_kind": ("per typ", "by kind"),
    "group_by": ("Dela upp", "Break down"),
    "situation_title": ("Lägesbild per kategori", "Situation by category"),
    "situation_caption": (
        "Rapporterade händelser per vecka. Streckade linjer: åtgärder som blev klara.",
        "Reported incidents per week. Dashed lines: measures that were completed.",
    ),
    "effects_title": ("Före och efter genomförda åtgärder", "Before and after completed measures"),
    "effects_caption": (
        "Rapporterade händelser per vecka upp till tolv veckor före och efter veckan då "
        "åtgärden blev klar. Samtidighet, inte bevisad effekt.",
        "Reported incidents per week up to twelve weeks before and after the week the measure "
        "was completed. Coincidence in time, not proven effect.",
    ),
    "plan_title": ("Åtgärdsplan", "Action plan"),
    "no_plan": ("Ingen åtgärdsplan för stationen.", "No action plan for this station."),
    "latest_title": ("Senaste aktiviteterna", "Latest activities"),
    "latest_asof_note": (
        "Listan visar posterna som de ser ut i dag, med dag till och med {date}.",
        "The list shows entries as they are today, with a day up to {date}.",
    ),
    "actor": ("Aktör", "Actor"),
    "status": ("Status", "Status"),
    "delivered_vs_target": ("Levererat mot mål", "Delivered against target"),
    "delivered_of": ("Levererat / mål", "Delivered / target"),
    "expected": ("Förväntat hittills", "Due by now"),
    "in_range": ("I valt intervall", "In the chosen range"),
    "weeks_met": ("{met} av {n} veckor", "{met} of {n} weeks"),
    "months_met": ("{met} av {n} månader", "{met} of {n} months"),
    "units_met": ("Veckor/månader uppfyllda", "Weeks/months met"),
    "trend_header": ("Senaste 4 v / 4 v före", "Last 4 wk / 4 wk before"),
    "incidents_per_week": ("Händelser per vecka", "Incidents per week"),
    "trend": ("Trend", "Trend"),
    "incidents": ("händelser", "incidents"),
    "station_commitments_caption": (
        "Levererat {start} – {end} mot målet för samma dagar, bedömt {date}. Stapeln: "
        "levererat; strecket: förväntat hittills.",
        "Delivered {start} – {end} against the target for the same days, judged on {date}. "
        "Bar: delivered; tick: due by now.",
    ),
    "station_commitments": ("Åtaganden vid stationen", "Commitments at this station"),
    "no_data": ("Inga uppgifter i urvalet.", "No data in this selection."),
    "corrected": ("Rättad", "Corrected"),
    "retracted": ("Återkallad", "Retracted"),
    "active": ("Gällande", "Active"),
    # actor
    "actor_title": ("{actor}", "{actor}"),
    "actor_intro": (
        "Vad organisationen har levererat mot sina åtaganden, per station, fram till {date}.",
        "What the organisation delivered against its commitments, by station, up to {date}.",
    ),
    "no_commitments": ("Aktören har inga åtaganden i löftet.", "The actor has no commitments."),
    "actor_weekly_title": ("Aktiviteter per vecka och station", "Activities per week and station"),
    "expected_marker": ("Streck: förväntat hittills", "Tick: expected by now"),
    # audit
    "audit_title": ("Granskning", "Audit"),
    "projections_title": ("Projektioner (läsmodeller)", "Projections (read models)"),
    "projections_caption": (
        "Hur långt varje läsmodell har kommit i händelseloggen. Eftersläpning 0 = aktuell.",
        "How far each read model has come in the event log. Lag 0 = up to date.",
    ),
    "audit_service": ("Kontrollpunkter och verifiering", "Checkpoints and verification"),
    "audit_absent": (
        "Granskningstjänsten (signerade kontrollpunkter) är inte igång i den här "
        "installationen. Kör `trygg verify` för att kontrollera loggen.",
        "The audit service (signed checkpoints) is not running in this installation. Run "
        "`trygg verify` to check the log.",
    ),
    "audit_failed": (
        "Granskningstjänsten svarade inte just nu.",
        "The audit service did not answer right now.",
    ),
    "latest_checkpoint": ("Senaste kontrollpunkt", "Latest checkpoint"),
    "witnesses": ("Vittnen", "Witnesses"),
    "witnessed_by": ("Bevittnad av {n} av {m}", "Witnessed by {n} of {m}"),
    "witnesses_hint": (
        "Vittnena drivs av andra parter. De kontrasignerar en kontrollpunkt bara om den "
        "bygger vidare på det de redan sett, så ingen enskild part kan skriva om historiken.",
        "The witnesses are run by other parties. They cosign a checkpoint only if it extends "
        "what they have already seen, so no single party can rewrite the history.",
    ),
    "no_witnesses": (
        "Inga vittnen är konfigurerade (TRYGG_WITNESSES). Då kan den som har databasen och "
        "signeringsnyckeln skriva om historiken utan att det syns.",
        "No witnesses are configured (TRYGG_WITNESSES). Whoever holds the database and the "
        "signing key could then rewrite the history unnoticed.",
    ),
    "witness": ("Vittne", "Witness"),
    "cosigned_size": ("Senast kontrasignerat", "Last cosigned size"),
    "cosigned_at": ("När", "When"),
    "witness_state": ("Läge", "State"),
    "witness_ok": ("Har kontrasignerat den senaste", "Cosigned the latest"),
    "witness_waiting": ("Väntar", "Waiting"),
    "witness_last_error": ("Senaste fel", "Last error"),
    "witness_behind": ("Har inte kontrasignerat den senaste", "Has not cosigned the latest"),
    "no_checkpoint": ("Ingen kontrollpunkt ännu.", "No checkpoint yet."),
    "last_verify": ("Senaste verifiering", "Last verification"),
    "never_verified": ("Ingen verifiering ännu.", "Not verified yet."),
    "verifier_key": ("Verifieringsnyckel", "Verifier key"),
    "verifier_key_hint": (
        "Spara nyckeln: med den kontrollerar du kontrollpunkternas signaturer utan att lita "
        "på servern.",
        "Keep this key: with it you check the checkpoints' signatures without trusting the server.",
    ),
    "sealed_size": ("Förseglade händelser", "Sealed events"),
    "head": ("Loggens längd", "Log length"),
    "lag": ("Eftersläpning", "Lag"),
    "tree_size": ("Trädstorlek", "Tree size"),
    "root_hash": ("Rothash", "Root hash"),
    "issued_at": ("Utfärdad", "Issued"),
    "note": ("Anteckning", "Note"),
    # report
    "report_title": ("Uppföljningsrapport", "Follow-up report"),
    "report_link": ("Utskriftsvänlig rapport för perioden", "Printable report for the period"),
    "report_intro": (
        "Rapporten omfattar {start} – {end}. Status avser läget {end}; underlaget hämtades "
        "{generated} (loggposition {position}).",
        "The report covers {start} – {end}. Status refers to {end}; the data were read "
        "{generated} (log position {position}).",
    ),
    "report_as_of": (
        "Underlaget är läget som det såg ut {date}: senare händelser och rättelser ingår inte.",
        "The data are the situation as it stood on {date}: later events and corrections are "
        "not included.",
    ),
    "report_summary": ("Sammanfattning", "Summary"),
    "report_summary_text": (
        "Perioden {start} – {end}: av {total} åtaganden (per station) uppfylldes {met}, "
        "{on_track} ligger i fas, {behind} ligger efter, {missed} uppfylldes inte och "
        "{not_started} har inte påbörjats. Parterna registrerade {activities} aktiviteter "
        "vid stationerna.",
        "The period {start} – {end}: of {total} commitments (per station), {met} were met, "
        "{on_track} are on track, {behind} are behind, {missed} were missed and "
        "{not_started} have not started. The parties recorded {activities} activities at "
        "the stations.",
    ),
    "report_built_from": (
        "Byggd ur loggen till och med position {position}",
        "Built from the log up to position {position}",
    ),
    "report_checkpoint": (
        "senaste signerade kontrollpunkt: {size} händelser, rot {root}…, {issued}",
        "latest signed checkpoint: {size} events, root {root}…, {issued}",
    ),
    "report_station_commitments": ("Åtaganden vid stationen", "Commitments at the station"),
    "report_station_work": ("Vad parterna gjorde", "What the parties did"),
    "report_notable": ("Noterbart", "Notable"),
    "report_done": ("Genomförda åtgärder", "Measures completed"),
    "report_open": ("Öppna åtgärder", "Open measures"),
    "report_situation_change": (
        "Lägesbild: händelser jämfört med perioden innan ({before})",
        "Situation: incidents against the period before ({before})",
    ),
    "report_parties": ("Per part", "By party"),
    "report_now": ("Perioden", "The period"),
    "report_before": ("Perioden innan", "The period before"),
    "report_change": ("Förändring", "Change"),
    "report_activities_hours": ("{n} aktiviteter, {h} timmar", "{n} activities, {h} hours"),
    "report_page": ("Sida", "Page"),
    "participants": ("deltagare", "participants"),
    "findings": ("fynd", "findings"),
    "none_done": ("Inga genomförda åtgärder i planen.", "No measures completed in the plan."),
    "report_commitments": ("Åtaganden", "Commitments"),
    "report_situation": ("Lägesbild", "Situation"),
    "report_measures": ("Öppna åtgärder", "Open measures"),
    "none_open": ("Inga öppna åtgärder.", "No open measures."),
    "print": ("Skriv ut", "Print"),
    "report_per_actor": ("{actor}", "{actor}"),
    # tables and charts
    "download": ("Ladda ned", "Download"),
    "download_table": (
        "Ladda ned tabellen {title} som {fmt}",
        "Download the table {title} as {fmt}",
    ),
    "chart_table": ("Visa siffrorna som tabell", "Show the numbers as a table"),
    "week_short": ("v. {n}", "wk {n}"),
    "per_week": ("per vecka", "per week"),
    "total": ("Totalt", "Total"),
    "trend_up": ("Ökning", "Increase"),
    "trend_down": ("Minskning", "Decrease"),
    "trend_flat": ("Oförändrat", "Unchanged"),
    "trend_new": ("Nytt", "New"),
    # errors
    "error_title": ("Något gick inte att visa", "Something could not be shown"),
    "error_400": ("Felaktigt urval", "Invalid selection"),
    "error_403": ("Ingen behörighet", "Not allowed"),
    "error_404": ("Hittades inte", "Not found"),
    "error_409": ("Konflikt", "Conflict"),
    "error_422": ("Felaktigt urval", "Invalid selection"),
    "error_500": ("Ett oväntat fel", "An unexpected error"),
    "error_503": ("Tillfälligt otillgänglig", "Temporarily unavailable"),
    "error_403_detail": ("Din roll får inte se den här sidan.", "Your role may not see this page."),
    "error_403_audit": (
        "Granskningssidan är till för granskare och administratörer.",
        "The audit page is for auditors and administrators.",
    ),
    "error_404_detail": ("Sidan eller uppgiften finns inte.", "The page or item does not exist."),
    "error_409_detail": ("Uppgiften har ändrats under tiden.", "The item changed meanwhile."),
    "error_422_detail": ("Urvalet går inte att visa.", "The selection cannot be shown."),
    "error_429_detail": (
        "För många förfrågningar just nu. Vänta en stund och försök igen.",
        "Too many requests right now. Wait a moment and try again.",
    ),
    "error_429": ("För många förfrågningar", "Too many requests"),
    "error_403_partner": (
        "Med en partnernyckel ser du bara din egen organisations sida.",
        "With a partner key you see only your own organisation's page.",
    ),
    "error_csrf": (
        "Formuläret var för gammalt eller kom från en annan sida. Ladda om sidan och försök igen.",
        "The form was too old or came from another site. Reload the page and try again.",
    ),
    "error_500_detail": (
        "Felet är loggat. Försök igen om en stund.",
        "The error was logged. Try again shortly.",
    ),
    "error_503_detail": (
        "Databasen svarar inte just nu. Försök igen om en stund.",
        "The database is not answering right now. Try again shortly.",
    ),
    "go_home": ("Till startsidan", "To the start page"),
    "go_own": ("Till din sida", "To your page"),
    "bad_date": (
        "{field}: ”{value}” är inte ett datum (ÅÅÅÅ-MM-DD).",
        "{field}: “{value}” is not a date (YYYY-MM-DD).",
    ),
    "date_out_of_range": (
        "{field}: välj ett datum mellan {lo} och {hi}.",
        "{field}: choose a date between {lo} and {hi}.",
    ),
    "from_after_to": (
        "Från-datumet ligger efter till-datumet.",
        "The from date is after the to date.",
    ),
    "range_too_long": (
        "Välj ett intervall på högst {years} år.",
        "Choose a range of at most {years} years.",
    ),
    "unknown_station": ("Det finns ingen station ”{code}”.", "There is no station “{code}”."),
    "unknown_table": ("Det finns ingen tabell ”{name}”.", "There is no table “{name}”."),
    "bad_param": ("{field}: ogiltigt värde.", "{field}: invalid value."),
    "idea_title": ("Lämna en idé om tryggheten", "Send an idea about safety"),
    "idea_intro": (
        "Har du idéer eller synpunkter på hur vi kan förbättra tryggheten vid stationen? "
        "Styrgruppen läser alla idéer och svarar på sidan för uppföljning.",
        "Do you have ideas or views on how we can make the station area safer? The steering "
        "group reads every idea and answers on the follow-up page.",
    ),
    "idea_privacy": (
        "Skriv inte namn, telefonnummer, e-post, personnummer eller registreringsnummer. "
        "Vi sparar inget om dig: inget namn, ingen adress, ingen kaka. Beskriv platsen och vad som kan bli bättre.",
        "Do not write names, phone numbers, e-mail addresses, identity numbers or number "
        "plates. Nothing about you is stored: no name, no address, no cookie. Describe the "
        "place and what could be better.",
    ),
    "idea_field_station": ("Station", "Station"),
    "idea_field_zone": ("Var vid stationen", "Where at the station"),
    "idea_field_category": ("Vad gäller det", "What is it about"),
    "idea_field_text": ("Din idé", "Your idea"),
    "idea_optional": ("valfritt", "optional"),
    "idea_choose": ("Välj …", "Choose …"),
    "idea_anywhere": ("Hela stationsområdet", "The whole station area"),
    "idea_text_hint": ("Högst {n} tecken.", "At most {n} characters."),
    "idea_send": ("Skicka idén", "Send the idea"),
    "idea_see_public": (
        "Se uppföljningen och styrgruppens svar",
        "See the follow-up and the steering group's answers",
    ),
    "idea_another": ("Skicka en idé till", "Send another idea"),
    "idea_thanks_title": ("Tack för din idé", "Thank you for your idea"),
    "idea_thanks": (
        "Idén är mottagen. Styrgruppen går igenom idéerna och svaret publiceras på sidan för uppföljning.",
        "Your idea has arrived. The steering group goes through the ideas and its answer is "
        "published on the follow-up page.",
    ),
    "idea_number": ("Idéns nummer:", "The idea's number:"),
    "idea_personal_data": (
        "Texten ser ut att innehålla personuppgifter (till exempel ett telefonnummer, en "
        "e-postadress, ett personnummer eller ett registreringsnummer). Ta bort dem och "
        "skicka igen: beskriv platsen och vad som kan bli bättre, inte personer.",
        "The text seems to hold personal data (such as a phone number, an e-mail address, "
        "an identity number or a number plate). Remove it and send again: describe the "
        "place and what could be better, not people.",
    ),
    "idea_invalid": ("Kontrollera: {fields}.", "Please check: {fields}."),
    "idea_throttled": (
        "Många idéer har kommit härifrån den senaste timmen. Försök igen lite senare.",
        "Many ideas have come from here in the last hour. Please try again a little later.",
    ),
    "public_title": ("Uppföljning för invånare", "Follow-up for residents"),
    "public_kicker": ("Medborgarlöfte", "Citizen promise"),
    "public_period": (
        "Löftesperiod {start} – {end}. Siffrorna räknar till och med {upto}.",
        "Promise period {start} – {end}. The figures count up to and including {upto}.",
    ),
    "public_send_idea": ("Lämna en idé om tryggheten", "Send an idea about safety"),
    "public_commitments": ("Vad parterna lovade och gjorde", "What the parties promised and did"),
    "public_police_note": (
        "Polisens insatser redovisas per månad, aldrig som ett schema.",
        "Police work is shown per month, never as a timetable.",
    ),
    "public_station": ("Station", "Station"),
    "public_months_met": ("{met} av {n} månader uppfyllda", "{met} of {n} months met"),
    "public_nothing_yet": ("Inget att visa ännu.", "Nothing to show yet."),
    "public_measures": ("Genomförda åtgärder", "Completed measures"),
    "public_from_idea": ("från en invånares idé", "from a resident's idea"),
    "public_from_finding": ("från en trygghetsvandring", "from a safety walk"),
    "public_ideas": (
        "Invånarnas idéer och styrgruppens svar",
        "Residents' ideas and the steering group's answers",
    ),
    "public_ideas_note": (
        "Här visas idéer som styrgruppen har tagit ställning till.",
        "Ideas the steering group has decided on are shown here.",
    ),
    "public_reply": ("Svar:", "Answer:"),
    "public_idea_dates": ("Inkom {sent}, besvarad {decided}.", "Sent {sent}, answered {decided}."),
    "public_no_ideas": ("Inga besvarade idéer ännu.", "No answered ideas yet."),
    "public_verify": ("Kontrollera själv", "Check it yourself"),
    "public_verify_intro": (
        "Allt som registreras hamnar i en logg som inte kan ändras i efterhand utan att det syns. "
        "Detta är loggens senaste signerade kontrollpunkt ({size} händelser):",
        "Everything recorded goes into a log that cannot be changed afterwards without it "
        "showing. This is the log's latest signed checkpoint ({size} events):",
    ),
    "public_verify_how": (
        "Spara texten. Senare kan vem som helst hämta ett konsistensbevis från denna storlek "
        "till den senaste (/v1/public/audit/proofs/consistency?first=STORLEK&second=NY) och "
        "kontrollera det mot loggens publika nyckel (/v1/public/audit/public-key), till "
        "exempel med trygg check-saved. Om loggen skrivits om stämmer beviset inte. Raderna under "
        "signaturen är vittnens kontrasignaturer.",
        "Save the text. Later, anyone can fetch a consistency proof from this size to the "
        "latest (/v1/public/audit/proofs/consistency?first=SIZE&second=NEW) and check it "
        "against the log's public key (/v1/public/audit/public-key), for example with trygg "
        "check-saved. If the log were rewritten, the proof would not hold. The lines below the "
        "signature are witnesses' cosignatures.",
    ),
    "public_no_checkpoint": (
        "Ingen kontrollpunkt är utfärdad ännu.",
        "No checkpoint has been issued yet.",
    ),
    "nav_ideas": ("Idéer", "Ideas"),
    "triage_title": ("Invånarnas idéer", "Residents' ideas"),
    "triage_intro": (
        "Idéer som invånare skickat via formuläret. Styrgruppen svarar; svaret och idén "
        "publiceras på sidan för invånare. Obesvarade idéer publiceras inte.",
        "Ideas residents sent through the form. The steering group answers; the answer and "
        "the idea are published on the residents' page. Unanswered ideas are not published.",
    ),
    "triage_public_link": ("Sidan för invånare", "The residents' page"),
    "triage_decided": (
        "Beslutet är sparat och publicerat.",
        "The decision is saved and published.",
    ),
    "triage_all": ("Alla", "All"),
    "triage_list": ("{n} idéer", "{n} ideas"),
    "triage_sent": ("Inkom {day}", "Sent {day}"),
    "triage_measure": ("blev åtgärd {code}", "became measure {code}"),
    "triage_decision": ("Beslut", "Decision"),
    "triage_reply": ("Svar till invånarna (publiceras)", "Answer to residents (published)"),
    "triage_answer": ("Spara och publicera", "Save and publish"),
    "triage_none": ("Inga idéer här.", "No ideas here."),
    "compare_title": (
        "Lägesbilden {quarter} jämfört med tidigare",
        "The situation in {quarter} compared",
    ),
    "compare_caption": (
        "Rapporterade observationer: kvartalet, kvartalet före och samma kvartal året innan.",
        "Observations reported: the quarter, the quarter before and the same quarter a year earlier.",
    ),
    "compare_category": ("Kategori", "Category"),
    "compare_total": ("Totalt", "Total"),
    "baseline_title": (
        "Trygghetsmätning: nollmätning och senaste",
        "Safety survey: baseline and latest",
    ),
    "baseline_change": ("{pp} procentenheter", "{pp} percentage points"),
    "baseline_none": ("Ingen trygghetsmätning registrerad.", "No safety survey recorded."),
    "knowledge_title": ("Kunskapsunderlag", "What the work builds on"),
    "findings_title": ("Fynd från trygghetsvandringar", "Safety-walk findings"),
    "findings_none": ("Inga fynd registrerade.", "No findings recorded."),
    "finding_proposal": ("Förslag:", "Proposal:"),
    "finding_measure": ("åtgärd {code} ({title})", "measure {code} ({title})"),
    "finding_no_measure": ("ingen åtgärd ännu", "no measure yet"),
    "contrib_title": ("Bidrag till lägesbilden", "Reports to the situation picture"),
    "contrib_caption": (
        "Observationer som parten rapporterat, per station och månad.",
        "Observations the party reported, per station and month.",
    ),
    "contrib_none": ("Inga rapporter i perioden.", "No reports in the range."),
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "idea_category": {
        "lighting": ("Belysning", "Lighting"),
        "cleanliness": ("Städning och klotter", "Cleaning and graffiti"),
        "presence": ("Vuxennärvaro", "Adult presence"),
        "environment": ("Utemiljö", "Outdoor environment"),
        "travel": ("Resan", "The journey"),
        "other": ("Annat", "Other"),
    },
    "idea_status": {
        "new": ("Ny", "New"),
        "considered": ("Övervägs", "Being considered"),
        "adopted": ("Genomförs", "Adopted"),
        "declined": ("Avslagen", "Declined"),
    },
    "status": {
        "met": ("Uppfyllt", "Met"),
        "on_track": ("I fas", "On track"),
        "behind": ("Ligger efter", "Behind"),
        "not_started": ("Ej påbörjat", "Not started"),
        "missed": ("Ej uppfyllt", "Missed"),
        "n/a": ("Ingår ej", "Not included"),
    },
    "measure": {
        "planned": ("Planerad", "Planned"),
        "started": ("Påbörjad", "Started"),
        "done": ("Klar", "Done"),
        "cancelled": ("Avbruten", "Cancelled"),
        "overdue": ("Försenad", "Overdue"),
    },
    "kind": {
        "situation_report": ("Bidrag till lägesbilden", "Reports to the situation picture"),
        "patrol": ("Polisiär närvaro", "Police presence"),
        "volunteer_patrol": ("Polisens volontärer", "Police volunteers"),
        "enforcement": ("Brottsbekämpning", "Enforcement"),
        "security_host_shift": ("Trygghetsvärdar", "Security hosts"),
        "cleaning_round": ("Städ- och driftrondering", "Cleaning rounds"),
        "guard_shift": ("Väktare", "Guard shifts"),
        "environment_measure": ("Utemiljöåtgärd", "Outdoor environment"),
        "public_event": ("Trivsel- och trygghetsaktivitet", "Public safety event"),
        "safety_walk": ("Trygghetsvandring", "Safety walk"),
    },
    "category": {
        "vandalism": ("Skadegörelse", "Vandalism"),
        "graffiti": ("Klotter", "Graffiti"),
        "litter": ("Nedskräpning", "Litter"),
        "drugs": ("Narkotikaförekomst", "Drugs"),
        "disorder": ("Ordningsstörning", "Public disorder"),
        "unsafe_spot": ("Otrygg plats", "Unsafe spot"),
        "broken_lighting": ("Trasig belysning", "Broken lighting"),
        "threat_to_staff": ("Hot och våld mot personal", "Threats against staff"),
        "gathering": ("Otrygghetsskapande samling", "Unsettling gathering"),
    },
    "zone": {
        "platform": ("Perrong", "Platform"),
        "tunnel": ("Gångtunnel", "Tunnel"),
        "underpass": ("Undergång", "Underpass"),
        "footbridge": ("Gångbro", "Footbridge"),
        "station_building": ("Stationshus", "Station building"),
        "parking": ("Parkering", "Parking"),
        "bus_stop": ("Busshållplats", "Bus stop"),
        "bike_parking": ("Cykelparkering", "Bike parking"),
        "square": ("Torg", "Square"),
        "surroundings": ("Omgivning", "Surroundings"),
    },
    "per": {
        "week": ("per vecka", "per week"),
        "month": ("per månad", "per month"),
        "period": ("under perioden", "during the period"),
    },
    "metric": {
        "activities": ("aktiviteter", "activities"),
        "hours": ("timmar", "hours"),
        "staff_hours": ("personaltimmar", "staff hours"),
    },
    "metric_one": {
        "activities": ("aktivitet", "activity"),
        "hours": ("timme", "hour"),
        "staff_hours": ("personaltimme", "staff hour"),
    },
    "entry": {
        "active": ("Gällande", "Active"),
        "corrected": ("Rättad", "Corrected"),
        "retracted": ("Återkallad", "Retracted"),
    },
    "trend": {
        "up": ("Ökning", "Increase"),
        "down": ("Minskning", "Decrease"),
        "flat": ("Oförändrat", "Unchanged"),
        "new": ("Nytt", "New"),
    },
    "detail": {
        "conversations": ("samtal", "conversations"),
        "interventions": ("ingripanden", "interventions"),
        "litter_bags": ("säckar skräp", "bags of litter"),
        "graffiti_removed_m2": ("m² klotter sanerat", "m² of graffiti removed"),
        "damage_found": ("skador funna", "damages found"),
        "volunteers": ("volontärer", "volunteers"),
    },
    "projection": {
        "activities": ("Aktiviteter", "Activities"),
        "observations": ("Observationer", "Observations"),
        "action_plans": ("Åtgärdsplaner", "Action plans"),
    },
    "state": {
        "live": ("I drift", "Live"),
        "building": ("Byggs om", "Rebuilding"),
        "failed": ("Stoppad av fel", "Stopped by an error"),
        "degraded": ("Händelser parkerade", "Events parked"),
    },
}


def lang_of(value: str | None) -> str | None:
    return value if value in LANGS else None


def t(lang: str, key: str, **values: Any) -> str:
    text = UI[key][LANGS.index(lang)]
    return text.format(**values) if values else text


def label(lang: str, group: str, code: str | None) -> str:
    if code is None:
        return ""
    found = LABELS[group].get(code)
    return found[LANGS.index(lang)] if found else code


def number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text.replace("-", "−")


def percent(share: float | None, lang: str) -> str:
    if share is None:
        return "–"
    return f"{number(share * 100, lang)}\u00a0%"


def smart(value: float, lang: str) -> str:
    """A figure with a decimal only when it has one (104,3 but 100)."""
    return number(value, lang, 0 if float(value).is_integer() else 1)
