#!/usr/bin/env bash
# Bring up the whole platform: embedded Postgres+pgvector and Redis (unless URLs are set),
# migrations, the demo tenant, then web (gunicorn), a Celery worker and Celery beat, each
# supervised: one that dies is started again after a short back-off, and the others stay up.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements.txt
source scripts/_supervise.sh

python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py demo_setup

BIND="${RECSYS_BIND:-127.0.0.1:8000}"
mkdir -p .data/logs
export SUPERVISE_DIR=.data/logs
pids=()
stop_all() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait || true; }
trap stop_all EXIT INT TERM

supervise worker celery -A recsys_platform worker -Q default,gpu \
  --concurrency "${RECSYS_WORKER_CONCURRENCY:-2}" --loglevel INFO --logfile .data/logs/worker.log &
pids+=($!)
supervise beat celery -A recsys_platform beat --loglevel INFO --logfile .data/logs/beat.log \
  --pidfile .data/logs/beat.pid &
pids+=($!)
# One torch thread per web process: each request encodes one short query (see README).
supervise web env RECSYS_TORCH_THREADS="${RECSYS_TORCH_THREADS:-1}" \
  gunicorn recsys_platform.wsgi --bind "$BIND" --workers "${RECSYS_WEB_WORKERS:-3}" \
  --access-logfile - --error-logfile - &
pids+=($!)

echo "recsys_platform is up: http://$BIND/admin/  API: http://$BIND/api/docs/  (Ctrl-C stops it)"
echo "Logs: .data/logs/worker.log, .data/logs/beat.log; a process that dies is started again."
wait
