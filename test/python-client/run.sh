#!/usr/bin/env bash
# Runs flows written with the official mlflow client against fresh servers.
#
#   tutorial  SQLite with a local artifact folder, PostgreSQL with an S3 bucket
#             (versitygw), a tracking server with an --artifacts-only server
#   auth      SQLite and PostgreSQL with auth on
#   tracing, webhooks, genai
#             SQLite with a local folder, PostgreSQL with an S3 bucket; each on
#             a server of its own (MLflow caches webhook lists per server)
#
# Needs what CI can't install here (PyPI is out of reach): a python3 that
# imports mlflow 3.x, scikit-learn and psutil (torch optional). Set PYTHON to choose
# it. PostgreSQL on 127.0.0.1:5432 (trust auth) and versitygw
# (scripts/install-versitygw.sh) as for the Go tests.
#
#   test/python-client/run.sh                    every flow against mltrack
#   test/python-client/run.sh tracing genai      only these flows
#   SERVER=mlflow test/python-client/run.sh tracing webhooks genai
#                    the same against MLflow's own server (the `mlflow` command
#                    next to $PYTHON), to check a flow is faithful to MLflow;
#                    the auth flow is mltrack's (tokens, --auth-default-permission)
#                    and is left out there
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import mlflow, sklearn, psutil' 2>/dev/null; then
	echo "run.sh: $PYTHON cannot import mlflow, sklearn and psutil; install them (pip install mlflow scikit-learn psutil) or set PYTHON" >&2
	exit 2
fi
SERVER="${SERVER:-mltrack}"
flows=("$@")
[ ${#flows[@]} -eq 0 ] && flows=(tutorial auth tracing webhooks genai)
for f in "${flows[@]}"; do
	case "$f" in
	tutorial | auth | tracing | webhooks | genai) ;;
	*)
		echo "run.sh: unknown flow $f (tutorial, auth, tracing, webhooks, genai)" >&2
		exit 2
		;;
	esac
done
wanted() {
	local f
	for f in "${flows[@]}"; do [ "$f" = "$1" ] && return 0; done
	return 1
}
case "$SERVER" in
mltrack) ;;
mlflow)
	mlflow_bin="$(dirname "$PYTHON")/mlflow"
	[ -x "$mlflow_bin" ] || mlflow_bin=mlflow
	;;
*)
	echo "run.sh: SERVER is mltrack or mlflow" >&2
	exit 2
	;;
esac
export PATH="$PATH:$(go env GOPATH)/bin"
work="$(mktemp -d)"
pids=()
# stop PID: ends a process the script started, with its children (`mlflow
# server` runs uvicorn as its child), and waits for them, so that their
# database connections are closed before the databases are dropped.
stop() {
	local p=$1 q
	local procs=("$p" $(pgrep -P "$p" || true))
	kill "${procs[@]}" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for q in "${procs[@]:1}"; do
		for _ in $(seq 100); do
			kill -0 "$q" 2>/dev/null || break
			sleep 0.1
		done
	done
}
cleanup() {
	for p in "${pids[@]}"; do stop "$p"; done
	for db in "${dbs[@]}"; do psql -h 127.0.0.1 -U postgres -q -c "drop database if exists $db" >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
dbs=()
trap cleanup EXIT

[ "$SERVER" = mltrack ] && go build -o "$work/mltrack" ./cmd/mltrack

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {
	for _ in $(seq 600); do
		curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server on :$1 did not start; its log:" >&2
	cat "$2" >&2
	return 1
}

s3port=$(free_port)
mkdir -p "$work/s3/flows"
versitygw --access flowkey --secret flowsecret12345 --port "127.0.0.1:$s3port" posix "$work/s3" >"$work/s3.log" 2>&1 &
pids+=($!)
export MLFLOW_S3_ENDPOINT_URL="http://127.0.0.1:$s3port" AWS_ACCESS_KEY_ID=flowkey AWS_SECRET_ACCESS_KEY=flowsecret12345

# The webhooks flow's receiver is on 127.0.0.1 over http: both servers take
# MLflow's variables for that (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS as MLflow 3.10).
export MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true
MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY="$("$PYTHON" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
export MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY

# server NAME ARGS...: starts the server (mltrack, or MLflow's with SERVER=mlflow)
# in its own folder, sets $uri.
server() {
	local name=$1
	shift
	local port
	port=$(free_port)
	mkdir -p "$work/$name"
	if [ "$SERVER" = mlflow ]; then
		local args=("$@")
		[[ " ${args[*]} " == *" --backend-store-uri "* ]] || args+=(--backend-store-uri "sqlite:///$work/$name/mlflow.db")
		(cd "$work/$name" && exec "$mlflow_bin" server --host 127.0.0.1 --port "$port" --workers 1 "${args[@]}" >server.log 2>&1) &
	else
		(cd "$work/$name" && MLFLOW_AUTH_ADMIN_PASSWORD=admin-password-1234 exec "$work/mltrack" server --port "$port" "$@" >server.log 2>&1) &
	fi
	server_pid=$!
	pids+=($!)
	wait_up "$port" "$work/$name/server.log"
	uri="http://127.0.0.1:$port"
}

# newdb NAME: creates a database dropped at exit, sets $pg to its URI.
newdb() {
	local db="mltrack_pyflow_$1_$$"
	psql -h 127.0.0.1 -U postgres -q -c "drop database if exists $db" -c "create database $db" >/dev/null
	dbs+=("$db")
	pg="postgresql://postgres@127.0.0.1:5432/$db"
}

failed=0
run() {
	local what=$1
	shift
	echo
	echo "== $what"
	if ! "$@"; then
		failed=1
		echo "== FAILED: $what"
	fi
}

# Multipart through the proxy: on S3 the client uploads parts, on a local
# folder the server's 501 sends it back to one PUT.
multipart=(env MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=5242880 MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE=5242880)

if wanted tutorial; then
	server sqlite-local
	run "tutorial flow: SQLite, local artifacts" "${multipart[@]}" MLFLOW_TRACKING_URI="$uri" "$PYTHON" test/python-client/tutorial_flow.py

	newdb main
	server pg-s3 --backend-store-uri "$pg" --artifacts-destination s3://flows/artifacts
	run "tutorial flow: PostgreSQL, S3 artifacts" "${multipart[@]}" MLFLOW_TRACKING_URI="$uri" "$PYTHON" test/python-client/tutorial_flow.py

	# MLflow's split deployment: an --artifacts-only server, and a tracking
	# server whose default artifact root is that server's URL.
	server artifacts-only --artifacts-only --artifacts-destination "$work/split-artifacts"
	split_root="$uri/api/2.0/mlflow-artifacts/artifacts/experiments"
	server split-tracking --no-serve-artifacts --default-artifact-root "$split_root"
	run "tutorial flow: tracking server and --artifacts-only server" env MLFLOW_TRACKING_URI="$uri" "$PYTHON" test/python-client/tutorial_flow.py
fi

if wanted auth && [ "$SERVER" = mltrack ]; then
	server sqlite-auth --app-name basic-auth --auth-default-permission NO_PERMISSIONS
	run "auth flow: SQLite" env MLFLOW_TRACKING_URI="$uri" ADMIN_PASSWORD=admin-password-1234 "$PYTHON" test/python-client/auth_flow.py

	newdb auth
	server pg-auth --backend-store-uri "$pg" --auth-database-uri "$pg" --artifacts-destination s3://flows/auth --app-name basic-auth --auth-default-permission NO_PERMISSIONS
	run "auth flow: PostgreSQL, S3 artifacts" env MLFLOW_TRACKING_URI="$uri" ADMIN_PASSWORD=admin-password-1234 "$PYTHON" test/python-client/auth_flow.py
fi

# tracing, webhooks, genai: each on SQLite + a local folder and on PostgreSQL + S3.
for flow in tracing webhooks genai; do
	wanted "$flow" || continue
	server "$flow-sqlite"
	run "$flow flow: SQLite, local artifacts" env MLFLOW_TRACKING_URI="$uri" "$PYTHON" "test/python-client/${flow}_flow.py"
	stop "$server_pid"
	newdb "$flow"
	server "$flow-pg-s3" --backend-store-uri "$pg" --artifacts-destination "s3://flows/$flow"
	run "$flow flow: PostgreSQL, S3 artifacts" env MLFLOW_TRACKING_URI="$uri" "$PYTHON" "test/python-client/${flow}_flow.py"
	stop "$server_pid"
done

echo
if [ "$failed" -ne 0 ]; then
	echo "some flows failed"
	exit 1
fi
echo "all flows passed"
