"""Commands and queries on ledger entries (activities and observations).

Idempotency: an entry's id is derived from (actor, external_id), so a retry maps
to the same aggregate id and the event store's unique key admits exactly one
"Recorded" event, however many requests race. A request that loses the race (or
a plain retry) is answered from the stored event: the same content hash gives a
duplicate receipt with the original position, another hash an
``ExternalIdConflict``.

Free text is sealed (``ledger.texts``): events hold references, the texts go to the
erasable side table in the events' transaction. The content hash leaves the texts
out (an unsalted hash of a note would let anyone with the log confirm a guess of it
after an erasure); a replay's texts are compared against the stored references with
their salts instead, and an erased text no longer counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from anyio import to_thread
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.access import Detail, Permission, Principal, Role, may_see
from ledger.application import Ledger
from ledger.domain.entries import Activity, Entry, Observation
from ledger.errors import (
    ExternalIdConflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    VersionConflict,
)
from ledger.first_events import FirstEvent, FirstEventWriter
from ledger.group_commit import GroupCommit
from ledger.hashing import content_hash
from ledger.inputs import (
    ActivityBatchIn,
    ActivityIn,
    CorrectionIn,
    ErasureIn,
    ObservationBatchIn,
    ObservationIn,
    RetractionIn,
    parse,
    parse_json,
)
from ledger.receipts import (
    BatchItemResult,
    BatchReceipt,
    Receipt,
    leaf_hash_for,
    receipt_for,
    timestamp_of,
)
from ledger.registry_service import RegistryCommands
from ledger.rules import check_activity_times, check_observation_time
from ledger.taxonomy import ActivityKind
from ledger.texts import (
    ERASED,
    REF_KEY,
    Sealer,
    TextRow,
    commitment,
    refs_in,
    text_values,
    without_texts,
)

EntryIn = ActivityIn | ObservationIn


@dataclass(frozen=True)
class EntryType:
    noun: str
    aggregate: type[Entry]
    model: type[ActivityIn] | type[ObservationIn]
    batch: type[ActivityBatchIn] | type[ObservationBatchIn]

    def entry_id(self, actor: str, entry: EntryIn) -> UUID:
        return self.aggregate.create_id(actor, entry.external_id)


ACTIVITY = EntryType("activity", Activity, ActivityIn, ActivityBatchIn)
OBSERVATION = EntryType("observation", Observation, ObservationIn, ObservationBatchIn)
SAVE_ATTEMPTS = 3


def _fields(entry: EntryIn) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude={"actor"})


def _digest(entry: EntryIn) -> str:
    """The content hash of everything but the free text (see the module docstring)."""
    return content_hash(without_texts(entry.model_dump(mode="python", exclude={"actor"})))


class EntryCommands:
    """Commands and queries on entries, on the ledger's application (``app``); stations
    and actors come from the ``registry``."""

    def __init__(self, app: Ledger, registry: RegistryCommands) -> None:
        self.app = app
        self.registry = registry
        self._writers = {
            kind.noun: FirstEventWriter(kind.aggregate, app.mapper)
            for kind in (ACTIVITY, OBSERVATION)
        }
        #: Single entries recorded at the same time share a transaction (ledger.group_commit).
        self.group: GroupCommit[FirstEvent, int] = GroupCommit(
            self._put, lambda first: self._put([first])[0], app.settings.group_commit_max
        )

    # -- commands ---------------------------------------------------------------------------

    def record_entry(self, kind: EntryType, who: Principal, entry: EntryIn) -> Receipt:
        first, digest = self._checked_first(kind, who, entry)
        try:
            position = self._put_single(first)
        except IntegrityError:
            return self._replay_receipt(first.entry_id, digest, entry)
        return first.receipt(position)

    async def record_entry_async(self, kind: EntryType, who: Principal, entry: EntryIn) -> Receipt:
        """``record_entry`` for a caller on an event loop (the HTTP API): the checks and the
        event are made on the loop, which they do not block (the station is known in
        memory), and the write joins a group commit without a worker thread. Whatever would
        read the database on the way (an unknown station, a replay's receipt, no group
        commit) runs in a worker thread, as ``record_entry`` does."""
        if self.group.max_group <= 1 or not self.registry.knows_station(entry.station):
            return await to_thread.run_sync(self.record_entry, kind, who, entry)
        first, digest = self._checked_first(kind, who, entry)
        try:
            position = await self.group.submit_async(first)
        except IntegrityError:
            return await to_thread.run_sync(self._replay_receipt, first.entry_id, digest, entry)
        return first.receipt(position)

    def close(self) -> None:
        """Answer the writes still queued for a group commit; take no more."""
        self.group.close()

    def _checked_first(
        self, kind: EntryType, who: Principal, entry: EntryIn
    ) -> tuple[FirstEvent, str]:
        actor = self._recording_actor(who, entry)
        self._check_entry(entry)
        digest = _digest(entry)
        return self.first_event(kind, actor, entry, digest), digest

    def record_batch(self, kind: EntryType, who: Principal, body: bytes) -> BatchReceipt:
        """``record_entries`` for a batch still in its JSON bytes (``{"items": [...]}``),
        validated in one pass from them (``ledger.inputs.parse_json``)."""
        return self.record_entries(kind, who, parse_json(kind.batch, body).items)

    def record_entries(
        self, kind: EntryType, who: Principal, entries: Sequence[EntryIn]
    ) -> BatchReceipt:
        """Record a batch in one transaction: every new entry is stored, or none is."""
        if len(entries) > self.app.max_batch_items:
            raise InvalidInput.one(
                "items",
                f"a batch holds at most {self.app.max_batch_items} items (got {len(entries)})",
            )
        if not entries:
            raise InvalidInput.one("items", "a batch needs at least one item")
        self.validate_entries(who, entries)
        actor = who.require_actor()
        digests = [_digest(e) for e in entries]
        ids = [kind.entry_id(actor, e) for e in entries]

        first_index: dict[UUID, int] = {}
        for index, (entry_id, digest) in enumerate(zip(ids, digests, strict=True)):
            if entry_id not in first_index:
                first_index[entry_id] = index
            elif digests[first_index[entry_id]] != digest:
                raise ExternalIdConflict(
                    f"items.{index}: external_id {entries[index].external_id!r} appears twice "
                    "in this batch with different content",
                    index=index,
                )

        stored: dict[UUID, tuple[int, Any, Any]] = {}
        for _attempt in range(SAVE_ATTEMPTS):
            new = [
                self.first_event(kind, actor, entries[i], digests[i], entry_id=ids[i])
                for i in first_index.values()
                if ids[i] not in stored
            ]
            try:
                positions = self._put(new) if new else []
            except IntegrityError:
                # Some items were stored before (a retried batch) or by a racing request.
                stored = self._stored_firsts(list(first_index), ids, digests, entries)
                continue
            receipts = {f.entry_id: f.receipt(p) for f, p in zip(new, positions, strict=True)}
            results = []
            for index, entry_id in enumerate(ids):
                if entry_id in receipts and first_index[entry_id] == index:
                    results.append(BatchItemResult(index, "created", receipts[entry_id]))
                elif entry_id in receipts:
                    dup = replace(receipts[entry_id], created=False)
                    results.append(BatchItemResult(index, "duplicate", dup))
                else:
                    position, event, raw = stored[entry_id]
                    dup = Receipt(
                        entry_id,
                        position,
                        1,
                        event.timestamp.isoformat(),
                        created=False,
                        leaf_hash=leaf_hash_for(raw, position),
                    )
                    results.append(BatchItemResult(index, "duplicate", dup))
            return BatchReceipt(results)
        raise VersionConflict("the batch kept colliding with concurrent writes; retry it")

    def first_event(
        self,
        kind: EntryType,
        actor: str,
        entry: EntryIn,
        digest: str | None = None,
        *,
        entry_id: UUID | None = None,
    ) -> FirstEvent:
        """The first event ``entry`` would be stored as for ``actor`` (its texts sealed),
        without storing it."""
        entry_id = entry_id or kind.entry_id(actor, entry)
        sealer = Sealer(str(entry_id))
        values = sealer.payload(_fields(entry))
        values["actor"] = actor
        values["content_hash"] = digest or _digest(entry)
        return self._writers[kind.noun].build(entry_id, values, sealer.rows)

    def validate_entries(self, who: Principal, entries: Sequence[EntryIn]) -> None:
        """Check every entry against the store and the clock, storing nothing; raises one
        ``InvalidInput`` naming every bad item as ``items.<index>.<field>``."""
        errors: list[FieldError] = []
        for index, entry in enumerate(entries):
            self._recording_actor(who, entry)
            try:
                self._check_entry(entry)
            except InvalidInput as e:
                errors.extend(e.prefixed(f"items.{index}").errors)
        if errors:
            raise InvalidInput(errors)

    def correct_entry(
        self, kind: EntryType, who: Principal, entry_id: UUID, correction: CorrectionIn
    ) -> Receipt:
        entry = self._owned_entry(kind, who, entry_id, correction.expected_version)
        unknown = sorted(set(correction.changes) - entry.CORRECTABLE)
        if unknown:
            raise InvalidInput.one(
                f"changes.{unknown[0]}",
                f"cannot be corrected; correctable: {', '.join(sorted(entry.CORRECTABLE))}",
            )
        sealed = entry.state()
        # Texts read back; an erased one reads as a placeholder that keeps its reference.
        current = self.app.texts.reveal(sealed, erased=ERASED)
        candidate = {
            "external_id": entry.external_id,
            entry.TYPE_FIELD: getattr(entry, entry.TYPE_FIELD),
            **current,
            **correction.changes,
        }
        corrected = parse(kind.model, candidate)
        try:
            self._check_entry(corrected)
        except InvalidInput as e:
            raise e.prefixed("changes") from None
        new_state = corrected.model_dump(mode="json", include=set(entry.CORRECTABLE))
        diff = {k: v for k, v in new_state.items() if v != current.get(k)}
        refs = dict(refs_in(sealed))
        keep = {
            (path, text): {REF_KEY: refs[path]}
            for path, text in text_values(current).items()
            if path in refs
        }
        sealer = Sealer(str(entry.id), reuse=keep)
        entry.correct(sealer.payload(diff), sealer.text("reason", correction.reason))
        return self._save_versioned(entry, sealer.rows)

    def retract_entry(
        self, kind: EntryType, who: Principal, entry_id: UUID, retraction: RetractionIn
    ) -> Receipt:
        entry = self._owned_entry(kind, who, entry_id, retraction.expected_version)
        sealer = Sealer(str(entry.id))
        entry.retract(sealer.text("reason", retraction.reason))
        return self._save_versioned(entry, sealer.rows)

    def erase_texts(
        self, kind: EntryType, who: Principal, entry_id: UUID, erasure: ErasureIn
    ) -> Receipt:
        """Erase the named free-text fields from every version of one entry.

        The texts and their salts are deleted in the transaction that appends the
        ``Erased`` record (fields, references, reason, key; never the text), so reads,
        exports and the database itself no longer hold them, while every stored event,
        Merkle leaf, checkpoint and proof stays exactly as it was."""
        who.require(Permission.erase)
        entry = self._load_entry(kind, entry_id)
        fields = sorted(set(erasure.fields))
        wanted: list[str] = []
        for event in self.app.events.get(entry_id):
            if isinstance(event, Entry.Erased):
                continue  # an erasure's own reason is not a reason of the entry
            payload = {
                k: v
                for k, v in vars(event).items()
                if k in ("note", "details", "changes", "reason")
            }
            wanted += [ref for path, ref in refs_in(payload) if path in fields]
        present = sorted(set(self.app.texts.lookup(wanted)))
        if not present:
            raise InvalidInput.one(
                "fields",
                f"this {kind.noun} has no text left in {', '.join(fields)} "
                "(never given, or erased already)",
            )
        sealer = Sealer(str(entry.id))
        entry.erase(fields, present, sealer.text("reason", erasure.reason), who.key_id)
        try:
            recordings = self.app.save(entry, texts=sealer.rows, erase=present)
        except IntegrityError:
            raise VersionConflict("another change was saved first; retry") from None
        self.app.texts.purge()
        return replace(_receipt(recordings[-1]), extra={"erased": fields, "texts": len(present)})

    # -- queries ----------------------------------------------------------------------------

    def get_entry(self, kind: EntryType, who: Principal, entry_id: UUID) -> Entry:
        """One entry, if ``who`` may see it (``ledger.access.may_see`` at entry detail).

        A partner asking for another actor's entry is told what it would be told of an
        id that does not exist, so ids cannot be probed; other readers are refused
        police entries with 403 (they know the police record activity, not its timetable).
        """
        who.require(Permission.read)
        entry = self._load_entry(kind, entry_id)
        if who.role is Role.partner and who.actor != entry.actor:
            raise NotFound(f"no {kind.noun} with id {entry_id}")
        owner = self.registry.find_actor(entry.actor)
        if owner is not None and not may_see(who, owner, Detail.entry):
            raise Forbidden(
                f"single {owner.kind} entries are shown to that actor, auditors and "
                "administrators; read the weekly or monthly summaries instead"
            )
        return entry

    def read_entry(self, kind: EntryType, who: Principal, entry_id: UUID) -> dict[str, Any]:
        """One entry's current state with its texts (an erased text reads as ``None``)."""
        return dict(self.app.texts.reveal(self.get_entry(kind, who, entry_id).as_dict()))

    def entry_history(
        self, kind: EntryType, who: Principal, entry_id: UUID
    ) -> list[dict[str, Any]]:
        """Every event of one entry, in order, with its log position and recording time,
        and its texts (an erased text reads as ``None``)."""
        self.get_entry(kind, who, entry_id)
        positions = self.app.store.event_positions(entry_id)
        history = []
        for event in self.app.events.get(entry_id):
            payload = {
                k: v
                for k, v in vars(event).items()
                if k not in {"originator_id", "originator_version", "timestamp", "originator_topic"}
            }
            history.append(
                {
                    "type": type(event).__name__.lower(),
                    "version": event.originator_version,
                    "position": positions[event.originator_version],
                    "recorded_at": timestamp_of(event).isoformat(),
                    **payload,
                }
            )
        return list(self.app.texts.reveal_many(history))

    # -- helpers ----------------------------------------------------------------------------

    def _put_single(self, first: FirstEvent) -> int:
        if self.group.max_group <= 1:
            return self._put([first])[0]
        return self.group.submit(first)

    def _put(self, firsts: Sequence[FirstEvent]) -> list[int]:
        """Store new entries' first events and their texts in one transaction; their
        positions, in order. Raises ``IntegrityError`` when any id already has a first
        event."""
        return self.app.put_new([f.stored for f in firsts], [t for f in firsts for t in f.texts])

    def _recording_actor(self, who: Principal, entry: EntryIn) -> str:
        actor = who.require_actor()
        if entry.actor is not None and entry.actor != actor:
            raise Forbidden(
                f"this key records for actor {actor!r}; the body names {entry.actor!r}",
                field="actor",
            )
        return actor

    def _check_entry(self, entry: EntryIn) -> None:
        """Rules that need the store or the clock; raises ``InvalidInput``."""
        errors: list[FieldError] = []
        now = self.app.clock()
        skew = timedelta(seconds=self.app.clock_skew_seconds)
        station = self.registry.find_station(entry.station)
        if station is None:
            errors.append(FieldError("station", f"unknown station {entry.station!r}"))
        elif entry.zone is not None and entry.zone.value not in station.zones:
            errors.append(
                FieldError(
                    "zone",
                    f"station {station.code!r} has no zone {entry.zone.value!r}; "
                    f"its zones: {', '.join(station.zones)}",
                )
            )
        try:
            if isinstance(entry, ActivityIn):
                check_activity_times(
                    ActivityKind(entry.kind),
                    entry.started_at,
                    entry.ended_at,
                    now,
                    skew,
                    self.app.settings.earliest_date,
                )
            else:
                check_observation_time(
                    entry.observed_at, now, skew, self.app.settings.earliest_date
                )
        except InvalidInput as e:
            errors.extend(e.errors)
        if errors:
            raise InvalidInput(errors)

    def _replay_receipt(self, entry_id: UUID, digest: str, entry: EntryIn) -> Receipt:
        found = self.app.store.first_events([entry_id])
        if entry_id not in found:  # pragma: no cover - an IntegrityError implies a first event
            raise VersionConflict("a concurrent write interfered; retry")
        position, stored = found[entry_id]
        event: Any = self.app.mapper.to_domain_event(stored)
        if event.content_hash != digest or not self._same_texts([(event, entry)]):
            raise ExternalIdConflict(
                f"external_id {entry.external_id!r} was already used for different content",
                id=str(entry_id),
            )
        return Receipt(
            entry_id,
            position,
            1,
            event.timestamp.isoformat(),
            created=False,
            leaf_hash=leaf_hash_for(stored, position),
        )

    def _stored_firsts(
        self,
        unique_ids: list[UUID],
        ids: list[UUID],
        digests: list[str],
        entries: Sequence[EntryIn],
    ) -> dict[UUID, tuple[int, Any, Any]]:
        found = self.app.store.first_events(unique_ids)
        stored: dict[UUID, tuple[int, Any, Any]] = {}
        for entry_id, (position, stored_event) in found.items():
            stored[entry_id] = (
                position,
                self.app.mapper.to_domain_event(stored_event),
                stored_event,
            )
        pairs = [(stored[i][1], entries[n]) for n, i in enumerate(ids) if i in stored]
        texts_differ = not self._same_texts(pairs)
        for index, entry_id in enumerate(ids):
            if entry_id in stored and (
                stored[entry_id][1].content_hash != digests[index]
                or (texts_differ and not self._same_texts([(stored[entry_id][1], entries[index])]))
            ):
                raise ExternalIdConflict(
                    f"items.{index}: external_id {entries[index].external_id!r} was already "
                    "used for different content",
                    index=index,
                    id=str(entry_id),
                )
        return stored

    def _same_texts(self, pairs: list[tuple[Any, EntryIn]]) -> bool:
        """Whether each stored first event's text references commit to the texts of the
        entry sent again (one lookup for all). An erased text cannot be compared and no
        longer counts: a retry of an erased entry is answered, not stored again."""
        stored_refs = []
        for event, entry in pairs:
            refs = dict(refs_in({"note": event.note, "details": getattr(event, "details", {})}))
            sent = text_values(_fields(entry))
            if set(refs) != set(sent):
                return False
            stored_refs.append((refs, sent))
        rows = self.app.texts.lookup(ref for refs, _ in stored_refs for ref in refs.values())
        for refs, sent in stored_refs:
            for path, ref in refs.items():
                row = rows.get(ref)
                if row is not None and commitment(row.salt, sent[path]) != ref:
                    return False
        return True

    def _load_entry(self, kind: EntryType, entry_id: UUID) -> Entry:
        try:
            entry: Entry = self.app.repository.get(entry_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.noun} with id {entry_id}") from None
        if not isinstance(entry, kind.aggregate):
            raise NotFound(f"no {kind.noun} with id {entry_id}")
        return entry

    def _owned_entry(
        self, kind: EntryType, who: Principal, entry_id: UUID, expected_version: int
    ) -> Entry:
        actor = who.require_actor()
        entry = self._load_entry(kind, entry_id)
        if entry.actor != actor:  # as if it did not exist: ids cannot be probed
            raise NotFound(f"no {kind.noun} with id {entry_id}")
        if entry.version != expected_version:
            raise VersionConflict(
                f"expected_version {expected_version} is stale; the {kind.noun} is at "
                f"version {entry.version}",
                current_version=entry.version,
            )
        entry.ensure_not_retracted()
        return entry

    def _save_versioned(self, aggregate: Entry, texts: list[TextRow]) -> Receipt:
        try:
            recordings = self.app.save(aggregate, texts=texts)
        except IntegrityError:
            raise VersionConflict("another change was saved first; reload and retry") from None
        return _receipt(recordings[-1])


_receipt = receipt_for
