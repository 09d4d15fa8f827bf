#!/usr/bin/env bash
# Starts scripts/dev.sh as a user would, reads the printed demo login, signs in with it over HTTP and
# checks the dashboard. Fails loudly on any step.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

command -v curl >/dev/null || apt_install curl
if port_open 127.0.0.1 8080; then
  log "smoke: 127.0.0.1:8080 is already in use; stop whatever listens there first"; exit 1
fi
out=$(mktemp); jar=$(mktemp)
IGNY8_DEV_DB=igny8_smoke setsid bash scripts/dev.sh >"$out" 2>&1 &
pid=$!
cleanup() { kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out" "$jar"; }
trap cleanup EXIT

for _ in $(seq 1 600); do
  curl -fsS -o /dev/null http://127.0.0.1:8080/healthz 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$out"; log "smoke: dev.sh exited"; exit 1; }
  sleep 0.5
done
email=$(sed -n 's/^email: //p' "$out" | tail -n 1)
password=$(sed -n 's/^password: //p' "$out" | tail -n 1)
[ -n "$email" ] && [ -n "$password" ] || { cat "$out"; log "smoke: no demo login printed"; exit 1; }

page=$(curl -fsS -c "$jar" -b "$jar" http://127.0.0.1:8080/login)
csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
code=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
  --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$email" --data-urlencode "password=$password" \
  http://127.0.0.1:8080/login)
[ "$code" = 303 ] || { log "smoke: sign-in answered $code, expected 303"; exit 1; }
dash=$(curl -fsS -c "$jar" -b "$jar" http://127.0.0.1:8080/dashboard)
printf '%s' "$dash" | grep -q 'Demo Agency' || { log "smoke: dashboard does not show the demo workspace"; exit 1; }
printf '%s' "$dash" | grep -q '<h1>Dashboard</h1>' || { log "smoke: no dashboard heading"; exit 1; }
curl -fsS http://127.0.0.1:8080/readyz >/dev/null || { log "smoke: /readyz is not 200"; exit 1; }
log "smoke: OK — signed in as $email and saw the dashboard"
