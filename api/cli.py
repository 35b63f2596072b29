"""The ``trygg`` command line: serve, demo, keys.

Commands act on the database in ``TRYGG_DATABASE_URL`` (default: ./trygg.db).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.runtime import Runtime
from ledger.access import Role
from ledger.errors import LedgerError
from ledger.settings import ConfigurationError, Settings

app = typer.Typer(
    name="trygg",
    help="Trygg Ledger: an event-sourced activity ledger for a medborgarlöfte.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
projections_app = typer.Typer(help="Projection status and rebuilds.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
witness_app = typer.Typer(
    help="Run a witness that cosigns a ledger's checkpoints (C2SP tlog-witness).",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")

console = Console()
err = Console(stderr=True)


def _runtime(settings: Settings | None = None) -> Runtime:
    """Every part of the ledger on ``TRYGG_DATABASE_URL`` (or ``settings``), or exit 2
    with a clear message on a setting that cannot work."""
    try:
        return Runtime(settings or Settings())
    except ConfigurationError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None


def _fail(error: LedgerError) -> typer.Exit:
    err.print(f"[red]error ({error.code}):[/] {error.detail}")
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log every request")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API processes (each serves requests; one of them runs the background jobs)",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (and the docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    _runtime(settings).close()  # fail fast, with a clear message, on a bad database URL
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "log_config": log_config_without_addresses(),
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)
    else:
        # Each worker process builds its app (and settings, from the same environment).
        uvicorn.run("api.app:create_app", factory=True, workers=workers, **common)


def log_config_without_addresses() -> dict[str, Any]:
    """uvicorn's logging, with access lines that leave out the client's address: residents
    send ideas without being recorded, and nobody else needs their addresses either."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["fmt"] = '%(levelprefix)s "%(request_line)s" %(status_code)s'
    return config


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated)")] = Path(
        "trygg-demo.db"
    ),
    seed: Annotated[int, typer.Option(help="seed for the generated activity")] = 2021,
    days: Annotated[
        int, typer.Option(min=1, max=400, help="how many days of the promise to generate")
    ] = 365,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the API when the data is ready")
    ] = True,
) -> None:
    """Build a fresh demo database (the 2021–2022 promise with a year of activity) and serve it."""
    from api.demo import populate

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}")
    runtime = _runtime(settings)
    try:
        with console.status("Generating a year of activity…"):
            summary = populate(runtime, seed=seed, days=days)
        print(
            f"Demo ready in {db}: {summary.stations} stations, {summary.actors} actors, "
            f"{summary.activities} activities, {summary.observations} observations, "
            f"{summary.corrections} corrections, {summary.retractions} retractions."
        )
        # Plain lines, never wrapped or shortened: people copy these tokens.
        print("\nAPI keys (shown once):")
        for role, actor, token in summary.keys:
            print(f"  {role:<9} {actor or '-':<18} {token}")
        admin = next(t for r, _, t in summary.keys if r == "admin")
        print(f"\nTry:\n  curl -H 'Authorization: Bearer {admin}' http://{host}:{port}/v1/stations")
    finally:
        runtime.close()
    if serve_after:
        import uvicorn

        from api.app import create_app

        print(
            f"\nDashboard: http://{host}:{port}/  (sign in with the steering key above)\n"
            f"API docs:  http://{host}:{port}/docs\nCtrl-C stops."
        )
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="partner, steering, auditor or admin")],
    actor: Annotated[str | None, typer.Option(help="the actor code (partner keys only)")] = None,
    name: Annotated[str | None, typer.Option(help="a label for people")] = None,
) -> None:
    """Create a key. The token is printed once, as the last line."""
    runtime = _runtime()
    try:
        key, token = runtime.create_key(role, actor, name)
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        runtime.close()
    console.print(
        f"Created key {key.id} ({key.role.value}{', ' + key.actor if key.actor else ''})."
    )
    console.print("The token below is shown only now; store it safely.")
    print(token)


@keys_app.command("list")
def keys_list() -> None:
    """One key per line: id, role, actor, name, created, status. Never a token."""
    runtime = _runtime()
    try:
        keys = runtime.keys.list()
    finally:
        runtime.close()
    for key in keys:
        status = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        print(
            f"{key.id}\t{key.role.value}\t{key.actor or '-'}\t{key.name}\t"
            f"{key.created_at:%Y-%m-%d %H:%M}\t{status}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (from keys list)")],
) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    runtime = _runtime()
    try:
        key = runtime.keys.revoke(key_id)
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        runtime.close()
    console.print(f"Revoked key {key.id} ({key.name}).")


@app.command()
def project(
    poll: Annotated[float, typer.Option(help="seconds between polls when idle")] = 0.5,
) -> None:
    """Run the projection runner and the sealer (production: one such process beside the
    API processes, which then run with TRYGG_EMBEDDED_PROJECTIONS=false)."""
    import logging
    import signal
    import threading

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = _runtime()
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    console.print(
        f"Projecting {', '.join(runtime.runner.projections)} and sealing (or standing by while "
        "another process does); Ctrl-C stops."
    )
    try:
        runtime.lead_jobs(stopping, poll_seconds=poll)
    finally:
        runtime.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each projection's generation, position, lag behind the log and last error."""
    runtime = _runtime()
    try:
        rows = runtime.runner.status()
    finally:
        runtime.close()
    table = Table(
        "projection", "generation", "state", "position", "head", "lag", "parked", "last error"
    )
    for r in rows:
        d = r.as_dict()
        table.add_row(
            d["name"],
            str(d["generation"]),
            d["state"],
            str(d["position"]),
            str(d["head"]),
            str(d["lag"]),
            ", ".join(map(str, d["parked"]))
            + (" …" if d["parked_count"] > len(d["parked"]) else ""),
            (f"at {d['error_position']}: {d['last_error']}" if d["last_error"] else ""),
        )
    console.print(table)
    if any(r.parked_count for r in rows):
        err.print(
            "[yellow]Some events could not be applied and are parked[/] (the views leave them "
            "out); after a fix, `trygg projections retry` applies them."
        )


def _projection_names(runtime: Runtime, name: str | None) -> list[str]:
    """The projection named (all when ``None``); exits 2 naming the known ones if unknown."""
    known = list(runtime.runner.projections)
    if name is not None and name not in known:
        err.print(f"[red]error:[/] no projection {name!r}; known: {', '.join(known)}")
        raise typer.Exit(2)
    return [name] if name else known


@projections_app.command("retry")
def projections_retry(
    name: Annotated[str | None, typer.Argument(help="one projection (default: all)")] = None,
) -> None:
    """Re-apply parked events (those a projection could not apply), in log order, after a
    fix. Exit 1 if any still fail (they stay parked, with their new error)."""
    runtime = _runtime()
    try:
        names = _projection_names(runtime, name)
        still = 0
        for n in names:
            fixed, left = runtime.runner.retry_parked(n)
            still += left
            console.print(f"{n}: {fixed} parked events applied, {left} still parked")
    finally:
        runtime.close()
    if still:
        raise typer.Exit(1)


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(help="one projection (default: all)")] = None,
) -> None:
    """Rebuild from the start of the log into new tables, then swap them in atomically.
    The old tables keep serving until the swap."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TimeRemainingColumn,
    )

    from projections.rebuild import rebuild

    runtime = _runtime()
    try:
        names = _projection_names(runtime, name)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            for n in names:
                task = bar.add_task(n, total=max(1, runtime.runner.head()))

                def advance(position: int, head: int, task: TaskID = task) -> None:
                    bar.update(task, completed=position, total=max(1, head))

                generation = rebuild(runtime.runner, n, progress=advance)
                bar.update(task, description=f"{n} → generation {generation}")
    finally:
        runtime.close()


@app.command()
def replay(
    as_of: Annotated[
        str, typer.Option("--as-of", help="ISO 8601 timestamp with offset, or a log position")
    ],
    out: Annotated[Path, typer.Option(help="where to write the JSON")],
) -> None:
    """Write every summary as it stood at a point in the log, from the history the views
    keep (no server needed: the views are brought up to date first)."""
    import json

    from ledger.access import SYSTEM
    from projections.asof import parse_as_of

    runtime = _runtime()
    try:
        point = parse_as_of(as_of)
        runtime.runner.catch_up_all()  # safe beside a running server: each event applies once
        views = runtime.views
        registry = runtime.registry
        report: dict[str, Any] = {
            "as_of": as_of,
            "stations": {
                s.code: views.station_summary(SYSTEM, s.code, as_of=point)
                for s in registry.list_stations(SYSTEM)
            },
            "actors": {
                a.code: views.actor_summary(SYSTEM, a.code, as_of=point)
                for a in registry.list_actors(SYSTEM)
            },
            "promises": {
                p.code: views.promise_progress(SYSTEM, p.code, as_of=point)
                for p in registry.list_promises(SYSTEM)
            },
            "situation": views.situation(SYSTEM, station=None, start=None, end=None, as_of=point),
            "measures": views.measures(SYSTEM, as_of=point),
        }
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        runtime.close()
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    first: dict[str, Any] = next(iter(report["stations"].values()), {})
    position = first.get("as_of_position")
    console.print(f"Wrote the views as of {as_of} (log position {position}) to {out}.")


@app.command()
def checkpoint() -> None:
    """Seal every event up to now into the Merkle tree, sign a checkpoint of it and ask the
    witnesses (TRYGG_WITNESSES) to cosign it (the server also does all this every
    TRYGG_CHECKPOINT_INTERVAL_SECONDS while the log grows)."""
    runtime = _runtime()
    try:
        audit = runtime.audit
        with console.status("Sealing the log…") as status:
            if audit.witnesses.configured:
                status.update(f"Signing, and asking {audit.witnesses.configured} witnesses…")
            signed = audit.issue_witnessed_checkpoint()
            witnesses = audit.witness_status()
        key = audit.signer.verifier_key
    finally:
        runtime.close()
    console.print(f"Signed a checkpoint of {signed['tree_size']} events.")
    if witnesses["configured"]:
        console.print(f"Witnessed by {witnesses['witnessed']} of {witnesses['configured']}.")
        for w in witnesses["witnesses"]:
            if not w["cosigned_latest"]:
                err.print(f"[yellow]{w['name']}[/]: {w['last_error']}")
    print(signed["note"], end="")
    print(f"Verifier key: {key}")


@app.command("check-saved")
def check_saved_command(
    saved: Annotated[Path, typer.Option(help="a checkpoint note you saved earlier (from /public)")],
    url: Annotated[str, typer.Option(help="the ledger's address, e.g. https://trygg.example")],
    key: Annotated[
        str | None,
        typer.Option(
            help="the log's verifier key, as published by the parties (default: ask the "
            "ledger, which only proves it is the same key as before)"
        ),
    ] = None,
) -> None:
    """Check, with no account, that the ledger's history still contains a checkpoint you
    saved: fetches the latest checkpoint and a consistency proof from the public endpoints."""
    import httpx

    from ledger.audit.checkpoint import CheckpointError, parse_checkpoint
    from ledger.audit.saved import check_saved

    base = url.rstrip("/")
    try:
        saved_note = saved.read_text(encoding="utf-8")
        first = parse_checkpoint(saved_note).size
    except (OSError, UnicodeDecodeError, CheckpointError) as e:
        err.print(f"[red]{saved} is not a readable checkpoint note:[/] {e}")
        raise typer.Exit(2) from None
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            verifier = (
                key
                or client.get("/v1/public/audit/public-key")
                .raise_for_status()
                .json()["verifier_key"]
            )
            latest = client.get("/v1/public/audit/checkpoint").raise_for_status().text
            second = parse_checkpoint(latest).size
            proof: list[bytes] = []
            if 0 < first < second:
                answer = client.get(
                    "/v1/public/audit/proofs/consistency",
                    params={"first": first, "second": second},
                ).raise_for_status()
                proof = [bytes.fromhex(h) for h in answer.json()["proof"]]
    except (httpx.HTTPError, ValueError, KeyError) as e:
        err.print(f"[red]could not fetch what is needed from {base}:[/] {e}")
        raise typer.Exit(2) from None
    result = check_saved(saved_note, latest, verifier, proof)
    if result.ok:
        console.print(f"[green]OK[/]: {result.message}")
        return
    err.print(f"[red]FAILED[/]: {result.message}")
    raise typer.Exit(1)


@app.command("public-key")
def public_key() -> None:
    """Print this ledger's checkpoint verifier key (name+keyid+base64): what witnesses are
    given with `trygg witness serve --log` and auditors with `--key`."""
    runtime = _runtime()
    try:
        print(runtime.audit.signer.verifier_key)
    finally:
        runtime.close()


@app.command()
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="an auditor's earlier checkpoint note: prove today's log extends it"),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="the verifier key that signed --checkpoint (default: this ledger's)"),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="a witness verifier key (name+keyid+base64) you trust; repeat for several",
        ),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(min=1, help="cosignatures needed from --witness keys (default: all of them)"),
    ] = None,
) -> None:
    """Recompute every leaf, the tree, each checkpoint and every stored text from the
    stored events; never seals or signs anything (that is `trygg checkpoint`).
    With --witness, the latest checkpoint must also carry --quorum valid cosignatures
    by those keys: the host's own key alone can re-sign a rewritten history; it cannot
    make independent witnesses cosign one.
    Exit 0 when intact; otherwise 1 and the first bad position and what is wrong."""
    from ledger.audit.checkpoint import CheckpointError
    from ledger.audit.cosignature import parse_witness_key
    from ledger.audit.verify import verify_ledger

    try:
        witness_keys = [parse_witness_key(w) for w in witness or []]
    except CheckpointError as e:
        err.print(f"[red]error:[/] --witness: {e}")
        raise typer.Exit(2) from None
    if quorum is not None and quorum > len(witness_keys):
        err.print(f"[red]error:[/] --quorum {quorum} needs at least {quorum} --witness keys")
        raise typer.Exit(2)
    runtime = _runtime()
    try:
        audit = runtime.audit
        with console.status("Verifying the log…") as status:
            report = verify_ledger(
                runtime.ledger.recorder,
                runtime.engine,
                audit.signer.verifier_key,
                auditor_checkpoint=checkpoint.read_text(encoding="utf-8") if checkpoint else None,
                auditor_key=key,
                witnesses=witness_keys,
                quorum=len(witness_keys) if quorum is None else quorum,
                progress=lambda n: status.update(f"Verifying the log… {n} leaves"),
            )
    finally:
        runtime.close()
    if report.ok:
        console.print(
            f"[green]OK[/]: {report.leaves} sealed events, {report.checkpoints} signed checkpoints"
            + (", and your checkpoint," if checkpoint else "")
            + f" all match the stored events; {report.texts} stored texts match their "
            f"references; {report.erased_fields} fields were erased by "
            f"{'an erasure record' if report.erased_fields == 1 else 'erasure records'} "
            f"({report.erased_texts} texts)."
        )
        if report.witnessed is not None:
            console.print(
                f"The latest checkpoint (size {report.witnessed['tree_size']}) is cosigned by "
                f"{len(report.witnessed['by'])} of {len(witness_keys)} witnesses "
                f"({', '.join(report.witnessed['by'])}); quorum {report.witnessed['quorum']}."
            )
        if report.unsealed:
            console.print(
                f"{report.unsealed} newer events are not sealed yet; they are checked once "
                "sealed (`trygg checkpoint`)."
            )
        return
    first = report.first
    assert first is not None
    where = f" at position {first.position}" if first.position is not None else ""
    where += f" (leaf {first.leaf_index})" if first.leaf_index is not None else ""
    err.print(f"[red]FAILED[/]: {first.kind}{where}: {first.detail}")
    raise typer.Exit(1)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="NDJSON file to write")],
    after: Annotated[int, typer.Option(min=0, help="only events after this position")] = 0,
    checkpoint_out: Annotated[
        Path | None, typer.Option(help="also write a fresh signed checkpoint note here")
    ] = None,
) -> None:
    """Write the sealed log as NDJSON for offline verification (python -m ledger.audit.standalone)."""
    import json

    runtime = _runtime()
    try:
        audit = runtime.audit
        latest = audit.issue_witnessed_checkpoint()
        count = 0
        with out.open("w", encoding="utf-8") as f:
            for record in audit.export(after=after):
                f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
        if checkpoint_out is not None:
            checkpoint_out.write_text(latest["note"], encoding="utf-8")
        key = audit.signer.verifier_key
    finally:
        runtime.close()
    console.print(f"Wrote {count} events to {out}.")
    if checkpoint_out is not None:
        console.print(f"Checkpoint (tree size {latest['tree_size']}) in {checkpoint_out}.")
    print(f"Verifier key: {key}")


@app.command()
def erase(
    entry_id: Annotated[str, typer.Argument(help="the activity's (or observation's) id")],
    field: Annotated[
        list[str],
        typer.Option(
            "--field",
            help="a text field to erase: note, reason, details.title, details.description, "
            "details.unit (repeat for several)",
        ),
    ],
    reason: Annotated[str, typer.Option(help="why (a case reference; never the text itself)")],
    observation: Annotated[
        bool, typer.Option("--observation", help="the id is an observation's")
    ] = False,
) -> None:
    """Erase free text (personal data that slipped past the screening) from every version
    of one entry. The text leaves every read and the database; an erasure record stays in
    the history; every Merkle leaf, checkpoint and proof stays valid."""
    from uuid import UUID

    from ledger.access import Principal
    from ledger.entry_service import ACTIVITY, OBSERVATION
    from ledger.inputs import ErasureIn, parse

    kind = OBSERVATION if observation else ACTIVITY
    try:
        parsed_id = UUID(entry_id)
    except ValueError:
        err.print(f"[red]error:[/] {entry_id!r} is not an id")
        raise typer.Exit(2) from None
    runtime = _runtime()
    try:
        body = parse(ErasureIn, {"fields": field, "reason": reason})
        who = Principal(key_id="cli", role=Role.admin)
        receipt = runtime.entries.erase_texts(kind, who, parsed_id, body)
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        runtime.close()
    console.print(
        f"Erased {receipt.extra['texts']} texts ({', '.join(receipt.extra['erased'])}) from "
        f"{kind.noun} {parsed_id}; the erasure record is at log position {receipt.position}."
    )


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="a CSV file, header row = field names", exists=True)],
    actor: Annotated[str, typer.Option(help="the actor whose activities these are")],
    observations: Annotated[
        bool, typer.Option("--observations", help="the rows are observations, not activities")
    ] = False,
) -> None:
    """Import activities (or observations) from CSV for a partner without an integration.
    Every row is checked first; nothing is stored unless all rows are valid. Re-importing
    the same file stores nothing new."""
    from rich.progress import Progress

    from ledger.csv_import import import_csv as import_rows
    from ledger.entry_service import ACTIVITY, OBSERVATION

    kind = OBSERVATION if observations else ACTIVITY
    runtime = _runtime()
    try:
        with Progress(console=console) as bar, file.open(encoding="utf-8-sig", newline="") as f:
            task = bar.add_task(f"Importing {kind.noun} rows", total=None)
            done = import_rows(
                runtime.entries,
                kind,
                actor,
                f,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )
    except LedgerError as e:
        details = e.extra.get("errors") or []
        err.print(f"[red]error ({e.code}):[/] nothing was stored")
        for x in details[:50]:
            err.print(f"  {x['field']}: {x['reason']}")
        if not details:
            err.print(f"  {e.detail}")
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    console.print(
        f"Imported {done.created} new {kind.noun} rows; {done.duplicates} were already stored."
    )


def main() -> None:
    app()


@app.command()
def report(
    start: Annotated[str, typer.Option("--from", help="first day of the period (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="last day of the period (YYYY-MM-DD)")],
    out: Annotated[Path, typer.Option(help="the file to write: .html, or .pdf (needs Chromium)")],
    promise: Annotated[
        str | None, typer.Option(help="the promise's code (default: the current one)")
    ] = None,
    lang: Annotated[str, typer.Option(help="sv (Swedish) or en (English)")] = "sv",
    station: Annotated[
        str | None, typer.Option(help="one station's code (default: every station)")
    ] = None,
) -> None:
    """Write the printable follow-up report for a period: a summary, one section per
    station (commitments, what each party did, the action plan, the lägesbild against the
    period before), then one page per party (the dashboard's /report, offline)."""
    from api.dashboard.report import ReportError, write_report

    if lang not in ("sv", "en"):
        err.print("[red]error:[/] --lang must be sv or en")
        raise typer.Exit(2)
    runtime = _runtime()
    try:
        runtime.runner.catch_up_all()  # the read models as of now, even with no server running
        written = write_report(
            runtime, start=start, end=end, out=out, lang=lang, promise=promise, station=station
        )
    except ReportError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        runtime.close()
    console.print(f"Wrote the follow-up report for {start} – {end} to {written}.")


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[
        str,
        typer.Option(help="the witness's name, e.g. witness.polisen.example/trygg (no spaces)"),
    ],
    out: Annotated[Path, typer.Option(help="file to write the private key to (not overwritten)")],
) -> None:
    """Write a new Ed25519 witness key; print its verifier key (give that to the ledger's
    TRYGG_WITNESSES and to auditors) as the last line."""
    from ledger.audit.cosignature import Cosigner

    try:
        cosigner = Cosigner.generate(name)
    except ValueError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    try:
        cosigner.write_key_file(out)
    except FileExistsError:
        err.print(f"[red]error:[/] {out} exists; a witness key is never overwritten")
        raise typer.Exit(2) from None
    console.print(f"Wrote the witness key to {out} (keep it secret; mode 600).")
    print(cosigner.verifier_key)


@witness_app.command("serve")
def witness_serve(
    key: Annotated[Path, typer.Option(help="the witness key file (trygg witness keygen)")],
    log: Annotated[
        list[str],
        typer.Option(
            "--log",
            help="a ledger's checkpoint verifier key (GET /v1/audit/public-key); its name is "
            "the log's origin. Repeat for several logs",
        ),
    ],
    state: Annotated[
        Path, typer.Option(help="SQLite file where the witness keeps what it cosigned")
    ],
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8020,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness): cosign a ledger's checkpoint only
    when it is signed by the ledger's key and provably extends the last one cosigned."""
    import uvicorn

    from api.witness import create_witness_app
    from ledger.audit.checkpoint import CheckpointError, VerifierKey
    from ledger.audit.cosignature import Cosigner
    from ledger.audit.witness import Witness, WitnessState

    try:
        cosigner = Cosigner.from_key_file(key)
    except (OSError, ValueError) as e:
        err.print(f"[red]error:[/] --key {key}: {e}")
        raise typer.Exit(2) from None
    try:
        logs = [VerifierKey.parse(k.strip()) for k in log]
    except CheckpointError as e:
        err.print(f"[red]error:[/] --log: {e}")
        raise typer.Exit(2) from None
    witness = Witness(cosigner, logs, WitnessState(state))
    console.print(
        f"Witness {cosigner.name} for {', '.join(k.name for k in logs)}; "
        f"state in {state}.\nVerifier key: {cosigner.verifier_key}"
    )
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="info")
