#!/usr/bin/env bash
# Load benchmark for Liaison: release build, fresh SQLite with 100k families, 1M communications
# (plus one busy family with 12,500) and 200k concerns; wrk against families (GET one, a
# filtered list of 50, create), communications (one family's newest 50, the school's overdue
# follow-ups, create), the busy family's timeline at page 1 and page 200, concerns (the overdue
# queue, status transitions); peak RSS.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   BENCH_SECONDS      wrk duration per scenario, seconds (default 15)
#   BENCH_WARMUP       warm-up per scenario, seconds, not measured (default 2; 0 = none)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_FAMILIES     families to seed (default 100000)
#   BENCH_COMMUNICATIONS       communications spread over the families (default 1000000)
#   BENCH_BUSY_COMMUNICATIONS  more for one busy family (default 12500; at least 50 x BENCH_TIMELINE_PAGE)
#   BENCH_CONCERNS     concerns spread over the families (default 200000; about 66% open)
#   BENCH_TIMELINE_PAGE  the deep timeline page compared with page 1 (default 200)
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
COMMUNICATIONS=${BENCH_COMMUNICATIONS:-1000000}
BUSY_COMMUNICATIONS=${BENCH_BUSY_COMMUNICATIONS:-12500}
CONCERNS=${BENCH_CONCERNS:-200000}
TIMELINE_PAGE=${BENCH_TIMELINE_PAGE:-200}
PAGE_SIZE=50
PORT=${BENCH_PORT:-18089}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"

for v in SECONDS_PER WARMUP THREADS CONNS FAMILIES COMMUNICATIONS BUSY_COMMUNICATIONS CONCERNS TIMELINE_PAGE PORT; do
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
STARTED_AT=$(date +%s)

log() { printf '[bench] %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk from Debian packages"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is required" >&2; exit 2; }
command -v curl >/dev/null 2>&1 || { echo "bench: curl is required" >&2; exit 2; }

# --- build -------------------------------------------------------------------
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release (target dir $TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --quiet)
  log "build done after $(($(date +%s) - STARTED_AT)) s"
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
FAMILY_ID=${SEEDED[1]}      # from the middle of the table: the typical family
BUSY_FAMILY_ID=${SEEDED[0]} # the first: the busy family, with a long timeline
WRITE_FAMILY_ID=${SEEDED[2]} # the last: new communications go to it, not to the two above
log "seeding $COMMUNICATIONS communications (+ $BUSY_COMMUNICATIONS for the busy family) and $CONCERNS concerns"
mapfile -t SEEDED_COMMS < <(python3 "$HERE/seed_activity.py" communications "$DIR/bench.db" "$SCHOOL" \
  "$COMMUNICATIONS" "$BUSY_FAMILY_ID" "$BUSY_COMMUNICATIONS")
((${#SEEDED_COMMS[@]} == 2)) || { echo "bench: seeding communications failed" >&2; exit 2; }
COMMS_FAMILY_ID=${SEEDED_COMMS[1]} # a family with the average number of communications
python3 "$HERE/seed_activity.py" concerns "$DIR/bench.db" "$SCHOOL" "$CONCERNS" >/dev/null ||
  { echo "bench: seeding concerns failed" >&2; exit 2; }
TYPICAL_COMMS=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from communications where family_id=?", (sys.argv[2],)).fetchone()[0])' "$DIR/bench.db" "$COMMS_FAMILY_ID")
log "seeded after $(($(date +%s) - STARTED_AT)) s since start; the family listed has $TYPICAL_COMMS communications"

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
export BENCH_WRK_THREADS=$THREADS
# For curl, the token goes in a header file, not on a command line.
( umask 077; printf 'Authorization: Bearer %s\n' "$BENCH_TOKEN" >"$DIR/auth.header" )

CREATE_BODY='{"display_name":"Bench family","primary_language":"en"}'
GET_URL="$HOST/v1/families/$FAMILY_ID"
LIST_URL="$HOST/v1/families?primary_language=es&limit=50"
CREATE_URL="$HOST/v1/families"
COMMS_FAMILY_URL="$HOST/v1/communications?family_id=$COMMS_FAMILY_ID&limit=$PAGE_SIZE"
COMMS_OVERDUE_URL="$HOST/v1/communications?follow_up=overdue&limit=$PAGE_SIZE"
COMMS_CREATE_URL="$HOST/v1/communications"
COMMS_CREATE_BODY='{"family_id":"'$WRITE_FAMILY_ID'","channel":"phone","direction":"outbound","category":"positive_news","subject":"Great week"}'
TIMELINE_URL="$HOST/v1/families/$BUSY_FAMILY_ID/timeline?limit=$PAGE_SIZE"
CONCERNS_OVERDUE_URL="$HOST/v1/concerns?overdue=true&limit=$PAGE_SIZE"
TRANSITION_BODY='{"to":"acknowledged"}'

# The deep timeline page: follow next_cursor from page 1, as a client would.
next_cursor() { # reads a page on stdin, prints its next_cursor (empty on the last page)
  if command -v jq >/dev/null 2>&1; then
    jq -r '.next_cursor // empty'
  else
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("next_cursor") or "")'
  fi
}
log "following next_cursor to page $TIMELINE_PAGE of the busy family's timeline"
TIMELINE_DEEP_URL=$TIMELINE_URL
for ((page = 2; page <= TIMELINE_PAGE; page++)); do
  cursor=$(curl -sf --max-time 10 -H @"$DIR/auth.header" "$TIMELINE_DEEP_URL" | next_cursor) || cursor=
  if [[ -z $cursor ]]; then
    log "WARNING: page $((page - 1)) of the timeline has no next_cursor; no page $TIMELINE_PAGE"
    TIMELINE_DEEP_URL=
    break
  fi
  TIMELINE_DEEP_URL="$TIMELINE_URL&cursor=$cursor"
done
TIMELINE_DEEP_ITEMS=-
if [[ -n $TIMELINE_DEEP_URL ]]; then
  TIMELINE_DEEP_ITEMS=$(curl -sf --max-time 10 -H @"$DIR/auth.header" "$TIMELINE_DEEP_URL" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]))' 2>/dev/null || echo "?")
fi

# A concern to move in the preflight (the runs take theirs from the database just before).
python3 "$HERE/seed_activity.py" open-concerns "$DIR/bench.db" "$SCHOOL" "$DIR/open-concerns.txt" >/dev/null ||
  { echo "bench: cannot read open concerns" >&2; exit 2; }
PREFLIGHT_CONCERN=$(head -n 1 "$DIR/open-concerns.txt")

# One request of each kind first: a benchmark of 401s or 404s is worthless.
SCENARIOS=(get list create comms_family comms_overdue timeline_p1 timeline_deep comms_create concerns_overdue transition)
declare -A WANT=([get]=200 [list]=200 [create]=201 [comms_family]=200 [comms_overdue]=200
  [timeline_p1]=200 [timeline_deep]=200 [comms_create]=201 [concerns_overdue]=200 [transition]=200) GOT
GOT[get]=$(status "$GET_URL")
GOT[list]=$(status "$LIST_URL")
GOT[create]=$(status "$CREATE_URL" POST "$CREATE_BODY")
GOT[comms_family]=$(status "$COMMS_FAMILY_URL")
GOT[comms_overdue]=$(status "$COMMS_OVERDUE_URL")
GOT[timeline_p1]=$(status "$TIMELINE_URL")
GOT[timeline_deep]=$(if [[ -n $TIMELINE_DEEP_URL ]]; then status "$TIMELINE_DEEP_URL"; else echo none; fi)
GOT[comms_create]=$(status "$COMMS_CREATE_URL" POST "$COMMS_CREATE_BODY")
GOT[concerns_overdue]=$(status "$CONCERNS_OVERDUE_URL")
GOT[transition]=$(if [[ -n $PREFLIGHT_CONCERN ]]; then
  status "$HOST/v1/concerns/$PREFLIGHT_CONCERN/transitions" POST "$TRANSITION_BODY"; else echo none; fi)
PREFLIGHT_OK=1
for s in "${SCENARIOS[@]}"; do
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

declare -A RPS P50 P99 NON2XX SOCKERR TOTAL WARM_TOTAL HWM_AFTER
run_wrk() { # name url lua [prepare-command]: the command runs before the warm-up and the run,
  # with the phase (warmup, run) as its argument
  local name=$1 url=$2 lua=$3 prep=${4:-} out
  if ((WARMUP > 0)); then
    [[ -z $prep ]] || "$prep" warmup
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$lua" "$url" 2>&1) || true
    WARM_TOTAL[$name]=$(awk '/requests in/ {print $1}' <<<"$out")
    settle
  fi
  [[ -z $prep ]] || "$prep" run
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
  HWM_AFTER[$name]=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
  settle
}

# Transitions: each run moves concerns that are open just before it, each once.
declare -A SUPPLY
prepare_transition() { # phase
  local f="$DIR/transition-ids-$1.txt"
  SUPPLY[$1]=$(python3 "$HERE/seed_activity.py" open-concerns "$DIR/bench.db" "$SCHOOL" "$f") || {
    echo "bench: cannot list open concerns" >&2
    exit 2
  }
  export BENCH_IDS_FILE=$f
}

run_wrk get "$GET_URL" "$HERE/get.lua"
run_wrk list "$LIST_URL" "$HERE/get.lua"
run_wrk create "$CREATE_URL" "$HERE/create_family.lua"
run_wrk comms_family "$COMMS_FAMILY_URL" "$HERE/get.lua"
run_wrk comms_overdue "$COMMS_OVERDUE_URL" "$HERE/get.lua"
run_wrk timeline_p1 "$TIMELINE_URL" "$HERE/get.lua"
if [[ -n $TIMELINE_DEEP_URL ]]; then
  run_wrk timeline_deep "$TIMELINE_DEEP_URL" "$HERE/get.lua"
else
  RPS[timeline_deep]=-; P50[timeline_deep]=-; P99[timeline_deep]=-; TOTAL[timeline_deep]=0; NON2XX[timeline_deep]=0
fi
export BENCH_BODY=$COMMS_CREATE_BODY
run_wrk comms_create "$COMMS_CREATE_URL" "$HERE/post_json.lua"
run_wrk concerns_overdue "$CONCERNS_OVERDUE_URL" "$HERE/get.lua"
# The URL is only the host here: transition.lua builds each request's path.
run_wrk transition "$HOST/v1/concerns" "$HERE/transition.lua" prepare_transition

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
COUNTS=$(python3 - "$DIR/bench.db" <<'EOF' 2>/dev/null || echo "? ? ? ?"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
q = lambda sql: c.execute(sql).fetchone()[0]
print(q("select count(*) from families"), q("select count(*) from communications"),
      q("select count(*) from concerns"), q("select count(*) from concerns where status = 'acknowledged'"))
EOF
)
read -r CREATED COMMS_AFTER CONCERNS_AFTER ACKED_AFTER <<<"$COUNTS"

# --- summary -----------------------------------------------------------------
meets() { # value target dir(ge|le)
  awk -v v="$1" -v t="$2" -v d="$3" 'BEGIN {
    if (v !~ /^[0-9.]+$/) { print "?"; exit }
    ok = (d == "ge") ? (v + 0 >= t + 0) : (v + 0 <= t + 0);
    print ok ? "ok" : "MISSED" }'
}

ELAPSED=$(($(date +%s) - STARTED_AT))
# ratio of the deep timeline page's p50 to page 1's
TIMELINE_RATIO=$(awk -v a="${P50[timeline_deep]}" -v b="${P50[timeline_p1]}" 'BEGIN {
  if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) { print "?"; exit }
  printf "%.2f", a / b }')

echo
echo "Liaison benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  wrk -t$THREADS -c$CONNS -d${SECONDS_PER}s (+${WARMUP}s warm-up each)"
echo "seeded: $FAMILIES families, $COMMUNICATIONS communications (+ $BUSY_COMMUNICATIONS for the busy family), $CONCERNS concerns; the family listed has $TYPICAL_COMMS communications"
row() { printf '%-50s %9s %8s %8s %9s %8s  %-28s %s\n' "$@"; }
row scenario 'req/s' 'p50 ms' 'p99 ms' requests 'non-2xx' 'target' ''
declare -A LABEL=(
  [get]="GET /v1/families/{id}"
  [list]="GET /v1/families?primary_language=es&limit=50"
  [create]="POST /v1/families"
  [comms_family]="GET /v1/communications?family_id={id}&limit=50"
  [comms_overdue]="GET /v1/communications?follow_up=overdue&limit=50"
  [timeline_p1]="GET /v1/families/{busy}/timeline, page 1"
  [timeline_deep]="GET /v1/families/{busy}/timeline, page $TIMELINE_PAGE"
  [comms_create]="POST /v1/communications"
  [concerns_overdue]="GET /v1/concerns?overdue=true&limit=50"
  [transition]="POST /v1/concerns/{id}/transitions"
)
declare -A TARGET=([get]=15000 [list]=3000 [create]=3000 [comms_family]=3000 [comms_overdue]=3000
  [comms_create]=3000 [concerns_overdue]=3000 [transition]=2000)
declare -A TARGET_P99=([comms_family]=20)
ANOMALY=0
for s in "${SCENARIOS[@]}"; do
  if [[ $s == timeline_p1 ]]; then
    target="(reference for page $TIMELINE_PAGE)"
    verdict=""
  elif [[ $s == timeline_deep ]]; then
    target="p50 <= 1.5 x page 1's"
    verdict=$(meets "$TIMELINE_RATIO" 1.5 le)
  else
    target=">= ${TARGET[$s]} req/s"
    verdict=$(meets "${RPS[$s]}" "${TARGET[$s]}" ge)
    if [[ -n ${TARGET_P99[$s]:-} ]]; then
      target="$target, p99 < ${TARGET_P99[$s]} ms"
      p99_ok=$(awk -v v="${P99[$s]}" -v t="${TARGET_P99[$s]}" 'BEGIN {
        if (v !~ /^[0-9.]+$/) { print "?"; exit } print (v + 0 < t + 0) ? "ok" : "MISSED" }')
      if [[ $p99_ok == MISSED ]]; then verdict=MISSED; elif [[ $p99_ok != ok && $verdict == ok ]]; then verdict=$p99_ok; fi
    fi
  fi
  [[ ${NON2XX[$s]} == 0 ]] || verdict=SUSPECT
  row "${LABEL[$s]}" "${RPS[$s]}" "${P50[$s]}" "${P99[$s]}" "${TOTAL[$s]}" "${NON2XX[$s]}" "$target" "$verdict"
  [[ ${NON2XX[$s]} == 0 && -z ${SOCKERR[$s]:-} ]] || ANOMALY=1
done
row "peak RSS (VmHWM), MiB" "$RSS_MIB" "" "" "" "" "<= 64 MiB" "$(meets "$RSS_MIB" 64 le)"
line="peak RSS (VmHWM) after each scenario, MiB:"
for s in "${SCENARIOS[@]}"; do line+=" $s ${HWM_AFTER[$s]:--}"; done
echo "$line"
echo "timeline: page $TIMELINE_PAGE p50 / page 1 p50 = $TIMELINE_RATIO (target <= 1.5); page $TIMELINE_PAGE holds $TIMELINE_DEEP_ITEMS items"
echo "transitions: ${SUPPLY[run]:-?} open concerns before the measured run, ${TOTAL[transition]} moves measured (${WARM_TOTAL[transition]:-0} in the warm-up of ${SUPPLY[warmup]:-?}); acknowledged after the run: $ACKED_AFTER"
echo "after the run: $CREATED families, $COMMS_AFTER communications, $CONCERNS_AFTER concerns (seeded + preflight + warm-up + measured creates)"
echo "total time: ${ELAPSED} s (build, seeding and all runs)"

for s in "${SCENARIOS[@]}"; do
  [[ ${NON2XX[$s]} == 0 ]] || echo "WARNING: $s: ${NON2XX[$s]} non-2xx/3xx responses of ${TOTAL[$s]}"
  [[ -z ${SOCKERR[$s]:-} ]] || echo "WARNING: $s: socket errors: ${SOCKERR[$s]}"
done
if [[ ${SUPPLY[run]:-} =~ ^[0-9]+$ && ${TOTAL[transition]} =~ ^[0-9]+$ ]] && ((TOTAL[transition] >= SUPPLY[run])); then
  echo "WARNING: transition: the run sent more moves than there were open concerns (seed more: BENCH_CONCERNS)"
fi
[[ -n $TIMELINE_DEEP_URL ]] || echo "WARNING: no timeline page $TIMELINE_PAGE: that scenario did not run"
if ((!PREFLIGHT_OK)); then
  line="WARNING: preflight statuses:"
  for s in "${SCENARIOS[@]}"; do line+=" $s=${GOT[$s]}/${WANT[$s]}"; done
  echo "$line (got/want)"
fi
((SERVER_ALIVE)) || { echo "WARNING: the server died during the run; its log:"; tail -n 40 "$DIR/server.log"; ANOMALY=1; }
if [[ ${SERVER_ERRORS:-0} != 0 ]]; then
  echo "WARNING: server logged $SERVER_ERRORS warning/error lines; first ones:"
  grep -E ' (ERROR|WARN) ' "$DIR/server.log" | head -n 5
fi
((ANOMALY || !PREFLIGHT_OK)) && echo "(figures above are suspect: see warnings)"
exit 0
