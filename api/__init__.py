"""HTTP (FastAPI), the dashboard and the ``trygg`` CLI. The only layer that knows HTTP."""
