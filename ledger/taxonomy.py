"""The vocabulary of the promise: activity kinds, their details, observation categories, zones.

Codes are English and stable (they are stored in events); Swedish labels are for people.
Each activity kind has a pydantic model for its kind-specific ``details``: unknown
keys are refused, so a typo is an error rather than a silently ignored figure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ActorKind(StrEnum):
    police = "police"
    municipality = "municipality"
    transit = "transit"
    infrastructure = "infrastructure"
    contractor = "contractor"


class Zone(StrEnum):
    platform = "platform"
    tunnel = "tunnel"
    underpass = "underpass"
    footbridge = "footbridge"
    station_building = "station_building"
    parking = "parking"
    bus_stop = "bus_stop"
    bike_parking = "bike_parking"
    square = "square"
    surroundings = "surroundings"


class ActivityKind(StrEnum):
    patrol = "patrol"
    volunteer_patrol = "volunteer_patrol"
    enforcement = "enforcement"
    security_host_shift = "security_host_shift"
    cleaning_round = "cleaning_round"
    guard_shift = "guard_shift"
    environment_measure = "environment_measure"
    public_event = "public_event"
    safety_walk = "safety_walk"


#: A commitment to take part in the rolling lägesbild: followed up by the observations
#: the party reports (``POST /v1/observations``), not by activities.
SITUATION_REPORT = "situation_report"


class CommitmentKind(StrEnum):
    """What a commitment can promise: every activity kind, or reports to the lägesbild."""

    patrol = "patrol"
    volunteer_patrol = "volunteer_patrol"
    enforcement = "enforcement"
    security_host_shift = "security_host_shift"
    cleaning_round = "cleaning_round"
    guard_shift = "guard_shift"
    environment_measure = "environment_measure"
    public_event = "public_event"
    safety_walk = "safety_walk"
    situation_report = SITUATION_REPORT


class ObservationCategory(StrEnum):
    vandalism = "vandalism"
    graffiti = "graffiti"
    litter = "litter"
    drugs = "drugs"
    disorder = "disorder"
    unsafe_spot = "unsafe_spot"
    broken_lighting = "broken_lighting"
    threat_to_staff = "threat_to_staff"
    gathering = "gathering"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


ACTIVITY_LABELS_SV: dict[ActivityKind, str] = {
    ActivityKind.patrol: "Polisiär närvaro",
    ActivityKind.volunteer_patrol: "Polisens volontärer",
    ActivityKind.enforcement: "Brottsbekämpning",
    ActivityKind.security_host_shift: "Trygghetsvärdar",
    ActivityKind.cleaning_round: "Städ- och driftrondering",
    ActivityKind.guard_shift: "Väktare",
    ActivityKind.environment_measure: "Utemiljöåtgärd",
    ActivityKind.public_event: "Trivsel- och trygghetsaktivitet",
    ActivityKind.safety_walk: "Trygghetsvandring",
}

OBSERVATION_LABELS_SV: dict[ObservationCategory, str] = {
    ObservationCategory.vandalism: "Skadegörelse",
    ObservationCategory.graffiti: "Klotter",
    ObservationCategory.litter: "Nedskräpning",
    ObservationCategory.drugs: "Narkotikaförekomst",
    ObservationCategory.disorder: "Ordningsstörning",
    ObservationCategory.unsafe_spot: "Otrygg plats",
    ObservationCategory.broken_lighting: "Trasig belysning",
    ObservationCategory.threat_to_staff: "Hot och våld mot personal",
    ObservationCategory.gathering: "Otrygghetsskapande samling",
}

# A shift longer than this is almost certainly a typo (a wrong date), and would
# silently inflate every hour count downstream. Outdoor-environment work is the
# exception: a lighting upgrade can span weeks.
MAX_DURATION_HOURS: dict[ActivityKind, int | None] = {
    kind: (None if kind is ActivityKind.environment_measure else 24) for kind in ActivityKind
}

Count = Annotated[int, Field(ge=0, le=100_000)]
#: Free text (screened at the door with every other string of a command, ``ledger.cleaning``).
ShortText = Annotated[str, Field(min_length=1, max_length=120)]
# Pseudonymous unit ids only ("unit-7", "HV-2"), never a person's name or number.
UnitId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatrolDetails(_Details):
    mode: Literal["foot", "vehicle", "bicycle", "mixed"] | None = None
    unit: UnitId | None = None


class VolunteerPatrolDetails(_Details):
    volunteers: Count | None = None
    with_security_hosts: bool = True


class EnforcementDetails(_Details):
    focus: Literal["drugs", "public_order", "both"]
    interventions: Count | None = None


class SecurityHostShiftDetails(_Details):
    conversations: Count | None = None
    unit: UnitId | None = None


class CleaningRoundDetails(_Details):
    litter_bags: Count | None = None
    graffiti_removed_m2: Annotated[float, Field(ge=0, le=10_000)] | None = None
    damage_found: Count | None = None


class GuardShiftDetails(_Details):
    interventions: Count | None = None
    unit: UnitId | None = None


class EnvironmentMeasureDetails(_Details):
    measure: Literal["lighting", "vegetation", "furniture", "signage", "camera", "repair", "other"]
    description: ShortText | None = None


class PublicEventDetails(_Details):
    title: ShortText
    participants_estimate: Count | None = None


class SafetyWalkDetails(_Details):
    participants: Count | None = None
    findings: Count | None = None


DETAILS_MODELS: dict[ActivityKind, type[_Details]] = {
    ActivityKind.patrol: PatrolDetails,
    ActivityKind.volunteer_patrol: VolunteerPatrolDetails,
    ActivityKind.enforcement: EnforcementDetails,
    ActivityKind.security_host_shift: SecurityHostShiftDetails,
    ActivityKind.cleaning_round: CleaningRoundDetails,
    ActivityKind.guard_shift: GuardShiftDetails,
    ActivityKind.environment_measure: EnvironmentMeasureDetails,
    ActivityKind.public_event: PublicEventDetails,
    ActivityKind.safety_walk: SafetyWalkDetails,
}


class IdeaCategory(StrEnum):
    """What a resident's idea is about (a resident picks one, or none)."""

    lighting = "lighting"
    cleanliness = "cleanliness"
    presence = "presence"
    environment = "environment"
    travel = "travel"
    other = "other"


IDEA_LABELS_SV: dict[IdeaCategory, str] = {
    IdeaCategory.lighting: "Belysning",
    IdeaCategory.cleanliness: "Städning och klotter",
    IdeaCategory.presence: "Vuxennärvaro och trygghetsvärdar",
    IdeaCategory.environment: "Utemiljö",
    IdeaCategory.travel: "Resan och kollektivtrafiken",
    IdeaCategory.other: "Annat",
}

IDEA_LABELS_EN: dict[IdeaCategory, str] = {
    IdeaCategory.lighting: "Lighting",
    IdeaCategory.cleanliness: "Cleaning and graffiti",
    IdeaCategory.presence: "Adult presence and security hosts",
    IdeaCategory.environment: "Outdoor environment",
    IdeaCategory.travel: "The journey and public transport",
    IdeaCategory.other: "Other",
}
