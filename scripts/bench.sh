#!/usr/bin/env bash
# Load benchmark for Liaison, beside the machine's ceiling measured in the same run.
#
# Release build; a fresh database per backend (SQLite, PostgreSQL) with 100k families, 1M
# communications (plus one busy family with 12,500), 200k concerns, 1M change records and 1M
# audit events; then the machine's ceiling (../shared/bench/ceiling.sh), Liaison's scenarios on
# each backend, and the ceiling again. Every figure is printed beside its ratio to the ceiling
# (reads against point_read, writes against insert_serial; the mean of the two ceiling runs)
# and beside its target. Requests cycle over 1,000 ids, pages or cursors spread across their
# table: one id repeated would measure a cache, not the cost of finding rows.
#
# Scenarios: GET one family (auth, ETag); a list of 50 families by language; one family's
# communications; create a communication; create a family; the change feed (pages of 200);
# the school's overdue follow-ups; the busy family's timeline at page 1 and a deep page; the
# overdue concerns queue; concern transitions. Also: what the audit and change rows cost in
# storage, and the server's peak RSS (VmHWM) over the whole run.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   BENCH_BACKENDS     sqlite, postgres or both (default both)
#   BENCH_POSTGRES_URL the PostgreSQL database to create, use and drop (default
#                      postgres://postgres@127.0.0.1:5432/liaison_bench); it must not exist yet
#   BENCH_CEILING      the ceiling script (default ../shared/bench/ceiling.sh from the repository
#                      root, or from the main checkout's root in a git worktree); "skip" = none,
#                      and no ratios
#   CEILING_SECONDS    the ceiling's wrk duration per scenario (default BENCH_SECONDS); its
#                      threads and connections default to BENCH_THREADS and BENCH_CONNECTIONS
#   BENCH_SECONDS      wrk duration per scenario, seconds (default 15)
#   BENCH_WARMUP       warm-up per scenario, seconds, not measured (default 2; 0 = none)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_FAMILIES     families to seed (default 100000)
#   BENCH_COMMUNICATIONS       communications spread over the families (default 1000000)
#   BENCH_BUSY_COMMUNICATIONS  more for one busy family (default 12500; at least 50 x BENCH_TIMELINE_PAGE)
#   BENCH_CONCERNS     concerns spread over the families (default 200000; about 66% open)
#   BENCH_CHANGES      change records spread over the seeded records (default 1000000)
#   BENCH_AUDIT_EVENTS audit events likewise (default BENCH_CHANGES)
#   BENCH_TIMELINE_PAGE  the deep timeline page compared with page 1 (default 200)
#   BENCH_IDEMPOTENCY  1 = every create sends its own Idempotency-Key (default 1)
#   BENCH_WARM_CACHE   1 = read the backend's database files through the page cache before each
#                      scenario (default 1; 0 = measure whatever the cache holds by then). Some
#                      machines page out file cache left idle for a minute even with memory free
#                      (this one's kernel runs DAMON pageout for page cache idle 60 s), and a run
#                      reaches a backend's write scenarios minutes after seeding it: without this,
#                      writes measured the disk reads of pages reclaimed in between (concern
#                      transitions 1,074/s against 3,201/s warm, one seeded database, alternating),
#                      while the ceiling's small database was just written and fully cached
#   BENCH_PORT         port on 127.0.0.1 (default 18089)
#   BENCH_SKIP_BUILD   1 = use the existing release binary
#   CARGO_TARGET_DIR   where cargo builds Liaison (default ./target; not passed to the ceiling)
#   LIAISON_WORKERS, LIAISON_DB_POOL_SIZE  passed to the server when set
#   LIAISON_RATE_LIMIT_READS, LIAISON_RATE_LIMIT_WRITES  the server's quotas per caller (default
#                      1000000000/hour each here: one token makes every request of a run, and a
#                      fast run comes close to the defaults, 1,000,000 reads and 200,000 writes an
#                      hour; a faster one would measure 429s. The limiter still runs on every
#                      request)
#
# It reports; it is not a test: it exits 0 when targets are missed, and non-zero only when the
# benchmark itself cannot run (no build, no database, a seed or a server that fails).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/bench"

SECONDS_PER=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
FAMILIES=${BENCH_FAMILIES:-100000}
COMMUNICATIONS=${BENCH_COMMUNICATIONS:-1000000}
BUSY_COMMUNICATIONS=${BENCH_BUSY_COMMUNICATIONS:-12500}
CONCERNS=${BENCH_CONCERNS:-200000}
CHANGES=${BENCH_CHANGES:-1000000}
AUDIT_EVENTS=${BENCH_AUDIT_EVENTS:-$CHANGES}
TIMELINE_PAGE=${BENCH_TIMELINE_PAGE:-200}
IDEMPOTENCY=${BENCH_IDEMPOTENCY:-1}
WARM_CACHE=${BENCH_WARM_CACHE:-1}
PAGE_SIZE=50
PORT=${BENCH_PORT:-18089}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"
PG_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/liaison_bench}

for v in SECONDS_PER WARMUP THREADS CONNS FAMILIES COMMUNICATIONS BUSY_COMMUNICATIONS CONCERNS \
  CHANGES AUDIT_EVENTS TIMELINE_PAGE PORT WARM_CACHE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((SECONDS_PER >= 1)) || { echo "bench: BENCH_SECONDS must be at least 1" >&2; exit 2; }
((FAMILIES >= 3)) || { echo "bench: BENCH_FAMILIES must be at least 3" >&2; exit 2; }
((TIMELINE_PAGE >= 2)) || { echo "bench: BENCH_TIMELINE_PAGE must be at least 2" >&2; exit 2; }
((BUSY_COMMUNICATIONS >= PAGE_SIZE * TIMELINE_PAGE)) || {
  echo "bench: BENCH_BUSY_COMMUNICATIONS must be at least $((PAGE_SIZE * TIMELINE_PAGE)) for a full page $TIMELINE_PAGE" >&2
  exit 2
}
((CONCERNS >= 1)) || { echo "bench: BENCH_CONCERNS must be at least 1" >&2; exit 2; }
case ${BENCH_BACKENDS:-both} in
  sqlite) BACKENDS=(sqlite) ;;
  postgres) BACKENDS=(postgres) ;;
  both) BACKENDS=(sqlite postgres) ;;
  *) echo "bench: BENCH_BACKENDS must be sqlite, postgres or both, got '$BENCH_BACKENDS'" >&2; exit 2 ;;
esac
declare -A BACKEND_NAME=([sqlite]=SQLite [postgres]=PostgreSQL)
STARTED_AT=$(date +%s)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 2; }
uses() { [[ " ${BACKENDS[*]} " == *" $1 "* ]]; }

# --- the ceiling script ------------------------------------------------------------------------
if [[ -n ${BENCH_CEILING:-} ]]; then
  CEILING=$BENCH_CEILING
else
  CEILING="$ROOT/../shared/bench/ceiling.sh"
  if [[ ! -e $CEILING ]]; then # in a git worktree, beside the main checkout
    common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    [[ -z $common ]] || CEILING="$(dirname "$common")/../shared/bench/ceiling.sh"
  fi
fi
if [[ $CEILING != skip ]]; then
  [[ -x $CEILING ]] || die "no ceiling script at $CEILING (set BENCH_CEILING, or BENCH_CEILING=skip for no ratios)"
  CEILING=$(cd "$(dirname "$CEILING")" && pwd)/$(basename "$CEILING")
fi
export CEILING_SECONDS=${CEILING_SECONDS:-$SECONDS_PER}
export CEILING_THREADS=${CEILING_THREADS:-$THREADS}
export CEILING_CONNECTIONS=${CEILING_CONNECTIONS:-$CONNS}

# --- tools -------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk from Debian packages"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v curl >/dev/null 2>&1 || die "curl is required"

# --- PostgreSQL: reachable, and the database ours to create -----------------------------------
PG_CREATED=0
PG_FILES=
if uses postgres; then
  command -v psql >/dev/null 2>&1 || die "psql is required for PostgreSQL (or BENCH_BACKENDS=sqlite)"
  # The server's maintenance database (same URL, database "postgres") and the bench database name.
  read -r PG_ADMIN_URL PG_DB < <(python3 - "$PG_URL" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
db = urllib.parse.unquote(u.path.lstrip("/"))
if u.scheme not in ("postgres", "postgresql") or not db or "/" in db or " " in db:
    sys.exit(1)
print(urllib.parse.urlunsplit(u._replace(path="/postgres")), db)
EOF
  ) || die "BENCH_POSTGRES_URL must be postgres://…/DATABASE, got '$PG_URL'"
  pg_admin() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" "$@"; }
  pg_admin -c 'SELECT 1' >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at $PG_ADMIN_URL (start it, set BENCH_POSTGRES_URL, or BENCH_BACKENDS=sqlite)"
  exists=$(pg_admin -v db="$PG_DB" <<<"SELECT count(*) FROM pg_database WHERE datname = :'db'")
  [[ $exists == 0 ]] ||
    die "database $PG_DB already exists; the benchmark creates and drops its own (drop it: psql -d '$PG_ADMIN_URL' -c 'DROP DATABASE \"$PG_DB\"')"
fi

# --- build -------------------------------------------------------------------------------------
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release (target dir $TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --quiet)
  log "build done after $(($(date +%s) - STARTED_AT)) s"
fi
[[ -x $BIN ]] || die "no release binary at $BIN"

# --- temp dir, cleanup -------------------------------------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-bench.XXXXXX")
SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [[ -z $SERVER_PID ]] || wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
cleanup() {
  stop_server
  if ((PG_CREATED)); then
    pg_admin -v db="$PG_DB" <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE)' >/dev/null 2>&1 ||
      echo "bench: could not drop database $PG_DB" >&2
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LIAISON_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))') # 40 chars
export LIAISON_JWT_SECRET
export LIAISON_BIND="127.0.0.1:$PORT"
export LIAISON_RATE_LIMIT_READS=${LIAISON_RATE_LIMIT_READS:-1000000000/hour}
export LIAISON_RATE_LIMIT_WRITES=${LIAISON_RATE_LIMIT_WRITES:-1000000000/hour}
export RUST_LOG=warn

# --- databases: migrate and seed each before any measurement -----------------------------------
declare -A DBURL TARGET META
for b in "${BACKENDS[@]}"; do
  mkdir -p "$DIR/$b"
  if [[ $b == sqlite ]]; then
    TARGET[$b]="$DIR/sqlite/bench.db"
    DBURL[$b]="sqlite://${TARGET[$b]}"
  else
    log "creating database $PG_DB"
    pg_admin -v db="$PG_DB" <<<'CREATE DATABASE :"db"' >/dev/null || die "cannot create database $PG_DB"
    PG_CREATED=1
    # Where its files are, for warm_cache (empty unless the role may read the setting).
    PG_FILES=$(pg_admin -v db="$PG_DB" <<<"SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database WHERE datname = :'db'" 2>/dev/null || true)
    TARGET[$b]=$PG_URL
    DBURL[$b]=$PG_URL
  fi
  log "$b: migrating"
  DATABASE_URL=${DBURL[$b]} "$BIN" migrate >&2 || die "$b: migration failed"
  log "$b: seeding $FAMILIES families, $COMMUNICATIONS communications (+ $BUSY_COMMUNICATIONS for the busy family), $CONCERNS concerns, $AUDIT_EVENTS audit events, $CHANGES change records"
  python3 "$HERE/seed.py" seed --backend "$b" --target "${TARGET[$b]}" --out "$DIR/$b" \
    --school "$SCHOOL" --families "$FAMILIES" --communications "$COMMUNICATIONS" \
    --busy-communications "$BUSY_COMMUNICATIONS" --concerns "$CONCERNS" --changes "$CHANGES" \
    --audit-events "$AUDIT_EVENTS" || die "$b: seeding failed"
  while IFS='=' read -r k v; do META[$b:$k]=$v; done <"$DIR/$b/meta.txt"
done
log "seeded after $(($(date +%s) - STARTED_AT)) s since start"

# --- the ceiling ------------------------------------------------------------------------------
# ceiling N: runs the ceiling script, keeps each scenario's req/s, p50 and p99 as CEIL[N:name:*].
declare -A CEIL
CEILING_RUNS=()
ceiling() {
  local n=$1 name rps p50 p99
  [[ $CEILING != skip ]] || return 0
  log "ceiling run $n: $CEILING (CEILING_SECONDS=$CEILING_SECONDS)"
  # The ceiling builds into its own target dir (its default), never Liaison's.
  if ! env -u CARGO_TARGET_DIR "$CEILING" >"$DIR/ceiling-$n.txt" 2>"$DIR/ceiling-$n.err"; then
    log "WARNING: ceiling run $n failed; its output:"
    tail -n 20 "$DIR/ceiling-$n.err" "$DIR/ceiling-$n.txt" >&2 || true
    return 0
  fi
  { echo "---- ceiling run $n ----"; cat "$DIR/ceiling-$n.txt"; } >&2
  while read -r name rps p50 p99; do
    [[ $rps =~ ^[0-9.]+$ ]] || continue
    CEIL[$n:$name:rps]=$rps; CEIL[$n:$name:p50]=$p50; CEIL[$n:$name:p99]=$p99
  done <"$DIR/ceiling-$n.txt"
  CEILING_RUNS+=("$n")
}
# ceiling_mean NAME: the mean req/s of NAME over the ceiling runs that measured it (or "").
ceiling_mean() {
  local n sum=0 k=0
  for n in "${CEILING_RUNS[@]}"; do
    [[ -n ${CEIL[$n:$1:rps]:-} ]] || continue
    sum=$(awk -v a="$sum" -v b="${CEIL[$n:$1:rps]}" 'BEGIN {print a + b}'); k=$((k + 1))
  done
  ((k > 0)) && awk -v s="$sum" -v k="$k" 'BEGIN {printf "%.0f", s / k}' || true
}

# --- helpers for the runs ---------------------------------------------------------------------
# to_ms "1.23ms" -> 1.23 ; handles us, ms, s, m.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v == "") { print "-"; exit }
    n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1;
    if (f < 0) { print v; exit }
    printf "%.2f", n * f }'
}

# status METHOD PATH [BODY]: the HTTP status code of one request (000 when unreachable).
status() {
  local args=(-s -o /dev/null -w '%{http_code}' --max-time 10 -H @"$DIR/auth.header" -X "$1")
  [[ -z ${3:-} ]] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$HOST$2" || true
}

# settle: waits until the server answers /readyz (which takes a pooled connection) within
# 0.2 s, so work still queued from the previous run (requests wrk gave up on keep running)
# does not weigh on the next one. At most 60 s.
settle() {
  local t0 t
  t0=$(date +%s)
  while (($(date +%s) - t0 < 60)); do
    t=$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' "$HOST/readyz" || true)
    if [[ $t == "200 "* ]] && awk -v x="${t#* }" 'BEGIN { exit !(x < 0.2) }'; then
      (($(date +%s) - t0 < 2)) || log "server settled after $(($(date +%s) - t0)) s"
      return 0
    fi
    sleep 0.5
  done
  log "WARNING: the server was still busy after 60 s"
}

first_line() { head -n 1 "$1"; }

declare -A RPS P50 P99 NON2XX SOCKERR TOTAL WARM_TOTAL HWM_AFTER SKIPPED GOT SUPPLY RSS_MIB \
  SERVER_ALIVE SERVER_ERRORS COUNTS DEEP_ITEMS ETAG PREFLIGHT_OK

# key_prefix WHAT: Idempotency-Keys unique to one wrk run (create.lua sends none without it).
key_prefix() {
  if [[ $IDEMPOTENCY == 1 ]]; then export BENCH_KEY_PREFIX="bench-$1-$(date +%s%N)"; else export BENCH_KEY_PREFIX=; fi
}

# warm_cache BACKEND: reads the backend's database files through the page cache (see
# BENCH_WARM_CACHE), so that a scenario measures the server and not pages reclaimed since the
# backend was last touched. PostgreSQL's files are read only where its data directory is
# readable (a server on this machine, the benchmark run as root or postgres).
warm_cache() {
  [[ $WARM_CACHE == 1 ]] || return 0
  local files=()
  if [[ $1 == sqlite ]]; then
    files=("${TARGET[$1]}"*)
  elif [[ -n $PG_FILES && -r $PG_FILES ]]; then
    files=("$PG_FILES")
  else
    [[ -n ${WARM_SKIPPED:-} ]] || log "$1: its database files are not readable here: scenarios run without warming the page cache"
    WARM_SKIPPED=1
    return 0
  fi
  find "${files[@]}" -type f -exec cat {} + >/dev/null 2>&1 || true
}

# run_wrk BACKEND NAME LUA [PREPARE]: the warm-up, then the measured run, against $HOST; the
# lua script takes its paths, ids and bodies from the environment. PREPARE runs before each
# with the phase (warmup, run) as its argument.
run_wrk() {
  local b=$1 name=$2 lua=$3 prep=${4:-} out k=$b:$2
  warm_cache "$b"
  if ((WARMUP > 0)); then
    [[ -z $prep ]] || "$prep" "$b" warmup
    key_prefix "$b-$name-warmup"
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$lua" "$HOST" 2>&1) || true
    WARM_TOTAL[$k]=$(awk '/requests in/ {print $1}' <<<"$out")
    settle
  fi
  [[ -z $prep ]] || "$prep" "$b" run
  key_prefix "$b-$name-run"
  log "$b: wrk $name: -t$THREADS -c$CONNS -d${SECONDS_PER}s $(basename "$lua")"
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER}s" --timeout 5s --latency -s "$lua" "$HOST" 2>&1) || {
    echo "$out" >&2
    log "WARNING: $b: wrk $name failed"
  }
  printf '%s\n' "---- $b: wrk $name ----" "$out" >&2
  RPS[$k]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  P50[$k]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$k]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  TOTAL[$k]=$(awk '/requests in/ {print $1}' <<<"$out")
  NON2XX[$k]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  SOCKERR[$k]=$(awk -F'Socket errors: ' '/Socket errors:/ {print $2}' <<<"$out")
  : "${RPS[$k]:=0}" "${NON2XX[$k]:=0}" "${TOTAL[$k]:=0}"
  HWM_AFTER[$k]=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
  settle
}

# Transitions: each run moves concerns that are open just before it, each once.
prepare_transition() { # backend phase
  local f="$DIR/$1/transition-ids-$2.txt"
  SUPPLY[$1:$2]=$(python3 "$HERE/seed.py" open-concerns --backend "$1" --target "${TARGET[$1]}" \
    --school "$SCHOOL" "$f") || die "$1: cannot list open concerns"
  export BENCH_IDS_FILE=$f
}

# The scenarios in the order they run: reads first, so they read the seeded data, then writes.
SCENARIOS=(get list comms_family changes comms_overdue timeline_p1 timeline_deep concerns_overdue
  create comms_create transition)
# The order of the closing table: issue 12's four first.
SHOWN=(get list comms_family comms_create create changes comms_overdue timeline_p1 timeline_deep
  concerns_overdue transition)
declare -A WANT=([get]=200 [list]=200 [comms_family]=200 [changes]=200 [comms_overdue]=200
  [timeline_p1]=200 [timeline_deep]=200 [concerns_overdue]=200 [create]=201 [comms_create]=201
  [transition]=200)
# Scenarios whose endpoint may not be served yet: a 404 there is "skipped", not a failure.
declare -A MAY_BE_UNSERVED=([changes]=1)

# run_backend BACKEND: starts the server on the backend's database, runs every scenario, keeps
# the figures, stops the server.
run_backend() {
  local b=$1 s out d="$DIR/$1"
  if python3 - "$PORT" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
  then
    die "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)"
  fi
  log "$b: starting the server on $LIAISON_BIND"
  DATABASE_URL=${DBURL[$b]} "$BIN" serve >"$d/server.log" 2>&1 &
  SERVER_PID=$!
  local ready=0
  for _ in $(seq 1 150); do # at most ~15 s
    kill -0 "$SERVER_PID" 2>/dev/null || break
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$HOST/readyz" || true) == 200 ]] && { ready=1; break; }
    sleep 0.1
  done
  if ((!ready)); then
    echo "bench: $b: the server did not become ready; its log:" >&2
    tail -n 40 "$d/server.log" >&2 || true
    exit 2
  fi

  BENCH_TOKEN=$(DATABASE_URL=${DBURL[$b]} "$BIN" token --role admin --school "$SCHOOL" --ttl 2h)
  export BENCH_TOKEN
  export BENCH_WRK_THREADS=$THREADS
  # For curl, the token goes in a header file, not on a command line.
  (umask 077; printf 'Authorization: Bearer %s\n' "$BENCH_TOKEN" >"$DIR/auth.header")

  local busy=${META[$b:busy_family]}
  echo "/v1/communications?follow_up=overdue&limit=$PAGE_SIZE" >"$d/comms_overdue.paths"
  echo "/v1/concerns?overdue=true&limit=$PAGE_SIZE" >"$d/concerns_overdue.paths"
  echo "/v1/families/$busy/timeline?limit=$PAGE_SIZE" >"$d/timeline_p1.paths"

  # The deep timeline page: follow next_cursor from page 1, as a client would.
  log "$b: following next_cursor to page $TIMELINE_PAGE of the busy family's timeline"
  local page cursor deep="/v1/families/$busy/timeline?limit=$PAGE_SIZE"
  for ((page = 2; page <= TIMELINE_PAGE; page++)); do
    cursor=$(curl -sf --max-time 10 -H @"$DIR/auth.header" "$HOST$deep" |
      python3 -c 'import json, sys; print(json.load(sys.stdin).get("next_cursor") or "")' 2>/dev/null) || cursor=
    if [[ -z $cursor ]]; then
      log "WARNING: $b: page $((page - 1)) of the timeline has no next_cursor; no page $TIMELINE_PAGE"
      deep=
      break
    fi
    deep="/v1/families/$busy/timeline?limit=$PAGE_SIZE&cursor=$cursor"
  done
  DEEP_ITEMS[$b]=-
  if [[ -n $deep ]]; then
    echo "$deep" >"$d/timeline_deep.paths"
    DEEP_ITEMS[$b]=$(curl -sf --max-time 10 -H @"$DIR/auth.header" "$HOST$deep" |
      python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]))' 2>/dev/null || echo "?")
  fi

  local family_body='{"display_name":"Bench family","primary_language":"en"}'
  local comm_body='{"family_id":"{{id}}","channel":"phone","direction":"outbound","category":"positive_news","subject":"Great week"}'
  local first_family
  first_family=$(first_line "$d/families.ids")

  # One request of each kind first: a benchmark of 401s or 404s is worthless.
  python3 "$HERE/seed.py" open-concerns --backend "$b" --target "${TARGET[$b]}" --school "$SCHOOL" \
    "$d/open-concerns.txt" >/dev/null || die "$b: cannot list open concerns"
  local concern
  concern=$(first_line "$d/open-concerns.txt")
  for s in get list comms_family changes comms_overdue timeline_p1 concerns_overdue; do
    GOT[$b:$s]=$(status GET "$(first_line "$d/$s.paths")")
  done
  GOT[$b:timeline_deep]=$(if [[ -n $deep ]]; then status GET "$deep"; else echo none; fi)
  GOT[$b:create]=$(status POST /v1/families "$family_body")
  GOT[$b:comms_create]=$(status POST /v1/communications "${comm_body/'{{id}}'/$first_family}")
  GOT[$b:transition]=$(if [[ -n $concern ]]; then
    status POST "/v1/concerns/$concern/transitions" '{"to":"acknowledged"}'; else echo none; fi)
  # GET one family must carry its ETag.
  ETAG[$b]=$(curl -s -D - -o /dev/null --max-time 10 -H @"$DIR/auth.header" "$HOST$(first_line "$d/get.paths")" |
    awk -F': *' 'tolower($1) == "etag" {sub(/\r$/, "", $2); print $2}')
  PREFLIGHT_OK[$b]=1
  for s in "${SCENARIOS[@]}"; do
    if [[ ${GOT[$b:$s]} == 404 && -n ${MAY_BE_UNSERVED[$s]:-} ]]; then
      SKIPPED[$b:$s]=1
      log "$b: $s answered 404: skipped (not served)"
    elif [[ ${GOT[$b:$s]} != "${WANT[$s]}" ]]; then
      log "WARNING: $b: preflight $s answered ${GOT[$b:$s]}, expected ${WANT[$s]}"
      PREFLIGHT_OK[$b]=0
    fi
  done
  [[ -n ${ETAG[$b]} ]] || { log "WARNING: $b: GET one family answered without an ETag"; PREFLIGHT_OK[$b]=0; }

  for s in get list comms_family changes comms_overdue timeline_p1 timeline_deep concerns_overdue; do
    if [[ -n ${SKIPPED[$b:$s]:-} ]]; then continue; fi
    if [[ $s == timeline_deep && -z $deep ]]; then SKIPPED[$b:$s]=1; continue; fi
    export BENCH_PATHS_FILE="$d/$s.paths"
    run_wrk "$b" "$s" "$HERE/paths.lua"
  done
  export BENCH_POST_PATH=/v1/families BENCH_BODY_TEMPLATE=$family_body BENCH_IDS_FILE=
  run_wrk "$b" create "$HERE/create.lua"
  export BENCH_POST_PATH=/v1/communications BENCH_BODY_TEMPLATE=$comm_body BENCH_IDS_FILE="$d/families.ids"
  run_wrk "$b" comms_create "$HERE/create.lua"
  run_wrk "$b" transition "$HERE/transition.lua" prepare_transition

  RSS_MIB[$b]=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
  SERVER_ALIVE[$b]=1
  kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE[$b]=0
  stop_server
  SERVER_ERRORS[$b]=$(grep -c -E ' (ERROR|WARN) ' "$d/server.log" 2>/dev/null || true)
  COUNTS[$b]=$(python3 "$HERE/seed.py" counts --backend "$b" --target "${TARGET[$b]}" --school "$SCHOOL" 2>/dev/null ||
    echo "? ? ? ? ? ?")
}

ceiling 1
for b in "${BACKENDS[@]}"; do run_backend "$b"; done
ceiling 2

# --- summary -----------------------------------------------------------------------------------
POINT_READ=$(ceiling_mean point_read)
INSERT_SERIAL=$(ceiling_mean insert_serial)
declare -A REF
for s in "${SCENARIOS[@]}"; do REF[$s]=point_read; done
REF[create]=insert_serial; REF[comms_create]=insert_serial; REF[transition]=insert_serial
declare -A LABEL=(
  [get]="GET one family (auth, ETag)"
  [list]="list 50 families by language"
  [comms_family]="one family's communications (50)"
  [comms_create]="create a communication"
  [create]="create a family"
  [changes]="change feed, pages of 200"
  [comms_overdue]="overdue follow-ups (50)"
  [timeline_p1]="busy family's timeline, page 1"
  [timeline_deep]="busy family's timeline, page $TIMELINE_PAGE"
  [concerns_overdue]="overdue concerns queue (50)"
  [transition]="concern transitions"
)
declare -A REQUEST=(
  [get]="GET /v1/families/{id}"
  [list]="GET /v1/families?primary_language={lang}&limit=50&cursor={spread}"
  [comms_family]="GET /v1/communications?family_id={id}&limit=50"
  [comms_create]="POST /v1/communications (family_id cycling)"
  [create]="POST /v1/families"
  [changes]="GET /v1/changes?since={cursor}&limit=200"
  [comms_overdue]="GET /v1/communications?follow_up=overdue&limit=50"
  [timeline_p1]="GET /v1/families/{busy}/timeline?limit=50"
  [timeline_deep]="GET /v1/families/{busy}/timeline?limit=50&cursor={page $TIMELINE_PAGE}"
  [concerns_overdue]="GET /v1/concerns?overdue=true&limit=50"
  [transition]="POST /v1/concerns/{id}/transitions {\"to\":\"acknowledged\"}"
)
# Targets: issue 12's ratios to the ceiling; issue 7's create-a-family floor; the standing
# floors of the other scenarios; the deep timeline page against page 1.
declare -A T_RATIO=([get]=0.6 [list]=0.15 [comms_family]=0.3 [comms_create]=0.5)
declare -A T_RPS=([create]=3000 [comms_overdue]=3000 [concerns_overdue]=3000 [transition]=2000)
declare -A T_P99=([comms_create]=20)

num() { [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
ratio() { # rps ref-mean
  if num "$1" && num "$2" && [[ $2 != 0 ]]; then awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; else echo "-"; fi
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a + 0 >= b + 0)}'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a + 0 < b + 0)}'; }
thousands() { num "$1" && LC_ALL=C awk -v n="$1" 'BEGIN {s = sprintf("%.0f", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s}' || echo "$1"; }

target_text() {
  local s=$1 t=
  if [[ -n ${T_RATIO[$s]:-} ]]; then t="≥ ${T_RATIO[$s]} x ${REF[$s]}"
  elif [[ -n ${T_RPS[$s]:-} ]]; then t="≥ $(thousands "${T_RPS[$s]}") req/s"
  elif [[ $s == timeline_deep ]]; then t="p50 ≤ 1.5 x page 1's"
  fi
  [[ -z ${T_P99[$s]:-} ]] || t+=", p99 < ${T_P99[$s]} ms"
  echo "${t:-—}"
}
# deep_ratio BACKEND: the deep timeline page's p50 over page 1's.
deep_ratio() {
  local a=${P50[$1:timeline_deep]:-} c=${P50[$1:timeline_p1]:-}
  if num "$a" && num "$c" && [[ $c != 0.00 ]]; then awk -v a="$a" -v c="$c" 'BEGIN {printf "%.2f", a / c}'; else echo "?"; fi
}
verdict() { # backend scenario
  local b=$1 s=$2 k=$1:$2 v=
  [[ -z ${SKIPPED[$k]:-} ]] || { echo "—"; return; }
  if [[ -n ${T_RATIO[$s]:-} ]]; then
    local r
    r=$(ratio "${RPS[$k]}" "$(ceiling_mean "${REF[$s]}")")
    if num "$r"; then ge "$r" "${T_RATIO[$s]}" && v=ok || v=MISSED; else v="?"; fi
  elif [[ -n ${T_RPS[$s]:-} ]]; then
    ge "${RPS[$k]}" "${T_RPS[$s]}" && v=ok || v=MISSED
  elif [[ $s == timeline_deep ]]; then
    local r
    r=$(deep_ratio "$b")
    if num "$r"; then ge 1.5 "$r" && v=ok || v=MISSED; else v="?"; fi
  fi
  if [[ -n ${T_P99[$s]:-} ]]; then
    if ! num "${P99[$k]}"; then [[ $v == MISSED ]] || v="?"
    elif ! lt "${P99[$k]}" "${T_P99[$s]}"; then v=MISSED
    fi
  fi
  [[ ${NON2XX[$k]:-0} == 0 && -z ${SOCKERR[$k]:-} ]] || v=SUSPECT
  echo "${v:-—}"
}

ELAPSED=$(($(date +%s) - STARTED_AT))
echo
echo "Liaison benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  wrk -t$THREADS -c$CONNS -d${SECONDS_PER}s (+${WARMUP}s warm-up each)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "seeded per backend: $(thousands "$FAMILIES") families, $(thousands "$COMMUNICATIONS") communications (+ $(thousands "$BUSY_COMMUNICATIONS") for the busy family), $(thousands "$CONCERNS") concerns, $(thousands "$AUDIT_EVENTS") audit events, $(thousands "$CHANGES") change records"
echo "requests cycle over 1,000 ids, list pages or feed cursors spread across their table"
if [[ $WARM_CACHE != 1 ]]; then
  echo "page cache: not warmed (BENCH_WARM_CACHE=$WARM_CACHE): scenarios read whatever the cache held"
elif [[ -n ${WARM_SKIPPED:-} ]]; then
  echo "page cache: SQLite's files read through it before each scenario; PostgreSQL's were not readable here"
else
  echo "page cache: each backend's database files read through it before each of its scenarios"
fi

echo
if [[ $CEILING == skip ]]; then
  echo "ceiling: not measured (BENCH_CEILING=skip): no ratios"
elif ((${#CEILING_RUNS[@]} == 0)); then
  echo "ceiling: both runs failed (see the log): no ratios"
else
  echo "ceiling ($CEILING, wrk -t$CEILING_THREADS -c$CEILING_CONNECTIONS -d${CEILING_SECONDS}s), before and after Liaison's scenarios:"
  printf '  %-15s %22s %22s %10s\n' scenario "run 1 req/s (p99 ms)" "run 2 req/s (p99 ms)" "mean"
  for name in json point_read point_read_dz insert insert_serial; do
    cells=()
    for n in 1 2; do
      if [[ -n ${CEIL[$n:$name:rps]:-} ]]; then cells+=("$(thousands "${CEIL[$n:$name:rps]}") (${CEIL[$n:$name:p99]})"); else cells+=("-"); fi
    done
    printf '  %-15s %22s %22s %10s\n' "$name" "${cells[0]}" "${cells[1]}" "$(thousands "$(ceiling_mean "$name")")"
  done
  echo "  ratios below: reads / point_read mean ($(thousands "${POINT_READ:--}")), writes / insert_serial mean ($(thousands "${INSERT_SERIAL:--}"))"
fi

for b in "${BACKENDS[@]}"; do
  echo
  echo "${BACKEND_NAME[$b]}:"
  for s in "${SCENARIOS[@]}"; do
    k=$b:$s
    if [[ -n ${SKIPPED[$k]:-} ]]; then
      printf '  %-34s %s\n' "$s" "skipped ($([[ ${GOT[$k]:-} == 404 ]] && echo 'not served' || echo 'no such page'))  ${REQUEST[$s]}"
    else
      printf '  %-34s %8s req/s  p50 %7s  p99 %7s ms  %8s requests  %s non-2xx  peak RSS after %s MiB  %s\n' \
        "$s" "${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" "${TOTAL[$k]}" "${NON2XX[$k]}" "${HWM_AFTER[$k]:-?}" "${REQUEST[$s]}"
    fi
  done
  read -r c_fam c_comms c_conc c_acked c_changes c_audit <<<"${COUNTS[$b]}"
  echo "  storage: audit events ${META[$b:audit_events_mib_per_million]:-?} MiB per million (${META[$b:audit_events_bytes_per_row]:-?} bytes each, ${META[$b:audit_events_bytes_method]:-?}$(
    [[ -z ${META[$b:audit_events_file_growth]:-} ]] || echo "; file grew $(thousands "${META[$b:audit_events_file_growth]}") bytes for $(thousands "$AUDIT_EVENTS")")), change records ${META[$b:changes_mib_per_million]:-?} MiB per million (${META[$b:changes_bytes_per_row]:-?} bytes each$(
    [[ -z ${META[$b:changes_file_growth]:-} ]] || echo "; file grew $(thousands "${META[$b:changes_file_growth]}") bytes for $(thousands "$CHANGES")"))"
  echo "  rows written during the run: $(awk -v a="$c_changes" -v b="$CHANGES" 'BEGIN {print (a ~ /^[0-9]+$/) ? a - b : "?"}') change records, $(awk -v a="$c_audit" -v b="$AUDIT_EVENTS" 'BEGIN {print (a ~ /^[0-9]+$/) ? a - b : "?"}') audit events (0 means the write path does not record them yet)"
  echo "  after the run: $(thousands "$c_fam") families, $(thousands "$c_comms") communications, $(thousands "$c_conc") concerns ($(thousands "$c_acked") acknowledged)"
  echo "  one family's communications: $(thousands "${META[$b:distinct_listed_families]:-?}") families listed, ${META[$b:comms_per_listed_family]:-?} communications each on average"
  echo "  timeline: page $TIMELINE_PAGE p50 / page 1 p50 = $(deep_ratio "$b"); page $TIMELINE_PAGE holds ${DEEP_ITEMS[$b]} items"
  echo "  transitions: $(thousands "${SUPPLY[$b:run]:-?}") open concerns before the measured run, $(thousands "${TOTAL[$b:transition]:-?}") moves measured ($(thousands "${WARM_TOTAL[$b:transition]:-0}") in the warm-up)"
  echo "  peak RSS (VmHWM) of the server over the whole run: ${RSS_MIB[$b]} MiB; seeding took ${META[$b:seed_seconds]:-?} s"
done

# The closing table, in Markdown so a closing note can carry it as it is.
echo
header="| scenario | target |"
rule="| --- | --- |"
for b in "${BACKENDS[@]}"; do
  header+=" ${BACKEND_NAME[$b]} req/s | p50 / p99 ms | x ceiling | verdict |"
  rule+=" ---: | ---: | ---: | --- |"
done
echo "$header"
echo "$rule"
for s in "${SHOWN[@]}"; do
  line="| ${LABEL[$s]} | $(target_text "$s") |"
  for b in "${BACKENDS[@]}"; do
    k=$b:$s
    if [[ -n ${SKIPPED[$k]:-} ]]; then
      line+=" skipped ($([[ ${GOT[$k]:-} == 404 ]] && echo 'not served' || echo 'no such page')) | | | |"
    else
      line+=" $(thousands "${RPS[$k]}") | ${P50[$k]} / ${P99[$k]} | $(ratio "${RPS[$k]}" "$(ceiling_mean "${REF[$s]}")") | $(verdict "$b" "$s") |"
    fi
  done
  echo "$line"
done
line="| peak RSS (VmHWM), whole run | < 64 MiB |"
for b in "${BACKENDS[@]}"; do
  v="?"; num "${RSS_MIB[$b]}" && { lt "${RSS_MIB[$b]}" 64 && v=ok || v=MISSED; }
  line+=" ${RSS_MIB[$b]} MiB | | | $v |"
done
echo "$line"
line="| audit events, storage | — |"
for b in "${BACKENDS[@]}"; do line+=" ${META[$b:audit_events_mib_per_million]:-?} MiB per million | | | |"; done
echo "$line"
line="| change records, storage | — |"
for b in "${BACKENDS[@]}"; do line+=" ${META[$b:changes_mib_per_million]:-?} MiB per million | | | |"; done
echo "$line"
echo
if ((${#CEILING_RUNS[@]} > 0)); then
  echo "x ceiling: reads over point_read, writes (creates, transitions) over insert_serial, the mean of ${#CEILING_RUNS[@]} ceiling run(s) in this run."
else
  echo "x ceiling: no ceiling was measured, so no ratios."
fi
echo "total time: ${ELAPSED} s (build, seeding, ceiling and all runs)"

# --- warnings ----------------------------------------------------------------------------------
ANOMALY=0
for b in "${BACKENDS[@]}"; do
  for s in "${SCENARIOS[@]}"; do
    k=$b:$s
    [[ -z ${SKIPPED[$k]:-} ]] || continue
    [[ ${NON2XX[$k]:-0} == 0 ]] || { echo "WARNING: $b: $s: ${NON2XX[$k]} non-2xx/3xx responses of ${TOTAL[$k]}"; ANOMALY=1; }
    [[ -z ${SOCKERR[$k]:-} ]] || { echo "WARNING: $b: $s: socket errors: ${SOCKERR[$k]}"; ANOMALY=1; }
  done
  supply=${SUPPLY[$b:run]:-} moved=${TOTAL[$b:transition]:-}
  if [[ $supply =~ ^[0-9]+$ && $moved =~ ^[0-9]+$ ]] && ((moved >= supply)); then
    echo "WARNING: $b: transition: the run sent more moves than there were open concerns (seed more: BENCH_CONCERNS)"
  fi
  if [[ ${PREFLIGHT_OK[$b]} != 1 ]]; then
    line="WARNING: $b: preflight statuses:"
    for s in "${SCENARIOS[@]}"; do line+=" $s=${GOT[$b:$s]}/${WANT[$s]}"; done
    echo "$line (got/want); ETag: ${ETAG[$b]:-none}"
  fi
  [[ ${SERVER_ALIVE[$b]} == 1 ]] || { echo "WARNING: $b: the server died during the run; its log:"; tail -n 40 "$DIR/$b/server.log"; ANOMALY=1; }
  if [[ ${SERVER_ERRORS[$b]:-0} != 0 ]]; then
    echo "WARNING: $b: the server logged ${SERVER_ERRORS[$b]} warning/error lines; first ones:"
    grep -E ' (ERROR|WARN) ' "$DIR/$b/server.log" | head -n 5
  fi
  [[ ${PREFLIGHT_OK[$b]} == 1 ]] || ANOMALY=1
done
[[ $CEILING == skip ]] || ((${#CEILING_RUNS[@]} == 2)) || { echo "WARNING: only ${#CEILING_RUNS[@]} of 2 ceiling runs succeeded"; ANOMALY=1; }
((ANOMALY)) && echo "(figures above are suspect: see warnings)"
exit 0
