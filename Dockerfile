# tajik-timeline: the API on the shipped dataset, served by uvicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TIMELINE_DATABASE_URL=sqlite:////var/lib/timeline/timeline.db \
    TIMELINE_DATA_DIR=/app/data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY .ci/requirements.lock ./requirements.lock
COPY app ./app
COPY migrations ./migrations
COPY data ./data
# The locked versions CI tested, as constraints: only the service's own dependencies are
# installed, each at its locked version (no test or lint tools).
RUN pip install --constraint requirements.lock . \
    && rm requirements.lock \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin timeline \
    && mkdir -p /var/lib/timeline \
    && chown timeline:timeline /var/lib/timeline

# Nothing but the database directory is writable by the service user.
USER timeline
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]

# `serve` migrates, loads the dataset if it changed, then starts uvicorn.
CMD ["timeline", "serve", "--host", "0.0.0.0", "--port", "8000"]
