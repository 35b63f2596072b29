"""The ``trygg`` command line: serve, demo, keys.

Commands act on the database in ``TRYGG_DATABASE_URL`` (default: ./trygg.db).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ledger.access import Role
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.storage import DatabaseUrlError
from ledger.system import System

app = typer.Typer(
    name="trygg",
    help="Trygg Ledger: an event-sourced activity ledger for a medborgarlöfte.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
err = Console(stderr=True)


def _system(settings: Settings | None = None) -> System:
    try:
        return System(settings or Settings())
    except DatabaseUrlError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None


def _fail(error: LedgerError) -> typer.Exit:
    err.print(f"[red]error ({error.code}):[/] {error.detail}")
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve the HTTP API (and the docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    _system(settings).close()  # fail fast, with a clear message, on a bad database URL
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


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
    from ledger.demo import populate

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}")
    system = _system(settings)
    try:
        with console.status("Generating a year of activity…"):
            summary = populate(system, seed=seed, days=days)
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
        system.close()
    if serve_after:
        import uvicorn

        from api.app import create_app

        console.print(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="partner, steering, auditor or admin")],
    actor: Annotated[str | None, typer.Option(help="the actor code (partner keys only)")] = None,
    name: Annotated[str | None, typer.Option(help="a label for people")] = None,
) -> None:
    """Create a key. The token is printed once, as the last line."""
    system = _system()
    try:
        key, token = system.create_key(role, actor, name)
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        system.close()
    console.print(
        f"Created key {key.id} ({key.role.value}{', ' + key.actor if key.actor else ''})."
    )
    console.print("The token below is shown only now; store it safely.")
    print(token)


@keys_app.command("list")
def keys_list() -> None:
    """One key per line: id, role, actor, name, created, status. Never a token."""
    system = _system()
    try:
        keys = system.keys.list()
    finally:
        system.close()
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
    system = _system()
    try:
        key = system.keys.revoke(key_id)
    except LedgerError as e:
        raise _fail(e) from None
    finally:
        system.close()
    console.print(f"Revoked key {key.id} ({key.name}).")


def main() -> None:
    app()
