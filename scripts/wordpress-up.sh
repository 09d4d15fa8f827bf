#!/usr/bin/env bash
# A real WordPress on loopback for IGNY8's publishing tests and benchmark, from Debian's packages
# (wordpress, PHP, MariaDB). Idempotent: a second `up` reuses what is running.
#
#   scripts/wordpress-up.sh [up|stop|status|reset]
#
# Four php -S servers share one WordPress and one database:
#   :8089  the site, with the IGNY8 companion plugin active (shared secret below)
#   :8090  the same site as if the plugin were not installed (the router filters it out of active_plugins)
#   :8091  the same site behind a "firewall" that answers 403 to every REST request
#   :8092  the same site as if pretty permalinks were off: /wp-json/ is a 404, only /?rest_route= works
# MariaDB listens on a unix socket only. WordPress may not call out (WP_HTTP_BLOCK_EXTERNAL).
# Writes $WP_ROOT/env (the URLs, WP_USER / WP_APP_PASSWORD of an administrator, WP_READER /
# WP_READER_APP_PASSWORD of a subscriber, WP_PLUGIN_SECRET, and WP_SRC_MYSQL_URL + WP_DB_SOCKET: a MariaDB
# user that may create igny8_src_* databases, for the import-wp tests and benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

WP_ROOT=${WP_ROOT:-/tmp/igny8-wp}      # short: the socket path must stay under 108 characters
PORT=${WP_PORT:-8089}
PLAIN_PORT=$((PORT + 1))
BLOCKED_PORT=$((PORT + 2))
NOPRETTY_PORT=$((PORT + 3))
ADMIN=${WP_ADMIN_USER:-editor-admin}
ADMIN_PASS=${WP_ADMIN_PASS:-igny8-Admin-pass-1}
SECRET=${WP_PLUGIN_SECRET:-igny8-test-plugin-secret-0123456789}
URL="http://127.0.0.1:$PORT"
SITE="$WP_ROOT/site"
RUN="$WP_ROOT/run"
DATA="$WP_ROOT/db"
SOCK="$RUN/db.sock"

say() { printf '[wordpress] %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
answers() { curl -s -o /dev/null --max-time 3 "$1"; }

stop() {
  for pid in "$RUN"/php-*.pid; do
    # php -S with workers forks children: it was started with setsid, so kill its process group.
    running "$pid" && { kill -TERM -- "-$(cat "$pid")" 2>/dev/null || kill "$(cat "$pid")" || true; }
    rm -f "$pid"
  done
  if running "$RUN/db.pid"; then
    local p; p=$(cat "$RUN/db.pid"); kill "$p"
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
}

case "${1:-up}" in
  stop) stop; say "stopped"; exit 0 ;;
  reset) stop; rm -rf "$WP_ROOT"; say "removed $WP_ROOT"; exit 0 ;;
  status)
    for f in db php-$PORT php-$PLAIN_PORT php-$BLOCKED_PORT php-$NOPRETTY_PORT; do
      running "$RUN/$f.pid" && echo "$f: running" || echo "$f: stopped"
    done
    exit 0 ;;
  up) ;;
  *) fail "usage: $0 [up|stop|status|reset]" ;;
esac

# 1. Packages. php-fpm and nginx satisfy the wordpress package's web-server dependencies without apache2;
#    policy-rc.d keeps their post-install scripts from starting them.
PKGS="wordpress php-cli php-mysql php-xml php-mbstring php-curl php php-fpm nginx mariadb-server mariadb-client curl"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || fail "missing packages:$missing (run as root to install them)"
  say "installing$missing"
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added_policy=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-cache policy wordpress | grep -q 'Candidate: [0-9]' || apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing > "${TMPDIR:-/tmp}/igny8-wp-apt.log" 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing > "${TMPDIR:-/tmp}/igny8-wp-apt.log" 2>&1; } ||
    { tail -20 "${TMPDIR:-/tmp}/igny8-wp-apt.log" >&2; fail "apt-get install failed"; }
  [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
mkdir -p "$RUN"

# 2. MariaDB in user space, socket only.
if ! (running "$RUN/db.pid" && mariadb-admin --socket="$SOCK" -uroot ping >/dev/null 2>&1); then
  rm -f "$SOCK" "$RUN/db.pid"
  if [ ! -d "$DATA/mysql" ]; then
    rm -rf "$DATA"; mkdir -p "$DATA"
    # --force skips resolving the host name (no DNS here).
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$DATA" --force --skip-test-db \
      --auth-root-authentication-method=socket > "$RUN/db-init.log" 2>&1 || { tail "$RUN/db-init.log" >&2; fail "mariadb-install-db"; }
  fi
  setsid /usr/sbin/mariadbd --no-defaults --user="$(id -un)" --datadir="$DATA" --socket="$SOCK" --pid-file="$RUN/db.pid" \
    --skip-networking --skip-name-resolve --log-error="$RUN/db.err" --innodb-buffer-pool-size=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci < /dev/null > /dev/null 2>&1 &
  for _ in $(seq 300); do mariadb-admin --socket="$SOCK" -uroot ping > /dev/null 2>&1 && break; sleep 0.1; done
  mariadb-admin --socket="$SOCK" -uroot ping > /dev/null 2>&1 || { tail "$RUN/db.err" >&2; fail "mariadbd did not start"; }
fi
mariadb --socket="$SOCK" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wp'@'localhost' IDENTIFIED BY 'wp-local-db';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wp'@'localhost';
-- The import-wp tests and benchmark make their own plugin-shaped databases (igny8_src_*) on this server.
CREATE USER IF NOT EXISTS 'igny8_src'@'localhost' IDENTIFIED BY 'igny8-src-local';
GRANT ALL PRIVILEGES ON `igny8\_src\_%`.* TO 'igny8_src'@'localhost';
SQL

# 3. The document root: a copy of Debian's tree (its own wp-config.php picks a config by Host header, and
#    WordPress derives ABSPATH from the real path, so a symlink farm does not work).
version=$(dpkg-query -W -f='${Version}' wordpress)
if [ "$(cat "$WP_ROOT/version" 2>/dev/null)" != "$version" ]; then
  mkdir -p "$SITE"; cp -a /usr/share/wordpress/. "$SITE/"; rm -f "$SITE/wp-config.php" "$SITE/.htaccess"
  echo "$version" > "$WP_ROOT/version"
fi
mkdir -p "$SITE/wp-content/uploads" "$SITE/wp-content/plugins" "$SITE/wp-content/mu-plugins"
rm -rf "$SITE/wp-content/plugins/igny8-companion"
cp -a "$REPO/wordpress-plugin/igny8-companion" "$SITE/wp-content/plugins/"
[ -s "$WP_ROOT/keys.php" ] || php -r 'echo "<?php\n"; foreach (["AUTH_KEY","SECURE_AUTH_KEY","LOGGED_IN_KEY","NONCE_KEY","AUTH_SALT","SECURE_AUTH_SALT","LOGGED_IN_SALT","NONCE_SALT"] as $k) echo "define(\x27$k\x27, \x27", bin2hex(random_bytes(32)), "\x27);\n";' > "$WP_ROOT/keys.php"

cat > "$SITE/wp-config.php" <<PHP
<?php
// Loopback test site for IGNY8 (scripts/wordpress-up.sh).
define('DB_NAME', 'wordpress');
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp-local-db');
define('DB_HOST', 'localhost:$SOCK');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = 'wp_';
require '$WP_ROOT/keys.php';
define('WP_ENVIRONMENT_TYPE', 'local');   // application passwords over plain http only on 'local'
define('WP_HOME', '$URL');
define('WP_SITEURL', '$URL');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('DISABLE_WP_CRON', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', false);          // PHP 8.2 deprecations go to the log, never into JSON answers
define('WP_DEBUG_LOG', '$RUN/debug.log');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
PHP

cat > "$SITE/wp-content/mu-plugins/offline.php" <<'PHP'
<?php
/* Plugin Name: Offline test site: no outbound HTTP, no mail, no emoji CDN. */
add_filter('pre_http_request', function ($pre, $args, $url) {
    $host = strtolower((string) parse_url($url, PHP_URL_HOST));
    return in_array($host, array('127.0.0.1', 'localhost'), true) ? $pre : new WP_Error('offline', 'no outbound HTTP here');
}, 1, 3);
add_filter('pre_wp_mail', '__return_false');
remove_action('wp_head', 'print_emoji_detection_script', 7);
remove_action('wp_print_styles', 'print_emoji_styles');
PHP

cat > "$WP_ROOT/router.php" <<'PHP'
<?php
// php -S router: static files as they are, everything else to WordPress; the mode comes from the server's env.
$mode = getenv('IGNY8_WP_MODE');
$uri = (string) $_SERVER['REQUEST_URI'];
if ($mode === 'blocked' && (strpos($uri, '/wp-json') === 0 || strpos($uri, 'rest_route=') !== false)) {
    http_response_code(403);
    header('Content-Type: text/html');
    echo '<html><body><h1>403 Forbidden</h1><p>Request blocked by the site firewall.</p></body></html>';
    return true;
}
if ($mode === 'nopretty' && strpos($uri, '/wp-json') === 0) {
    http_response_code(404);
    header('Content-Type: text/html');
    echo '<html><body><h1>Not Found</h1></body></html>';
    return true;
}
if ($mode === 'plain') {
    // This server shows the site as if the companion plugin were not installed.
    $GLOBALS['wp_filter']['option_active_plugins'][10][] = array('accepted_args' => 1, 'function' => function ($p) {
        return array_values(array_filter((array) $p, function ($x) { return strpos($x, 'igny8-companion/') !== 0; }));
    });
}
$root = $_SERVER['DOCUMENT_ROOT'];
$path = urldecode((string) parse_url($uri, PHP_URL_PATH));
if ($path !== '/' && is_file($root . $path)) return false;
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
chdir($root);
require $root . '/index.php';
PHP

cat > "$WP_ROOT/install.php" <<'PHP'
<?php
// php install.php ROOT URL USER PASS SECRET "OLD_ADMIN OLD_READER" -> prints the admin's and the subscriber's
// application passwords
list(, $root, $url, $user, $pass, $secret, $old) = $argv;
$u = parse_url($url);
$_SERVER['HTTP_HOST'] = $u['host'] . ':' . $u['port'];
$_SERVER['SERVER_NAME'] = $u['host'];
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
if (!is_blog_installed()) wp_install('IGNY8 test site', $user, 'admin@example.com', false, '', wp_slash($pass));
update_option('permalink_structure', '/%postname%/');
update_option('default_ping_status', 'closed');
update_option('show_avatars', 0);
update_option('blog_public', 0);
update_option('igny8_companion_secret', $secret);
flush_rewrite_rules(false);
$r = activate_plugin('igny8-companion/igny8-companion.php');
if (is_wp_error($r)) { fwrite(STDERR, 'plugin: ' . $r->get_error_message() . "\n"); exit(1); }
// An author (can publish, can upload) and a subscriber (can neither) for the capability checks.
foreach (array('igny8-author' => 'author', 'igny8-reader' => 'subscriber') as $login => $role) {
    if (!get_user_by('login', $login)) { $id = wp_create_user($login, $pass, "$login@example.com"); (new WP_User($id))->set_role($role); }
}
if (!term_exists('News', 'category')) wp_insert_term('News', 'category');
// One application password named "igny8" per user, kept while it still works.
function igny8_app_password($login, $old) {
    $u = get_user_by('login', $login);
    foreach (WP_Application_Passwords::get_user_application_passwords($u->ID) as $item) {
        if ($item['name'] !== 'igny8') continue;
        if ($old !== '' && wp_check_password($old, $item['password'], $u->ID)) return $old;
        WP_Application_Passwords::delete_application_password($u->ID, $item['uuid']);
    }
    $made = WP_Application_Passwords::create_new_application_password($u->ID, array('name' => 'igny8'));
    if (is_wp_error($made)) { fwrite(STDERR, $made->get_error_message() . "\n"); exit(1); }
    return $made[0];
}
$olds = explode(' ', $old . ' ');
echo igny8_app_password($user, $olds[0]), ' ', igny8_app_password('igny8-reader', $olds[1]);
PHP

# 4. Install, activate the companion plugin, make the application password (kept across runs).
PASSWORDS=$(php -d display_errors=0 -d error_log="$RUN/cli.log" "$WP_ROOT/install.php" "$SITE" "$URL" "$ADMIN" "$ADMIN_PASS" "$SECRET" "$(cat "$WP_ROOT/app_passwords" 2>/dev/null || true)")
[[ "$PASSWORDS" =~ ^[A-Za-z0-9]{24}\ [A-Za-z0-9]{24}$ ]] || fail "no application passwords: $PASSWORDS"
echo "$PASSWORDS" > "$WP_ROOT/app_passwords"
APP=${PASSWORDS%% *}
READER_APP=${PASSWORDS##* }

# 5. The servers.
serve() { # port mode workers
  local pid="$RUN/php-$1.pid"
  if running "$pid" && answers "http://127.0.0.1:$1/"; then return 0; fi
  rm -f "$pid"
  IGNY8_WP_MODE=$2 PHP_CLI_SERVER_WORKERS=$3 setsid php -S "127.0.0.1:$1" -t "$SITE" -d display_errors=0 \
    -d error_log="$RUN/php-$1.log" -d upload_max_filesize=32M -d post_max_size=32M -d memory_limit=256M \
    "$WP_ROOT/router.php" < /dev/null > "$RUN/php-$1.out" 2>&1 &
  echo $! > "$pid"
  for _ in $(seq 100); do answers "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  tail "$RUN/php-$1.out" >&2; fail "php -S on port $1 did not answer"
}
serve "$PORT" full 4
serve "$PLAIN_PORT" plain 2
serve "$BLOCKED_PORT" blocked 1
serve "$NOPRETTY_PORT" nopretty 2

code=$(curl -s -o /dev/null -w '%{http_code}' -u "$ADMIN:$APP" "$URL/wp-json/wp/v2/users/me?context=edit")
[ "$code" = 200 ] || fail "the application password does not work (HTTP $code)"

cat > "$WP_ROOT/env" <<ENV
WP_URL=$URL
WP_PLAIN_URL=http://127.0.0.1:$PLAIN_PORT
WP_BLOCKED_URL=http://127.0.0.1:$BLOCKED_PORT
WP_NOPRETTY_URL=http://127.0.0.1:$NOPRETTY_PORT
WP_USER=$ADMIN
WP_APP_PASSWORD=$APP
WP_READER=igny8-reader
WP_READER_APP_PASSWORD=$READER_APP
WP_PLUGIN_SECRET=$SECRET
WP_DB_SOCKET=$SOCK
WP_SRC_MYSQL_URL=mysql://igny8_src:igny8-src-local@localhost
ENV
say "WordPress $version at $URL (plain $PLAIN_PORT, REST blocked $BLOCKED_PORT, no pretty permalinks $NOPRETTY_PORT); env in $WP_ROOT/env"
