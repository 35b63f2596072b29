"""Residents' ideas: submitted without sign-in, read by the parties, decided by the steering group.

An idea's text and the steering group's reply are sealed (``ledger.texts``), so text
that should never have been written can be erased while every proof stays valid.
Nothing about the sender is stored. An adopted idea can become an action-plan measure:
the decision names the measure (``{"plan", "code"}``, created when ``title``, ``owner``
and ``due`` are given) and the plan records ``MeasureLinked`` in the same transaction,
so the idea leads to the measure and the measure back to the idea.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.access import SYSTEM, Permission, Principal
from ledger.application import Ledger
from ledger.domain.ideas import Idea, IdeaStatus
from ledger.domain.plans import ActionPlan
from ledger.errors import FieldError, InvalidInput, NotFound, VersionConflict
from ledger.inputs import IdeaDecisionIn, IdeaErasureIn, IdeaIn
from ledger.receipts import Receipt, receipt_for
from ledger.registry_service import RegistryCommands
from ledger.texts import ERASED, Sealer


class IdeaCommands:
    def __init__(self, app: Ledger, registry: RegistryCommands) -> None:
        self.app = app
        self.registry = registry

    def submit(self, idea: IdeaIn) -> Receipt:
        """A resident's idea (no caller: anyone may send one; the API throttles senders)."""
        station = self.registry.find_station(idea.station)
        if station is None:
            raise InvalidInput.one("station", f"unknown station {idea.station!r}")
        if idea.zone is not None and idea.zone.value not in station.zones:
            raise InvalidInput.one(
                "zone", f"station {idea.station!r} has no zone {idea.zone.value!r}"
            )
        idea_id = str(uuid4())
        sealer = Sealer(idea_id)
        aggregate = Idea(
            idea_id=idea_id,
            station=idea.station,
            zone=idea.zone.value if idea.zone else None,
            category=idea.category.value if idea.category else None,
            text=sealer.text("text", idea.text),
        )
        recordings = self.app.save(aggregate, texts=sealer.rows)
        return receipt_for(recordings[0], id=aggregate.id, version=aggregate.version)

    def decide(self, who: Principal, idea_id: UUID, decision: IdeaDecisionIn) -> Receipt:
        who.require(Permission.decide_ideas)
        idea = self._get(idea_id)
        if decision.expected_version is not None and decision.expected_version != idea.version:
            raise VersionConflict(
                f"expected_version {decision.expected_version} is stale; the idea is at "
                f"{idea.version}",
                current_version=idea.version,
            )
        sealer = Sealer(str(idea.id))
        plan = self._measure_for(idea, decision) if decision.measure else None
        link = (
            {"plan": str(plan.id), "code": decision.measure.code}
            if plan and decision.measure
            else None
        )
        idea.decide(IdeaStatus(decision.status), sealer.text("reply", decision.reply), link)
        try:
            recordings = self.app.save(idea, *([plan] if plan else []), texts=sealer.rows)
        except IntegrityError:
            raise VersionConflict("another decision was saved first; reload and retry") from None
        mine = [r for r in recordings if r.domain_event.originator_id == idea.id]
        return receipt_for(mine[-1], id=idea.id, version=idea.version)

    def _measure_for(self, idea: Idea, decision: IdeaDecisionIn) -> ActionPlan:
        """The plan holding the measure the idea becomes, with the measure (added when new)
        and its link back to the idea, not yet saved."""
        wanted = decision.measure
        assert wanted is not None
        try:
            # Deciding is what is checked (decide_ideas), not managing the registry.
            plan = self.registry.get_action_plan(SYSTEM, UUID(wanted.plan))
        except (ValueError, NotFound):
            raise InvalidInput.one("measure.plan", f"no action plan {wanted.plan!r}") from None
        if plan.station != idea.station:
            raise InvalidInput.one(
                "measure.plan",
                f"that plan is for {plan.station!r}; the idea is for {idea.station!r}",
            )
        if wanted.code not in plan.measures:
            missing = [f for f in ("title", "owner", "due") if getattr(wanted, f) is None]
            if missing:
                raise InvalidInput(
                    [FieldError(f"measure.{f}", "required for a new measure") for f in missing]
                )
            assert wanted.title is not None
            assert wanted.owner is not None
            assert wanted.due is not None
            if self.registry.find_actor(wanted.owner) is None:
                raise InvalidInput.one("measure.owner", f"unknown actor {wanted.owner!r}")
            plan.add_measure(
                code=wanted.code,
                title=wanted.title,
                owner=wanted.owner,
                due=wanted.due.isoformat(),
                problem=None,
                place=idea.zone,
                rationale=None,
            )
        plan.link_measure(wanted.code, f"idea:{idea.id}")
        return plan

    def erase_texts(self, who: Principal, idea_id: UUID, erasure: IdeaErasureIn) -> Receipt:
        """Erase an idea's text or replies: the texts and their salts are deleted in the
        transaction that appends ``Erased`` (as for entries, ``EntryCommands.erase_texts``),
        and every event, leaf and proof stays as it was."""
        who.require(Permission.erase)
        idea = self._get(idea_id)
        fields: list[str] = sorted(set(erasure.fields))
        wanted = [ref for field in fields for ref in idea.refs_of(field)]
        present = sorted(set(self.app.texts.lookup(wanted)))
        if not present:
            raise InvalidInput.one(
                "fields", f"this idea has no text left in {', '.join(fields)} (erased already?)"
            )
        sealer = Sealer(str(idea.id))
        idea.erase(fields, present, sealer.text("reason", erasure.reason), who.key_id)
        try:
            recordings = self.app.save(idea, texts=sealer.rows, erase=present)
        except IntegrityError:
            raise VersionConflict("another change was saved first; retry") from None
        self.app.texts.purge()
        return receipt_for(recordings[-1], id=idea.id, version=idea.version)

    def get(self, who: Principal, idea_id: UUID) -> dict[str, Any]:
        """One idea with its texts, for those who may read it (``may_read``)."""
        who.require(Permission.read)
        idea = self._get(idea_id)
        if not self.may_read(who, idea.station):
            raise NotFound(f"no idea {idea_id}")
        d = self.app.texts.reveal(idea.as_dict(), erased=ERASED)
        return {
            "id": d["id"],
            "station": d["station"],
            "zone": d["zone"],
            "category": d["category"],
            "status": d["status"],
            "text": d["text"],
            "reply": d["reply"],
            "measure": d["measure"],
            "submitted_on": d["submitted_at"][:10],
            "decided_on": d["decided_at"][:10] if d["decided_at"] else None,
            "version": d["version"],
        }

    def may_read(self, who: Principal, station: str) -> bool:
        readable = self.readable_stations(who)
        return readable is None or station in readable

    def readable_stations(self, who: Principal) -> frozenset[str] | None:
        """The stations whose ideas ``who`` reads: every one (``None``) for the steering
        group, auditors and administrators; a partner those its commitments cover."""
        if who.can(Permission.read_all_ideas):
            return None
        return self.registry.stations_of(who.actor) if who.actor else frozenset()

    def _get(self, idea_id: UUID) -> Idea:
        try:
            found: object = self.app.repository.get(idea_id)
        except AggregateNotFoundError:
            raise NotFound(f"no idea {idea_id}") from None
        if not isinstance(found, Idea):
            raise NotFound(f"no idea {idea_id}")
        return found
