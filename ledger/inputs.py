"""Commands as partners and administrators send them: structure, types and screening.

Every command first passes the door (``ledger.cleaning``): each string anywhere in it is
NFC-normalised, refused if it holds control or bidi characters, and screened for
personal data, before any field is validated. Structural validation lives here
(pydantic); rules that need the clock or the store (unknown station, a start in the
future, before the ledger's earliest date) live in ``ledger.rules`` and the application
service. ``parse`` turns any pydantic failure into an ``InvalidInput`` whose errors name
the field and the reason.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ledger.cleaning import Cleaned, clean_tree
from ledger.domain.plans import MeasureStatus
from ledger.errors import FieldError, InvalidInput, InvalidJson, PersonalDataRejected
from ledger.rules import sane_date, sane_instant
from ledger.screening import PERSONAL_DATA
from ledger.taxonomy import (
    DETAILS_MODELS,
    SITUATION_REPORT,
    ActivityKind,
    ActorKind,
    CommitmentKind,
    IdeaCategory,
    ObservationCategory,
    Severity,
    Zone,
)

Code = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="lower-case letters, digits and '-', e.g. 'lerum' or 'polisen-alingsas'",
    ),
]
ExternalId = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
]
Name = Annotated[str, Field(min_length=1, max_length=120)]
Note = Annotated[str, Field(min_length=1, max_length=280)]
Reason = Annotated[str, Field(min_length=3, max_length=280)]
Version = Annotated[int, Field(ge=1)]
#: A partner's timestamp: with a UTC offset, in years the ledger can compute with.
Instant = Annotated[AwareDatetime, AfterValidator(sane_instant)]
Day = Annotated[date, AfterValidator(sane_date)]


class Command(BaseModel):
    """Every command: unknown fields refused, whitespace trimmed, and text cleaned and
    screened at the door (``ledger.cleaning``) before any field is read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _clean_at_the_door(cls, data: Any) -> Any:
        if isinstance(data, Cleaned):  # part of a command that passed the door already
            return data
        cleaned, problems = clean_tree(data)
        if problems:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(p.type, p.reason), loc=p.loc, input="…"
                    )
                    for p in problems
                ],
            )
        return cleaned


class StationIn(Command):
    code: Code
    name: Name
    municipality: Name
    zones: list[Zone] = Field(default_factory=lambda: list(Zone), max_length=len(Zone))


class ActorIn(Command):
    code: Code
    name: Name
    kind: ActorKind


class TargetIn(Command):
    count: Annotated[int, Field(ge=1, le=100_000)]
    per: Literal["period", "week", "month"] = "period"
    metric: Literal["activities", "hours", "staff_hours"] = "activities"
    due: Day | None = Field(
        default=None,
        description="per-period targets: the day it is due (default: the end of the period)",
    )

    @model_validator(mode="after")
    def _due_only_per_period(self) -> TargetIn:
        if self.due is not None and self.per != "period":
            raise PydanticCustomError("due", "due is for per-period targets only")
        return self


class CommitmentIn(Command):
    code: Code
    actor: Code
    kind: CommitmentKind = Field(
        description="an activity kind, or `situation_report`: observations reported to the "
        "lägesbild (counted, so its metric is `activities`)"
    )
    stations: list[Code] | None = Field(
        default=None, description="defaults to every station of the promise"
    )
    target: TargetIn
    description: Name | None = None

    @model_validator(mode="after")
    def _reports_are_counted(self) -> CommitmentIn:
        if self.kind == SITUATION_REPORT and self.target.metric != "activities":
            raise PydanticCustomError(
                "metric", "reports to the lägesbild are counted: use metric 'activities'"
            )
        return self


class PromiseIn(Command):
    code: Code
    title: Name
    period_start: Day
    period_end: Day
    stations: list[Code] = Field(min_length=1, max_length=100)
    parties: list[Code] = Field(min_length=1, max_length=100)
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=500)
    description: Note | None = None

    @model_validator(mode="after")
    def _period_is_ordered(self) -> PromiseIn:
        if self.period_end <= self.period_start:
            raise PydanticCustomError("period", "period_end must be after period_start")
        return self


class MeasureIn(Command):
    code: Code | None = Field(default=None, description="defaults to m1, m2, …")
    title: Name
    owner: Code
    due: Day
    problem: Note | None = Field(default=None, description="what the measure is to solve")
    place: Zone | None = Field(default=None, description="where at the station (a zone)")
    rationale: Note | None = Field(
        default=None, description="why this measure (the knowledge it builds on)"
    )
    finding: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}/f[0-9]{1,3}$")] | None = Field(
        default=None,
        description="the safety-walk finding this measure answers: '<walk id>/<code>' "
        "(the measure and the finding then lead to each other)",
    )


class FindingIn(Command):
    """One finding of a safety walk: where, what is wrong, what could be done, by whom."""

    zone: Zone | None = None
    problem: Note = Field(description="what the walk found, e.g. 'Trasig belysning i tunneln'")
    proposal: Note | None = Field(default=None, description="the measure the walk proposes")
    responsible: Code | None = Field(default=None, description="the party it falls to (an actor)")


class FindingsIn(Command):
    findings: list[FindingIn] = Field(min_length=1, max_length=50)


class ActionPlanIn(Command):
    promise: str = Field(description="the promise's id or code")
    station: Code
    measures: list[MeasureIn] = Field(default_factory=list, max_length=500)


class MeasureStatusIn(Command):
    status: MeasureStatus
    expected_version: Version | None = None
    note: Note | None = None


class _EntryIn(Command):
    external_id: ExternalId
    actor: Code | None = Field(
        default=None, description="optional; when given it must be the caller's own actor"
    )
    station: Code
    zone: Zone | None = None
    note: Note | None = None


class ActivityIn(_EntryIn):
    kind: ActivityKind
    started_at: Instant
    ended_at: Instant | None = None
    staff_count: Annotated[int, Field(ge=0, le=1000)] = 1
    details: dict[str, Any] = Field(
        default_factory=dict, description="kind-specific figures; see the taxonomy in the README"
    )

    @field_validator("details", mode="after")
    @classmethod
    def _details_match_kind(cls, details: dict[str, Any], info: Any) -> dict[str, Any]:
        kind = info.data.get("kind")
        if kind is None:
            return details  # the missing kind is reported on its own
        try:
            model = DETAILS_MODELS[ActivityKind(kind)].model_validate(details)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "details"
            raise PydanticCustomError(
                first["type"], "{where}: {msg}", {"where": where, "msg": first["msg"]}
            ) from None
        return model.model_dump(mode="json", exclude_none=True)


class ObservationIn(_EntryIn):
    category: ObservationCategory
    observed_at: Instant
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    severity: Severity = Severity.medium


class ActivityBatchIn(Command):
    items: list[ActivityIn] = Field(description="at most 1,000 activities, stored all or none")


class ObservationBatchIn(Command):
    items: list[ObservationIn] = Field(description="at most 1,000 observations, stored all or none")


class CorrectionIn(Command):
    changes: dict[str, Any] = Field(min_length=1)
    reason: Reason
    expected_version: Version


class RetractionIn(Command):
    reason: Reason
    expected_version: Version


ErasableField = Literal["note", "reason", "details.title", "details.description", "details.unit"]


class ErasureIn(Command):
    """Erase free text that should never have been stored (administrators only)."""

    fields: list[ErasableField] = Field(
        min_length=1,
        max_length=5,
        description="the text fields to erase in every version of the entry "
        "(`reason`: every correction's and retraction's reason)",
    )
    reason: Reason = Field(description="why, e.g. a reference to the request; never the text")


# -- residents and the baseline ---------------------------------------------------------------


class IdeaIn(Command):
    """A resident's idea: where, what about, and the idea itself (no name, no contact)."""

    station: Code
    zone: Zone | None = None
    category: IdeaCategory | None = None
    text: Annotated[str, Field(min_length=3, max_length=1000)] = Field(
        description="the idea, at most 1,000 characters; never names or contact details"
    )


class IdeaMeasureIn(Command):
    """The action-plan measure an adopted idea becomes: an existing measure of the plan,
    or a new one when ``title``, ``owner`` and ``due`` are given."""

    plan: str = Field(description="the action plan's id")
    code: Code = Field(description="the measure's code in that plan")
    title: Name | None = None
    owner: Code | None = None
    due: Day | None = None


class IdeaDecisionIn(Command):
    status: Literal["considered", "adopted", "declined"]
    reply: Annotated[str, Field(min_length=3, max_length=2000)] = Field(
        description="the steering group's answer, published with the idea"
    )
    measure: IdeaMeasureIn | None = Field(
        default=None, description="adopted ideas only: the measure it becomes"
    )
    expected_version: Version | None = None

    @model_validator(mode="after")
    def _measure_only_when_adopted(self) -> IdeaDecisionIn:
        if self.measure is not None and self.status != "adopted":
            raise PydanticCustomError("measure", "only an adopted idea becomes a measure")
        return self


class IdeaErasureIn(Command):
    """Erase an idea's text or the steering group's replies (administrators only)."""

    fields: list[Literal["text", "reply"]] = Field(min_length=1, max_length=2)
    reason: Reason = Field(description="why, e.g. a reference to the request; never the text")


class SurveyIn(Command):
    """One aggregated result of a trygghetsmätning; nothing per person is accepted."""

    station: Code
    year: Annotated[int, Field(ge=2000, le=2100)]
    question: Annotated[str, Field(min_length=3, max_length=200)] = Field(
        description="the survey question, e.g. 'Känner sig trygg vid stationen kvällstid'"
    )
    share: Annotated[float, Field(ge=0, le=1)] = Field(
        description="the share who answered yes, as a fraction (62 % is 0.62)"
    )
    respondents: Annotated[int, Field(ge=10, le=10_000_000)] = Field(
        description="how many answered; fewer than 10 is refused (it could point at a person)"
    )


class SurveyBatchIn(Command):
    items: list[SurveyIn] = Field(min_length=1, max_length=1000)


M = TypeVar("M", bound=BaseModel)


def field_errors(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[FieldError]:
    """Pydantic's errors as ``FieldError``s with dotted field paths."""
    out = []
    for e in error.errors(include_url=False):
        loc = [*prefix, *e["loc"]]
        out.append(FieldError(".".join(str(p) for p in loc) or "body", e["msg"]))
    return out


def is_personal_data(error: ValidationError) -> bool:
    return any(e["type"] == PERSONAL_DATA for e in error.errors(include_url=False))


def invalid_input(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> InvalidInput:
    errors = field_errors(error, prefix)
    cls = PersonalDataRejected if is_personal_data(error) else InvalidInput
    return cls(errors)


def parse_json(model: type[M], body: bytes) -> M:
    """Validate a JSON body as ``model`` in one pass from its bytes (pydantic-core parses
    them; no ``json.loads`` first), or raise ``InvalidJson``/``InvalidInput`` naming each
    bad field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        if not any(err["type"] == "json_invalid" for err in e.errors(include_url=False)):
            raise invalid_input(e) from None
        reason = e.errors(include_url=False)[0]["msg"]
    # pydantic-core refuses JSON that Python's parser reads, such as a lone surrogate
    # escape ("\ud800"): parsed that way, the cleaning names the field and the reason.
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidJson(
            [FieldError("body", reason)], f"the body is not valid UTF-8 JSON: {reason}"
        ) from None
    return parse(model, data)


def parse(model: type[M], data: Any, prefix: tuple[str | int, ...] = ()) -> M:
    """Validate ``data`` as ``model`` or raise ``InvalidInput`` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise invalid_input(e, prefix) from None
