#!/usr/bin/env bash
# Load benchmark for Liaison: release build, fresh SQLite with 100k families,
# wrk against GET one family, a filtered list of 50, and create; peak RSS.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   BENCH_SECONDS      wrk duration per scenario, seconds (default 15)
#   BENCH_WARMUP       warm-up per scenario, seconds, not measured (default 2; 0 = none)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_FAMILIES     families to seed (default 100000)
#   BENCH_PORT         port on 127.0.0.1 (default 18089)
#   BENCH_SKIP_BUILD   1 = use the existing release binary
#   CARGO_TARGET_DIR   where cargo builds (default ./target)
#   LIAISON_WORKERS    passed to the server when set
#
# It reports; it is not a test: it exits 0 when targets are missed, and
# non-zero only when the benchmark itself cannot run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/bench"

SECONDS_PER=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
FAMILIES=${BENCH_FAMILIES:-100000}
PORT=${BENCH_PORT:-18089}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"

for v in SECONDS_PER WARMUP THREADS CONNS FAMILIES PORT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((SECONDS_PER >= 1)) || { echo "bench: BENCH_SECONDS must be at least 1" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk from Debian packages"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is required" >&2; exit 2; }

# --- build -------------------------------------------------------------------
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release (target dir $TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x $BIN ]] || { echo "bench: no release binary at $BIN" >&2; exit 2; }

# --- temp dir, cleanup -------------------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL="sqlite://$DIR/bench.db"
LIAISON_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))') # 40 chars
export LIAISON_JWT_SECRET
export LIAISON_BIND="127.0.0.1:$PORT"
export RUST_LOG=warn

# Nothing may already listen on the port, or we would measure someone else.
if python3 - "$PORT" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
then
  echo "bench: something already listens on 127.0.0.1:$PORT (set BENCH_PORT)" >&2
  exit 2
fi

# --- database ----------------------------------------------------------------
log "migrating $DATABASE_URL"
"$BIN" migrate >&2
log "seeding $FAMILIES families for $SCHOOL"
mapfile -t SEEDED < <(python3 "$HERE/seed.py" "$DIR/bench.db" "$SCHOOL" "$FAMILIES")
((${#SEEDED[@]} == 3)) || { echo "bench: seeding failed" >&2; exit 2; }
FAMILY_ID=${SEEDED[1]} # from the middle of the table

# --- server ------------------------------------------------------------------
log "starting server on $LIAISON_BIND"
"$BIN" serve >"$DIR/server.log" 2>&1 &
SERVER_PID=$!

# status URL [METHOD BODY]: prints the HTTP status code (000 when unreachable).
status() {
  python3 - "$@" <<'EOF'
import os, sys, urllib.request, urllib.error
url = sys.argv[1]
method = sys.argv[2] if len(sys.argv) > 2 else "GET"
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=body, method=method)
if os.environ.get("BENCH_TOKEN"):
    req.add_header("Authorization", "Bearer " + os.environ["BENCH_TOKEN"])
if body is not None:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

ready=0
for _ in $(seq 1 150); do # at most ~15 s
  kill -0 "$SERVER_PID" 2>/dev/null || break
  if [[ $(status "$HOST/readyz") == 200 ]]; then ready=1; break; fi
  sleep 0.1
done
if ((!ready)); then
  echo "bench: server did not become ready; its log:" >&2
  tail -n 40 "$DIR/server.log" >&2 || true
  exit 2
fi

BENCH_TOKEN=$("$BIN" token --role admin --school "$SCHOOL" --ttl 2h)
export BENCH_TOKEN

CREATE_BODY='{"display_name":"Bench family","primary_language":"en"}'
GET_URL="$HOST/v1/families/$FAMILY_ID"
LIST_URL="$HOST/v1/families?primary_language=es&limit=50"
CREATE_URL="$HOST/v1/families"

# One request of each kind first: a benchmark of 401s or 404s is worthless.
declare -A WANT=([get]=200 [list]=200 [create]=201) GOT
GOT[get]=$(status "$GET_URL")
GOT[list]=$(status "$LIST_URL")
GOT[create]=$(status "$CREATE_URL" POST "$CREATE_BODY")
PREFLIGHT_OK=1
for s in get list create; do
  if [[ ${GOT[$s]} != "${WANT[$s]}" ]]; then
    log "WARNING: preflight $s answered ${GOT[$s]}, expected ${WANT[$s]}"
    PREFLIGHT_OK=0
  fi
done

# --- wrk ---------------------------------------------------------------------
# to_ms "1.23ms" -> 1.23 ; handles us, ms, s, m.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v == "") { print "-"; exit }
    n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1;
    if (f < 0) { print v; exit }
    printf "%.2f", n * f }'
}

declare -A RPS P50 P99 NON2XX SOCKERR TOTAL
run_wrk() { # name url lua
  local name=$1 url=$2 lua=$3 out
  if ((WARMUP > 0)); then
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$lua" "$url" >/dev/null 2>&1 || true
  fi
  log "wrk $name: -t$THREADS -c$CONNS -d${SECONDS_PER}s $url"
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER}s" --timeout 5s --latency -s "$lua" "$url" 2>&1) || {
    echo "$out" >&2
    log "wrk $name failed"
  }
  echo "$out" >"$DIR/wrk-$name.txt"
  printf '%s\n' "---- wrk $name ----" "$out" >&2
  RPS[$name]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  P50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  TOTAL[$name]=$(awk '/requests in/ {print $1}' <<<"$out")
  NON2XX[$name]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  SOCKERR[$name]=$(awk -F'Socket errors: ' '/Socket errors:/ {print $2}' <<<"$out")
  : "${RPS[$name]:=0}" "${NON2XX[$name]:=0}" "${TOTAL[$name]:=0}"
}

run_wrk get "$GET_URL" "$HERE/get.lua"
run_wrk list "$LIST_URL" "$HERE/get.lua"
run_wrk create "$CREATE_URL" "$HERE/create_family.lua"

# --- memory ------------------------------------------------------------------
RSS_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
if [[ -n $RSS_KB ]]; then
  RSS_MIB=$(awk -v k="$RSS_KB" 'BEGIN {printf "%.1f", k / 1024}')
else
  RSS_MIB="?"
fi
SERVER_ALIVE=1
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=0
SERVER_ERRORS=$(grep -c -E ' (ERROR|WARN) ' "$DIR/server.log" 2>/dev/null || true)
CREATED=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from families").fetchone()[0])' "$DIR/bench.db" 2>/dev/null || echo "?")

# --- summary -----------------------------------------------------------------
meets() { # value target dir(ge|le)
  awk -v v="$1" -v t="$2" -v d="$3" 'BEGIN {
    if (v !~ /^[0-9.]+$/) { print "?"; exit }
    ok = (d == "ge") ? (v + 0 >= t + 0) : (v + 0 <= t + 0);
    print ok ? "ok" : "MISSED" }'
}

echo
echo "Liaison benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  wrk -t$THREADS -c$CONNS -d${SECONDS_PER}s  ${FAMILIES} families seeded"
printf '%-46s %10s %10s %10s %12s %10s %14s %7s\n' scenario 'req/s' 'p50 ms' 'p99 ms' requests 'non-2xx' 'target' ''
declare -A LABEL=([get]="GET /v1/families/{id}" [list]="GET /v1/families?primary_language=es&limit=50" [create]="POST /v1/families")
declare -A TARGET=([get]=15000 [list]=3000 [create]=3000)
ANOMALY=0
for s in get list create; do
  printf '%-46s %10s %10s %10s %12s %10s %14s %7s\n' \
    "${LABEL[$s]}" "${RPS[$s]}" "${P50[$s]}" "${P99[$s]}" "${TOTAL[$s]}" "${NON2XX[$s]}" \
    ">= ${TARGET[$s]} req/s" "$(if [[ ${NON2XX[$s]} == 0 ]]; then meets "${RPS[$s]}" "${TARGET[$s]}" ge; else echo SUSPECT; fi)"
  [[ ${NON2XX[$s]} == 0 && -z ${SOCKERR[$s]} ]] || ANOMALY=1
done
printf '%-46s %10s %10s %10s %12s %10s %14s %7s\n' "peak RSS (VmHWM), MiB" "$RSS_MIB" "" "" "" "" "<= 64 MiB" "$(meets "$RSS_MIB" 64 le)"
echo "families in the database after the run: $CREATED (seeded + preflight + warm-up + measured creates)"

for s in get list create; do
  [[ ${NON2XX[$s]} == 0 ]] || echo "WARNING: $s: ${NON2XX[$s]} non-2xx/3xx responses of ${TOTAL[$s]}"
  [[ -z ${SOCKERR[$s]} ]] || echo "WARNING: $s: socket errors: ${SOCKERR[$s]}"
done
((PREFLIGHT_OK)) || echo "WARNING: preflight statuses: get=${GOT[get]} list=${GOT[list]} create=${GOT[create]} (want 200/200/201)"
((SERVER_ALIVE)) || { echo "WARNING: the server died during the run; its log:"; tail -n 40 "$DIR/server.log"; ANOMALY=1; }
if [[ ${SERVER_ERRORS:-0} != 0 ]]; then
  echo "WARNING: server logged $SERVER_ERRORS warning/error lines; first ones:"
  grep -E ' (ERROR|WARN) ' "$DIR/server.log" | head -n 5
fi
((ANOMALY || !PREFLIGHT_OK)) && echo "(figures above are suspect: see warnings)"
exit 0
