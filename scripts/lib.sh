# Shared by dev.sh and test.sh: make sure Postgres and Redis answer on loopback, starting them (and
# installing Debian's packages, when root) if they do not.

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

log() { printf '==> %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing packages ($*) and not root: install them, or start Postgres/Redis yourself"
    return 1
  fi
  if [ -z "${IGNY8_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    export IGNY8_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_postgres() {
  if port_open "$PG_HOST" "$PG_PORT"; then return 0; fi
  log "Postgres is not answering on $PG_HOST:$PG_PORT; starting it"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql postgresql-client
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$ver" ]; then log "no Postgres cluster found under /etc/postgresql"; return 1; fi
  # Local development trusts loopback connections, as the run and test commands expect.
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if [ -w "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  for _ in $(seq 1 60); do port_open "$PG_HOST" "$PG_PORT" && return 0; sleep 0.5; done
  log "Postgres did not come up"; return 1
}

ensure_redis() {
  if port_open 127.0.0.1 "$REDIS_PORT"; then return 0; fi
  log "Redis is not answering on 127.0.0.1:$REDIS_PORT; starting it"
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /tmp/igny8-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/igny8-redis --logfile /tmp/igny8-redis/redis.log >&2
  for _ in $(seq 1 40); do port_open 127.0.0.1 "$REDIS_PORT" && return 0; sleep 0.25; done
  log "Redis did not come up"; return 1
}

ensure_psql() {
  command -v psql >/dev/null || apt_install postgresql-client
}

# pg_dump and pg_restore of the server's major version (backups and the restore drill).
ensure_pg_tools() {
  ensure_psql
  local major
  major=$(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc "SHOW server_version_num" 2>/dev/null | cut -c1-2)
  if [ -n "$major" ] && [ ! -x "/usr/lib/postgresql/$major/bin/pg_dump" ] && ! pg_dump --version 2>/dev/null | grep -q " $major\."; then
    apt_install "postgresql-client-$major"
  fi
  command -v pg_dump >/dev/null && command -v pg_restore >/dev/null || apt_install postgresql-client
}

# Creates database $1 when it does not exist.
ensure_database() {
  ensure_psql
  if ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; then
    log "creating database $1"
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$1\"" >&2
  fi
}

ensure_cargo() {
  if ! command -v cargo >/dev/null; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null || { log "cargo (Rust) is required: https://rustup.rs"; return 1; }
}

# The loopback SMTP server of development and the tests (scripts/smtp-sink.py) runs on Debian's python3-aiosmtpd.
SINK_PYTHON=${IGNY8_TEST_PYTHON:-/usr/bin/python3}
ensure_smtp_sink() {
  [ -x "$SINK_PYTHON" ] && "$SINK_PYTHON" -c 'import aiosmtpd' 2>/dev/null && return 0
  apt_install python3-aiosmtpd
  SINK_PYTHON=/usr/bin/python3
}

# The browser tests (tests/it/browser/) drive Debian's headless Chromium through chromedriver.
ensure_chromium() {
  command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; } && return 0
  apt_install chromium chromium-driver
}
