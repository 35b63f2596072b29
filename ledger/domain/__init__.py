"""Aggregates and their events. Pure: no I/O, no clock except the library's event timestamp."""

from ledger.domain.entries import Activity, Entry, Observation
from ledger.domain.plans import ActionPlan, Measure, MeasureStatus
from ledger.domain.promises import Commitment, Promise
from ledger.domain.registry import Actor, Station

__all__ = [
    "ActionPlan",
    "Activity",
    "Actor",
    "Commitment",
    "Entry",
    "Measure",
    "MeasureStatus",
    "Observation",
    "Promise",
    "Station",
]
