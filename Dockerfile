# Valar's image: the locked dependencies, the code, collected static files, a non-root user;
# one image for every process (deploy/start.sh web|asgi|worker|beat|migrate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

# The same uv as the Makefile's, then the dependencies exactly as uv.lock pins them.
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# collectstatic imports the settings, which want a secret key with DEBUG off: a throwaway one
# here; the container gets the real SECRET_KEY from its environment.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin valar \
    && mkdir -p var/media var/log var/prometheus \
    && chown -R valar:valar var

USER valar
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]

# deploy/start.sh starts every process of a deployment (the Makefile and compose.yaml use it
# too); by default this image serves HTTP: gunicorn, sync workers with --preload, 2 on 2 cores,
# the setup `make bench` measured fastest on a quiet machine (README, "Serving in
# production"). Sync workers need a buffering proxy in front (compose.yaml's nginx, or the
# platform's load balancer), as gunicorn's docs say. WEB_CONCURRENCY is gunicorn's worker
# count (about one per core); GUNICORN_CMD_ARGS adds or overrides options (e.g.
# "--worker-class gthread --threads 4"). gunicorn writes no access log: Valar writes one JSON
# line per request itself (README, "Logs"). deploy/gunicorn.conf.py puts the Prometheus
# metrics in multiprocess mode, so /metrics on any worker answers the sum over all of them.
# The same image runs `deploy/start.sh asgi|worker|beat|migrate` (compose.yaml).
ENV WEB_CONCURRENCY=2
CMD ["deploy/start.sh", "web"]
