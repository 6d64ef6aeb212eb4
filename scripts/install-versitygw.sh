#!/bin/sh
# Installs versitygw (Apache-2.0), the S3 server the artifact tests start,
# into $(go env GOPATH)/bin. Idempotent: does nothing when the pinned version
# is already there.
set -eu

VERSION=v1.8.0
BIN="$(go env GOPATH)/bin/versitygw"

if command -v versitygw >/dev/null 2>&1; then
	BIN="$(command -v versitygw)"
fi
# go install builds report no version themselves; the module info does.
if [ -x "$BIN" ] && go version -m "$BIN" 2>/dev/null | grep -q "github.com/versity/versitygw[[:space:]]*${VERSION}"; then
	echo "versitygw ${VERSION} already installed at ${BIN}"
	exit 0
fi
echo "installing versitygw ${VERSION} (a few minutes on a cold module cache)"
go install "github.com/versity/versitygw/cmd/versitygw@${VERSION}"
echo "installed $(go env GOPATH)/bin/versitygw"
