#!/usr/bin/env bash
# Runs every test of mltrack on a fresh machine: installs what the tests need
# (Debian packages, the S3 test server, Chromium), makes sure PostgreSQL is
# up, then runs the Go tests (SQLite and PostgreSQL suites, API, wire
# replays, S3) and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:$(go env GOPATH)/bin"
log() { printf '\n== %s\n' "$*"; }

log "Debian packages"
scripts/install-test-deps.sh

log "PostgreSQL"
scripts/ensure-postgres.sh

log "S3 test server (versitygw)"
scripts/install-versitygw.sh

log "Browser test dependencies (Chromium, npm packages)"
scripts/install-browser-deps.sh

log "go vet"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted"; exit 1
fi

log "go test"
# -p 1: the suites share 2 cores and one PostgreSQL; parallel packages only
# make them slower and flakier here.
CI="${CI:-}" go test -p 1 -count=1 -timeout 20m ./...

log "go test, the cgo SQLite driver (-tags cgosqlite): the SQLite store suites"
go vet -tags cgosqlite ./internal/sqlitedriver ./internal/store/sqlstore
CI="${CI:-}" go test -tags cgosqlite -p 1 -count=1 -timeout 20m ./internal/store/sqlstore ./internal/sqlitedriver -run 'SQLite|JSON|SearchSeek|SearchFromMetric/sqlite'

log "fuzz: every fuzz target for a short while (scripts/fuzz.sh 2m by hand)"
scripts/fuzz.sh "${FUZZTIME:-10s}"

log "web: build must match the committed web/dist"
(cd web && npm run build --silent)
if [ -n "$(git status --porcelain -- web/dist)" ]; then
  git status --porcelain -- web/dist | head
  echo "web/dist differs from a fresh build of web/src: rebuild and commit it"; exit 1
fi
go build -o bin/mltrack ./cmd/mltrack

log "web: browser tests"
(cd web && MLTRACK_BIN="$PWD/../bin/mltrack" npm test)

log "a third-party client: the npm mlflow package"
(cd test/npm-client && npm ci --no-audit --no-fund --silent && MLTRACK_BIN="$PWD/../../bin/mltrack" npm test)
