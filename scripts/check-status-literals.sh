#!/usr/bin/env bash
# Statuses and steps are enums (`text_enum!`): Rust code compares and filters with the variants, never with the
# words. This fails on a status/state/step word used as a string in Rust code outside the enums' own mapping.
# (SQL text may name a status where a partial index needs the literal in the query; templates compare enums.)
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='(status|state|step|_before)(::[a-z_]+)?\s*\.\s*(eq|ne|eq_any|ne_all)\(\s*\[?\s*"|(status|state|step)(\.as_str\(\))?\s*[!=]=\s*"|(status|state|step)\.as_str\(\),\s*"'
hits=$(grep -rnE "$pattern" src --include='*.rs' | grep -v 'text_enum!' || true)
if [ -n "$hits" ]; then
  printf '%s\n' "$hits"
  echo "==> status or step words as strings in Rust code: use the enums (text_enum!) instead" >&2
  exit 1
fi
