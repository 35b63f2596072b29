"""The steering group's web dashboard: server-rendered pages, charts, exports, the report.

Only presentation lives here; the numbers come from ``projections.views.Views`` and the
rules that judge them from ``ledger.progress``. The routes are
``api.dashboard.routes.router``; nothing is imported here, so that the modules of this
package can import each other through it without a cycle.
"""
