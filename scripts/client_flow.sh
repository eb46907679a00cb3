#!/usr/bin/env bash
# The generated-client check: validates openapi/v1.json (openapi-spec-validator), generates a
# Python client from it (openapi-python-client, any generator warning fails), starts a fresh
# `liaison serve` and runs scripts/client_flow.py with that client against it: a family, two
# guardians, a student and a link, a merge patch, a communication, a concern moved through its
# workflow, two pages of a list followed by `next_cursor`, the timeline, and problem documents.
#
# usage: scripts/client_flow.sh [sqlite | postgres://USER[:PASS]@127.0.0.1[:PORT][/ANY]]
#
#   sqlite (the default)  a fresh SQLite file in a temp dir
#   postgres://...        a fresh database liaison_cf_<pid> is created on that server (only a
#                         loopback host is accepted) with psql, and dropped afterwards; the path
#                         of the URL is ignored
#
# Environment:
#   LIAISON_BIN      the binary under test (default target/debug/liaison, relative to the repo)
#   CF_DATABASE_URL  used when no argument is given (default sqlite)
#   CF_PORT          first port to try for the server (default 18281; the next free one is used)
#   CF_KEEP_TMP=1    keep the temp dir (server log, generated client)
#   CF_PYTHON        the interpreter that creates .venv-client (default python3, 3.11+: the
#                    generated client uses enum.StrEnum)
#
# Exit status: 0 passed; 1 the spec is invalid, the generator warned, the served spec differs
# from openapi/v1.json, or the flow failed; 2 setup failed.
# Traffic goes to 127.0.0.1 only (plus PyPI, once, to create .venv-client).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LIAISON_BIN=${LIAISON_BIN:-target/debug/liaison}
DB_SPEC=${1:-${CF_DATABASE_URL:-sqlite}}
CF_PORT=${CF_PORT:-18281}
CF_PYTHON=${CF_PYTHON:-python3}
VENV="$ROOT/.venv-client"
REQUIREMENTS="$ROOT/scripts/requirements-client.txt"
SPEC="$ROOT/openapi/v1.json"

# Nothing of this run may go through a proxy: every request is for 127.0.0.1.
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
# Settings of the caller's environment that would change what the server accepts.
unset LIAISON_JWT_SECRET_FILE LIAISON_JWT_PUBLIC_KEY_FILE LIAISON_JWT_ALGORITHM \
    LIAISON_JWT_ISSUER LIAISON_JWT_AUDIENCE LIAISON_CORS_ORIGINS LIAISON_WORKERS

say() { printf '[client_flow.sh] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }
fail() { say "FAILED: $*"; exit 1; }

[[ $# -le 1 ]] || die "usage: $0 [sqlite | postgres://USER@127.0.0.1:5432/DB]"
[[ -x $LIAISON_BIN ]] || die "LIAISON_BIN=$LIAISON_BIN is not an executable (build it first)"
LIAISON_BIN=$(cd "$(dirname "$LIAISON_BIN")" && pwd)/$(basename "$LIAISON_BIN")
[[ $CF_PORT =~ ^[0-9]+$ ]] || die "CF_PORT must be a number, not \`$CF_PORT\`"
command -v curl >/dev/null || die "curl is needed"
command -v "$CF_PYTHON" >/dev/null || die "$CF_PYTHON is needed"

# --- state for cleanup ------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liaison-cf.XXXXXX")
SERVER_PID=""
PG_DB=""
PG_ARGS=()

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s $WORK/server.log ]]; then
        say "server log (last 40 lines of $WORK/server.log):"
        tail -n 40 "$WORK/server.log" >&2
    fi
    if [[ -n $PG_DB ]]; then
        psql "${PG_ARGS[@]}" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null \
            || say "warning: could not drop database $PG_DB"
    fi
    if [[ ${CF_KEEP_TMP:-0} == 1 ]]; then
        say "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the tools in .venv-client ------------------------------------------------------------------
# Reinstalled whenever the requirements file changes; a lock keeps parallel runs from racing.
install_tools() {
    local want
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    exec 9<"$REQUIREMENTS"
    flock 9
    if [[ -x $VENV/bin/openapi-python-client && $(cat "$VENV/.requirements.sha256" 2>/dev/null) == "$want" ]]; then
        exec 9<&-
        return
    fi
    say "installing openapi-python-client and openapi-spec-validator into $VENV"
    rm -rf "$VENV"
    "$CF_PYTHON" -m venv "$VENV" || die "cannot create a venv (on Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQUIREMENTS" \
        || { rm -rf "$VENV"; die "pip install failed"; }
    echo '*' >"$VENV/.gitignore"
    echo "$want" >"$VENV/.requirements.sha256"
    exec 9<&-
}
install_tools

# --- the document, and a client generated from it -----------------------------------------------
say "validating openapi/v1.json"
"$VENV/bin/openapi-spec-validator" "$SPEC" || fail "openapi/v1.json is not a valid OpenAPI document"

say "generating the client with $("$VENV/bin/openapi-python-client" --version)"
# No post hooks: they would format the code with ruff, which proves nothing about the spec.
# An import's body is a file (CSV or NDJSON), which the generator knows by no media type of its
# own: it sends it as the bytes of a file, as it would application/octet-stream.
cat >"$WORK/generator.yaml" <<'YAML'
post_hooks: []
content_type_overrides:
  text/csv: application/octet-stream
  application/x-ndjson: application/octet-stream
YAML
mkdir "$WORK/client"
(cd "$WORK/client" && "$VENV/bin/openapi-python-client" generate --path "$SPEC" --meta none \
    --output-path "$WORK/client/liaison_client" --config "$WORK/generator.yaml" \
    --fail-on-warning) >"$WORK/generator.log" 2>&1 \
    || { cat "$WORK/generator.log" >&2; fail "the generator refused or warned about the spec"; }
# Every schema a client can meet is one class: a model named after a page's items
# (`page_family_data_item.py`) means a list inlined its item schema again.
# A component whose own name ends in Item (`ActionItem`, `Page_ActionItem`) is one class, not a
# duplicate: only `*_item.py` models that no component schema is named after count.
dupes=$("$VENV/bin/python" - "$SPEC" "$WORK/client/liaison_client/models" <<'PY'
import json, os, re, sys
spec, models = sys.argv[1], sys.argv[2]
names = json.load(open(spec)).get("components", {}).get("schemas", {})
snake = {re.sub(r"_+", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", n)).lower() for n in names}
print(" ".join(f for f in sorted(os.listdir(models))
               if f.endswith("_item.py") and f[:-3] not in snake))
PY
)
[[ -z $dupes ]] || fail "the generator made classes for inline list items: $dupes"

# --- the database -------------------------------------------------------------------------------
case $DB_SPEC in
sqlite | sqlite:)
    DATABASE_URL="sqlite://$WORK/liaison.db"
    ;;
postgres://* | postgresql://*)
    command -v psql >/dev/null || die "psql is needed for $DB_SPEC"
    PG_NAME="liaison_cf_$$"
    # host, port, user, password, and the URL of the new database, one a line.
    mapfile -t PG < <("$CF_PYTHON" - "$DB_SPEC" "$PG_NAME" <<'PY'
import sys
from urllib.parse import quote, unquote, urlsplit, urlunsplit
u = urlsplit(sys.argv[1])
host, port = u.hostname or "127.0.0.1", u.port or 5432
user, password = unquote(u.username or "postgres"), unquote(u.password or "")
auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
netloc = f"{auth}@{'[' + host + ']' if ':' in host else host}:{port}"
print(host, port, user, password, urlunsplit((u.scheme, netloc, "/" + sys.argv[2], u.query, "")), sep="\n")
PY
    )
    case ${PG[0]} in
    127.0.0.1 | localhost | ::1) ;;
    *) die "refusing PostgreSQL host ${PG[0]}: this script creates and drops databases, loopback only" ;;
    esac
    export PGPASSWORD=${PG[3]} PGCONNECT_TIMEOUT=5
    PG_ARGS=(-h "${PG[0]}" -p "${PG[1]}" -U "${PG[2]}" -d postgres -v ON_ERROR_STOP=1 -X)
    psql "${PG_ARGS[@]}" -qc "CREATE DATABASE \"$PG_NAME\"" >/dev/null \
        || die "cannot create database $PG_NAME on ${PG[0]}:${PG[1]} as ${PG[2]}"
    PG_DB=$PG_NAME
    DATABASE_URL=${PG[4]}
    ;;
*)
    die "the database must be \`sqlite\` or a postgres:// URL, not \`$DB_SPEC\`"
    ;;
esac

# --- the server ---------------------------------------------------------------------------------
PORT=$("$CF_PYTHON" - "$CF_PORT" <<'PY'
import socket, sys
first = int(sys.argv[1])
for port in range(first, first + 200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    sys.exit(f"no free port in {first}..{first + 199}")
PY
) || die "no free port"
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL LIAISON_BIND="127.0.0.1:$PORT" RUST_LOG=warn
LIAISON_JWT_SECRET=$("$CF_PYTHON" -c 'import secrets; print(secrets.token_hex(32))')
export LIAISON_JWT_SECRET

say "starting $LIAISON_BIN serve on $BASE (${DATABASE_URL%%://*})"
(cd "$WORK" && exec "$LIAISON_BIN" serve) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

CURL=(curl -sS --noproxy '*' --max-time 10)
for i in $(seq 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start"
    if [[ $("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/readyz" 2>/dev/null) == 200 ]]; then
        break
    fi
    [[ $i -lt 300 ]] || die "the server was not ready after 30 s"
    sleep 0.1
done

# The client was generated from the committed document; it must be the one this server serves.
"${CURL[@]}" -o "$WORK/served.json" "$BASE/v1/openapi.json" || die "cannot fetch /v1/openapi.json"
"$CF_PYTHON" - "$SPEC" "$WORK/served.json" <<'PY' || fail "the server serves another document than openapi/v1.json (regenerate it: cargo run -q -- openapi > openapi/v1.json)"
import json, sys
with open(sys.argv[1]) as a, open(sys.argv[2]) as b:
    sys.exit(0 if json.load(a) == json.load(b) else 1)
PY

# --- the flow -----------------------------------------------------------------------------------
LIAISON_TOKEN=$("$LIAISON_BIN" token --role admin --school cf-school --sub cf-admin --ttl 1h) \
    || die "cannot mint a token"
LIAISON_PEER_TOKEN=$("$LIAISON_BIN" token --role admin --school cf-other-school --sub cf-peer --ttl 1h) \
    || die "cannot mint the peer token"
[[ -n $LIAISON_TOKEN && -n $LIAISON_PEER_TOKEN ]] || die "liaison token printed nothing"
export LIAISON_TOKEN LIAISON_PEER_TOKEN

say "running scripts/client_flow.py"
PYTHONPATH="$WORK/client" PYTHONDONTWRITEBYTECODE=1 \
    timeout --kill-after=10 120 "$VENV/bin/python" "$ROOT/scripts/client_flow.py" "$BASE" \
    || fail "the client flow failed"
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died during the run"
say "passed"
