#!/usr/bin/env bash
# Checks that docker/Dockerfile builds from a clean context, without a container engine: copies exactly the
# paths its build stage COPYs into an emptied folder and runs the build stage's cargo command there. A path the
# Dockerfile forgets (a folder Cargo.toml names, a file a macro embeds) fails here as it would in `docker build`.
#   scripts/docker-context-check.sh                              # the release build (target kept: reruns are incremental)
#   DOCKERFILE=other/Dockerfile scripts/docker-context-check.sh  # another Dockerfile (the tests feed it broken ones)
# A context cargo cannot read (a target's folder not copied) fails at once, before anything compiles.
# IGNY8_CONTEXT_TARGET sets the cargo target folder (default target/docker-context).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
. scripts/lib.sh
ensure_cargo

dockerfile=${DOCKERFILE:-docker/Dockerfile}
[ -f "$dockerfile" ] || { log "no Dockerfile at $dockerfile"; exit 2; }

# One fixed folder per checkout, emptied each run: the same path keeps cargo's fingerprints valid between runs.
ctx="${TMPDIR:-/tmp}/igny8-docker-context-$(printf '%s' "$repo" | sha256sum | cut -c1-12)"
export CARGO_TARGET_DIR="${IGNY8_CONTEXT_TARGET:-$repo/target/docker-context}"
rm -rf "$ctx"
mkdir -p "$ctx"

# The build stage: from the first FROM up to the next one. Continuation lines are joined first.
stage=$(sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$dockerfile" | awk '/^FROM /{ n++ } n == 1')
workdir=/
build_cmd=""
while read -r instr rest; do
  case "$instr" in
    WORKDIR) workdir="$rest" ;;
    COPY)
      read -r -a words <<<"$rest"
      args=()
      for w in "${words[@]}"; do
        case "$w" in --from=*) continue 2 ;; --*) ;; *) args+=("$w") ;; esac
      done
      [ "${#args[@]}" -ge 2 ] || { log "cannot read: COPY $rest"; exit 2; }
      dest="${args[-1]}"
      unset 'args[-1]'
      case "$dest" in /*) ;; *) dest="${workdir%/}/$dest" ;; esac
      dest="${dest#"${workdir%/}"}"   # paths inside the build folder map onto the context folder
      for src in "${args[@]}"; do
        [ -e "$src" ] || { log "COPY $src: no such path in the repository"; exit 1; }
        if [ -d "$src" ]; then
          mkdir -p "$ctx/$dest"
          cp -a "$src/." "$ctx/$dest/"
        elif [ "${#args[@]}" -gt 1 ] || [[ "$dest" == */ ]]; then
          mkdir -p "$ctx/$dest"
          cp -a "$src" "$ctx/$dest/"
        else
          mkdir -p "$(dirname "$ctx/$dest")"
          cp -a "$src" "$ctx/$dest"
        fi
      done
      ;;
    RUN)
      cmd="$rest"
      while [[ "$cmd" == --* ]]; do cmd="${cmd#* }"; done   # RUN --mount=… flags
      [[ "$cmd" == *"cargo build"* ]] && build_cmd="$cmd"
      ;;
  esac
done <<<"$stage"

[ -n "$build_cmd" ] || { log "no 'RUN cargo build' in the build stage of $dockerfile"; exit 2; }
[[ "$build_cmd" == *--locked* ]] || { log "the build must use --locked (the image is built from Cargo.lock): $build_cmd"; exit 1; }
log "context: $(cd "$ctx" && find . -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')"
cd "$ctx"
log "in the context: $build_cmd (target: $CARGO_TARGET_DIR)"
start=$(date +%s)
bash -c "$build_cmd"
log "clean-context build OK in $(( $(date +%s) - start )) s"
