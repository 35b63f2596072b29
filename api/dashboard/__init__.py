"""The steering group's web dashboard: server-rendered pages, charts, exports, the report.

Only presentation lives here; the numbers come from ``projections.views.Views`` and the
rules that judge them from ``ledger.progress``.
"""

from api.dashboard.routes import router

__all__ = ["router"]
