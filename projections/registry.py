"""Every projection the ledger has, by name."""

from __future__ import annotations

from projections.base import Projection
from projections.entries import ActivityProjection, ObservationProjection
from projections.plans import ActionPlanProjection
from projections.residents import FindingProjection, IdeaProjection, SurveyProjection


def all_projections() -> dict[str, Projection]:
    return {
        p.name: p
        for p in (
            ActivityProjection(),
            ObservationProjection(),
            ActionPlanProjection(),
            IdeaProjection(),
            SurveyProjection(),
            FindingProjection(),
        )
    }
