#!/usr/bin/env bash
# Builds the companion plugin's installable zip (Plugins → Add New → Upload) into target/igny8-companion.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
out="$(pwd)/target/igny8-companion.zip"
rm -f "$out"
command -v php >/dev/null && php -l wordpress-plugin/igny8-companion/igny8-companion.php >/dev/null
(cd wordpress-plugin && python3 - "$out" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk("igny8-companion"):
        for f in sorted(files):
            z.write(os.path.join(root, f))
PY
)
echo "$out"
