# Trygg Ledger API. Build: docker build -t trygg-ledger .
# Run against PostgreSQL: see compose.yaml. Without TRYGG_DATABASE_URL it keeps an
# SQLite file in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRYGG_DATABASE_URL=sqlite:////data/trygg.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ledger ./ledger
COPY projections ./projections
COPY api ./api
RUN pip install --no-cache-dir .

RUN useradd --create-home --uid 10001 trygg \
    && mkdir /data /keys \
    && chown trygg /data /keys
USER 10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["uvicorn", "--factory", "api.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
