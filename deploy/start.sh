#!/bin/sh
# The processes of a Valar deployment, one command each, so the Makefile, the Dockerfile and
# compose.yaml start exactly the same thing:
#
#   deploy/start.sh web      HTTP: gunicorn, sync workers, --preload (WEB_CONCURRENCY of them)
#   deploy/start.sh asgi     WebSocket (and HTTP): uvicorn valar.asgi:application
#   deploy/start.sh worker   a Celery worker (extra arguments go to celery, e.g. -B for beat)
#   deploy/start.sh beat     Celery beat: sends the schedules of CELERY_BEAT_SCHEDULE (one only)
#   deploy/start.sh migrate  apply the migrations
#
# HOST (0.0.0.0) and PORT (8000) say where web and asgi listen. `python` is the one on PATH:
# the image's /app/.venv, or .venv when the Makefile calls this.
set -eu

role="${1:-}"
[ $# -gt 0 ] && shift
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"

case "$role" in
  web)
    # deploy/gunicorn.conf.py: Prometheus metrics summed over the workers (multiprocess mode).
    exec python -m gunicorn valar.wsgi:application -c deploy/gunicorn.conf.py --preload \
      --bind "$HOST:$PORT" "$@"
    ;;
  asgi)
    # X-Forwarded-For is read by Valar itself (PROXY_COUNT), not by uvicorn. Socket frames
    # over 16 KB are refused by the server before they are buffered (1009), as the consumers do.
    exec python -m uvicorn valar.asgi:application --host "$HOST" --port "$PORT" \
      --no-proxy-headers --no-access-log --ws-max-size 16384 "$@"
    ;;
  worker)
    exec python -m celery -A valar worker -l "${CELERY_LOG_LEVEL:-info}" "$@"
    ;;
  beat)
    exec python -m celery -A valar beat -l "${CELERY_LOG_LEVEL:-info}" "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  *)
    echo "usage: deploy/start.sh web|asgi|worker|beat|migrate [arguments...]" >&2
    exit 2
    ;;
esac
