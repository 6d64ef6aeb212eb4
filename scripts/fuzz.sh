#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a while each:
#   scripts/fuzz.sh [fuzztime]      (default 10s; e.g. 2m for a longer run)
# The targets are found with `go test -list '^Fuzz' ./...`, so a new one is
# run without editing this script. Seed corpora are in testdata/fuzz/ of each
# package; a failing input is written there by `go test` and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"

# baseline_only reports a run that spent all its time reading the seed
# corpus and never fuzzed. The first time, the target is run again for four
# times as long (the variable named by $4 is set to that time); the second
# time, the run fails: a target that cannot fuzz in CI proves nothing there.
baseline_only() {
  local out="$1" n="$2" pkg="$3"
  local last
  last=$(grep -e '^fuzz: elapsed' "$out" | tail -1)
  case "$last" in
    *"gathering baseline coverage"*) ;;
    *) return 1 ;;
  esac
  if [ "${retried_baseline:-}" = "$pkg $n" ]; then
    echo "   $last"
    echo "fuzz target $n in $pkg never got past its seed corpus: trim its seeds or raise FUZZTIME"
    exit 1
  fi
  retried_baseline="$pkg $n"
  local secs=${fuzztime%s}
  case "$secs" in
    *[!0-9]*) printf -v "$4" '%s' "$fuzztime" ;;
    *) printf -v "$4" '%ss' $((secs * 4)) ;;
  esac
  echo "   (still reading its seed corpus when the time ended; running $n again for ${!4})"
  return 0
}

names=()
while read -r first second _; do
  case "$first" in
    Fuzz*) names+=("$first") ;;
    ok)
      for n in "${names[@]}"; do
        echo "== $second $n ($fuzztime)"
        out=$(mktemp)
        tries=0
        t="$fuzztime"
        while true; do
          if go test -run '^$' -fuzz "^${n}\$" -fuzztime "$t" -parallel "${FUZZ_PARALLEL:-2}" "$second" >"$out" 2>&1; then
            if baseline_only "$out" "$n" "$second" t; then
              continue
            fi
            break
          fi
          tries=$((tries + 1))
          # Go 1.26's fuzz coordinator can report "context deadline exceeded"
          # when -fuzztime ends while a worker is mid-call (golang/go#75804,
          # fixed in Go 1.27). That is no finding: nothing is written to
          # testdata/fuzz. Such a run is tried once more; a real failure, or
          # the same thing twice, fails.
          if [ "$tries" -eq 1 ] && grep -q 'context deadline exceeded' "$out" \
            && ! grep -q -e 'Failing input written' -e '^panic' -e '_test.go:[0-9]*:' "$out"; then
            echo "   (fuzz coordinator deadline race, golang/go#75804; running $n again)"
            continue
          fi
          cat "$out"; rm -f "$out"
          echo "fuzz target $n in $second failed (the failing input is in its testdata/fuzz/$n/)"; exit 1
        done
        # The last progress line has the executions; the rest is noise.
        grep -e '^fuzz: elapsed' "$out" | tail -1 || true
        rm -f "$out"
      done
      names=() ;;
  esac
done < <(go test -list '^Fuzz' ./... 2>/dev/null)
