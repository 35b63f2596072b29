"""History kept beside the live tables, so that an "as of" read never replays the log.

Totals tables (daily, weekly) keep two things beside them:

* a **journal**: every change an event made to a total, one row per event and bucket,
  with the event's log position;
* **snapshots**: a full copy of a totals table at a position, taken after a page once the
  journal rows written since the last copy are as many as the table has rows.

The totals as of position ``p`` are the newest snapshot at or before ``p`` plus the journal
rows after it, up to ``p``. Neither part is ever larger than the table itself, whatever the
order in which events arrive, so an "as of" read costs a bounded multiple of the live read.
Each snapshot but the newest is paid for by as many journal rows after it, so the snapshots
of a totals table hold at most the journal's rows plus one copy of the table: the history
stays proportional to the log.

Entries keep their **prior** versions: a row replaced by a later event is kept with the
position that replaced it (``until``). The entries as of ``p`` are the current rows last
changed at or before ``p`` plus the prior versions that were current at ``p``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

#: Below this many pending journal rows no snapshot is taken (tiny tables would otherwise be
#: copied after every page).
SNAPSHOT_MIN_PENDING = 1_000


def copy_table(metadata: MetaData, name: str, source: Table, *first: Column[int]) -> Table:
    """A table with ``first`` and then every column of ``source`` (same types); the copy's
    primary key is ``first`` plus the source's own."""
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in source.columns
    ]
    return Table(name, metadata, *first, *columns)


def snapshots_table(metadata: MetaData, name: str) -> Table:
    """Which snapshots exist: per totals table, the positions copied and the rows copied;
    the newest row also counts the journal rows written since (``pending``)."""
    return Table(
        name,
        metadata,
        Column("tbl", String(32), primary_key=True),
        Column("position", Integer, primary_key=True),
        Column("rows", Integer, nullable=False),
        Column("pending", Integer, nullable=False),
    )


def after_page(
    conn: Connection,
    snapshots: Table,
    totals: dict[str, tuple[Table, Table]],
    position: int,
    written: int,
) -> None:
    """Count ``written`` journal rows against each totals table (``{name: (live, copy)}``)
    and copy those whose pending rows reached their size, as they stand at ``position``."""
    for name, (live, copy) in totals.items():
        found = (
            conn.execute(
                select(snapshots)
                .where(snapshots.c.tbl == name)
                .order_by(snapshots.c.position.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        last = {"position": 0, "rows": 0, "pending": 0}
        if found is None:
            conn.execute(insert(snapshots).values(**last, tbl=name))
        else:
            last = {k: int(found[k]) for k in last}
        pending = last["pending"] + written
        if pending >= max(last["rows"], SNAPSHOT_MIN_PENDING) and position > last["position"]:
            snapshot(conn, snapshots, name, live, copy, position)
        elif written:
            conn.execute(
                update(snapshots)
                .where(snapshots.c.tbl == name, snapshots.c.position == last["position"])
                .values(pending=pending)
            )


def copy_rows(
    conn: Connection, target: Table, marker: str, position: int, source: Select[Any] | Table
) -> None:
    """Insert the rows ``source`` selects into ``target``, with ``marker`` = ``position``
    (the column that says when they were current: ``snap``, ``since``)."""
    rows = source.subquery() if isinstance(source, Select) else source
    columns = [c.name for c in rows.columns]
    conn.execute(
        insert(target).from_select(
            [marker, *columns], select(literal(position, Integer), *rows.columns)
        )
    )


def snapshot(
    conn: Connection, snapshots: Table, name: str, live: Table, copy: Table, position: int
) -> None:
    """Copy ``live`` as it stands at ``position`` into ``copy``."""
    copy_rows(conn, copy, "snap", position, live)
    # Counted, not taken from the INSERT's rowcount: SQLAlchemy reports -1 for INSERT …
    # SELECT on PostgreSQL, which made every page look due for a snapshot.
    copied = conn.execute(select(func.count()).select_from(live)).scalar_one()
    conn.execute(insert(snapshots).values(tbl=name, position=position, rows=copied, pending=0))


def totals_as_of(
    conn: Connection,
    snapshots: Table,
    name: str,
    live: Table,
    copy: Table,
    journal: Table,
    position: int,
) -> Subquery:
    """``live`` as it stood at ``position``, as a selectable with the same columns. Buckets
    may appear more than once (a snapshot row and journal rows): readers sum them."""
    taken = conn.execute(
        select(func.max(snapshots.c.position)).where(
            snapshots.c.tbl == name, snapshots.c.position <= position
        )
    ).scalar()
    since = int(taken or 0)
    columns = [c.name for c in live.columns]
    base = select(*[copy.c[c] for c in columns]).where(copy.c.snap == since)
    tail = select(*[journal.c[c] for c in columns]).where(
        journal.c.position > since, journal.c.position <= position
    )
    return union_all(base, tail).subquery(live.name)


def entries_as_of(entries: Table, prior: Table, position: int) -> Subquery:
    """The entries as they stood at ``position``: each entry's version current then."""
    columns = [c.name for c in entries.columns]
    current = select(entries).where(entries.c.position <= position)
    before = select(*[prior.c[c] for c in columns]).where(
        prior.c.position <= position, prior.c.until > position
    )
    return union_all(current, before).subquery(entries.name)
