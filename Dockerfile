# syntax=docker/dockerfile:1
# mltrack: an MLflow-compatible tracking server in one static binary.
#
#   docker build -t mltrack .
#   docker run -p 5000:5000 mltrack server --host 0.0.0.0
#
# The web UI is committed (web/dist) and embedded in the binary, so the
# build needs neither Node.js nor a C compiler (SQLite is pure Go).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The same command the test suite runs (internal/e2e: mltrackBinary).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mltrack ./cmd/mltrack

FROM alpine:3.20
# ca-certificates for S3 over TLS; busybox's wget serves the health checks.
RUN apk add --no-cache ca-certificates \
 && addgroup -S -g 10001 mltrack \
 && adduser -S -D -H -u 10001 -G mltrack -h /data mltrack \
 && install -d -o mltrack -g mltrack /data
COPY --from=build /out/mltrack /usr/local/bin/mltrack
USER mltrack:mltrack
WORKDIR /data
ENV MLFLOW_HOST=0.0.0.0 \
    MLFLOW_PORT=5000 \
    MLFLOW_BACKEND_STORE_URI=sqlite:////data/mlflow.db \
    MLFLOW_ARTIFACTS_DESTINATION=/data/mlartifacts
EXPOSE 5000
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:5000/health || exit 1
ENTRYPOINT ["/usr/local/bin/mltrack"]
CMD ["server"]
