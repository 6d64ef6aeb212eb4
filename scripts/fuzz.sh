#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a while each:
#   scripts/fuzz.sh [fuzztime]      (default 10s; e.g. 2m for a longer run)
# The targets are found with `go test -list '^Fuzz' ./...`, so a new one is
# run without editing this script. Seed corpora are in testdata/fuzz/ of each
# package; a failing input is written there by `go test` and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"

names=()
while read -r first second _; do
  case "$first" in
    Fuzz*) names+=("$first") ;;
    ok)
      for n in "${names[@]}"; do
        echo "== $second $n ($fuzztime)"
        out=$(mktemp)
        if ! go test -run '^$' -fuzz "^${n}\$" -fuzztime "$fuzztime" -parallel "${FUZZ_PARALLEL:-2}" "$second" >"$out" 2>&1; then
          cat "$out"; rm -f "$out"
          echo "fuzz target $n in $second failed (the failing input is in its testdata/fuzz/$n/)"; exit 1
        fi
        # The last progress line has the executions; the rest is noise.
        grep -e '^fuzz: elapsed' "$out" | tail -1 || true
        rm -f "$out"
      done
      names=() ;;
  esac
done < <(go test -list '^Fuzz' ./... 2>/dev/null)
