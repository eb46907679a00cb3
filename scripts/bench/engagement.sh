#!/usr/bin/env bash
# Benchmark of engagement on SQLite, beside the machine's ceiling.
#
# Release build; a fresh SQLite database with 100,000 families (a guardian and a child each),
# 2,000 events with their audiences and 200,000 RSVPs; the machine's ceiling
# (../shared/bench/ceiling.sh, unless BENCH_CEILING=skip); then:
#   list   with wrk: a guardian's list of the events open to their family
#          (GET /v1/events?has_capacity=true&limit=50);
#   rsvp   with wrk: PUT /v1/events/{id}/rsvps/{family_id} by staff, cycling over 1,000
#          answers, alternating yes and maybe (every request writes, audited and fed);
#   race   64 guardians book at once, with curl, the 10 slots of a conference (about six to a
#          slot): exactly 10 must win, every other answer must be a 409.
# Reports req/s, p50 and p99 beside the targets (list: 3,000 req/s; rsvp: 2,000 req/s) and the
# race's outcome.
#
# Usage: scripts/bench/engagement.sh
# Environment (all optional):
#   BENCH_SECONDS      wrk duration per scenario (default 15)
#   BENCH_WARMUP       warm-up per scenario, not measured (default 2)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_FAMILIES     families to seed (default 100000)
#   BENCH_EVENTS       events to seed (default 2000)
#   BENCH_RSVPS        RSVPs to seed (default 200000)
#   BENCH_PORT         port on 127.0.0.1 (default 18092)
#   BENCH_CEILING      the ceiling script, or "skip" (default ../shared/bench/ceiling.sh)
#   BENCH_SKIP_BUILD   1 = use the existing release binary
#   CARGO_TARGET_DIR   where cargo builds Liaison (default ./target)
#   LIAISON_RATE_LIMIT_READS, LIAISON_RATE_LIMIT_WRITES
#                      the server's quotas per caller (default 1000000000/hour each here: one
#                      token makes every request of a run, which must not measure 429s)
#
# It reports; it is not a test: it exits 0 when targets are missed (2 when the race is wrong).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/scripts/bench"
SECONDS_PER=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
FAMILIES=${BENCH_FAMILIES:-100000}
EVENTS=${BENCH_EVENTS:-2000}
RSVPS=${BENCH_RSVPS:-200000}
PORT=${BENCH_PORT:-18092}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"

log() { printf '[engagement-bench] %s\n' "$*" >&2; }
die() { echo "engagement-bench: $*" >&2; exit 2; }

command -v wrk >/dev/null 2>&1 || die "wrk is required (apt-get install wrk)"
command -v python3 >/dev/null 2>&1 || die "python3 is required"

export CEILING_SECONDS=${CEILING_SECONDS:-$SECONDS_PER}
export CEILING_THREADS=${CEILING_THREADS:-$THREADS}
export CEILING_CONNECTIONS=${CEILING_CONNECTIONS:-$CONNS}

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x $BIN ]] || die "no release binary at $BIN"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-engagement-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

LIAISON_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
export LIAISON_JWT_SECRET
export LIAISON_BIND="127.0.0.1:$PORT"
export LIAISON_RATE_LIMIT_READS=${LIAISON_RATE_LIMIT_READS:-1000000000/hour}
export LIAISON_RATE_LIMIT_WRITES=${LIAISON_RATE_LIMIT_WRITES:-1000000000/hour}
export RUST_LOG=warn
DB="$DIR/bench.db"
export DATABASE_URL="sqlite://$DB"

log "migrating and seeding $FAMILIES families, $EVENTS events, $RSVPS RSVPs"
"$BIN" migrate >&2
python3 "$HERE/engagement_seed.py" seed --target "$DB" --school "$SCHOOL" --families "$FAMILIES" \
  --events "$EVENTS" --rsvps "$RSVPS" --out "$DIR"

source "$HERE/ceiling_lib.sh"
run_ceiling "$ROOT" "$DIR"

"$BIN" serve >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$HOST/readyz" || true) == 200 ]] && break
  sleep 0.1
done
GUARDIAN_TOKEN=$("$BIN" token --role guardian --school "$SCHOOL" --guardian "$(cat "$DIR/guardian")" --ttl 2h)
STAFF_TOKEN=$("$BIN" token --role pre --school "$SCHOOL" --ttl 2h)
echo "/v1/events?has_capacity=true&limit=50" >"$DIR/list.paths"
cp "$DIR/rsvp.paths" "$DIR/rsvp.wrk"

to_ms() {
  awk -v v="$1" 'BEGIN { n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : 1; printf "%.2f", n * f }'
}

declare -A RPS P50 P99 NON2XX
for s in list rsvp; do
  if [[ $s == list ]]; then
    export BENCH_TOKEN=$GUARDIAN_TOKEN BENCH_PATHS_FILE="$DIR/list.paths" SCRIPT="$HERE/paths.lua"
    got=$(curl -s -o "$DIR/list.json" -w '%{http_code}' -H "Authorization: Bearer $BENCH_TOKEN" "$HOST$(cat "$DIR/list.paths")")
    [[ $got == 200 ]] || die "preflight list answered $got"
    log "the guardian's list holds $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$DIR/list.json") events"
  else
    export BENCH_TOKEN=$STAFF_TOKEN BENCH_PATHS_FILE="$DIR/rsvp.wrk" SCRIPT="$HERE/rsvp.lua"
  fi
  if ((WARMUP > 0)); then
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$SCRIPT" "$HOST" >/dev/null 2>&1 || true
  fi
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER}s" --timeout 5s --latency -s "$SCRIPT" "$HOST" 2>&1)
  printf '%s\n' "---- wrk $s ----" "$out" >&2
  RPS[$s]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  P50[$s]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$s]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  NON2XX[$s]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
done

# The race: 10 slots, 64 guardians of 64 families at once, guardian i on slot i mod 10.
CONF=$(cat "$DIR/conference")
curl -s -o "$DIR/slots.json" -X POST "$HOST/v1/events/$CONF/slots" -H "Authorization: Bearer $STAFF_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"starts_at": "2030-01-10T16:00:00Z", "ends_at": "2030-01-10T17:40:00Z", "slot_minutes": 10, "host": "Mr. Chen"}'
mapfile -t SLOTS < <(python3 -c 'import json,sys; [print(s["id"]) for s in json.load(open(sys.argv[1]))["data"]]' "$DIR/slots.json")
((${#SLOTS[@]} == 10)) || die "expected 10 slots, made ${#SLOTS[@]}"
i=0
while read -r g s; do
  t=$("$BIN" token --role guardian --school "$SCHOOL" --guardian "$g" --ttl 1h)
  printf '%s %s %s\n' "$t" "${SLOTS[$((i % 10))]}" "$s" >>"$DIR/race.args"
  i=$((i + 1))
done <"$DIR/racers"
# The racers' families are reached through the school-wide conference.
xargs -P 64 -L 1 sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -X POST \
  "'"$HOST"'/v1/events/'"$CONF"'/slots/$1/booking" -H "Authorization: Bearer $0" \
  -H "Content-Type: application/json" -d "{\"student_id\": \"$2\"}"' <"$DIR/race.args" >"$DIR/race.out"
WON=$(grep -c '^201$' "$DIR/race.out" || true)
LOST=$(grep -c '^409$' "$DIR/race.out" || true)
LIVE=$(python3 "$HERE/engagement_seed.py" bookings --target "$DB" --event "$CONF")

echo
echo "Engagement, SQLite, $FAMILIES families, $EVENTS events, $RSVPS RSVPs; wrk -t$THREADS -c$CONNS -d${SECONDS_PER}s"
if [[ -n $CEILING_OUT ]]; then
  echo "ceiling (same run):"
  sed 's/^/  /' <<<"$CEILING_OUT"
fi
printf '%-6s %10s %10s %10s %10s  %s\n' scenario req/s p50_ms p99_ms non2xx target
printf '%-6s %10s %10s %10s %10s  %s\n' list "${RPS[list]}" "${P50[list]}" "${P99[list]}" "${NON2XX[list]:-0}" ">= 3000 req/s"
printf '%-6s %10s %10s %10s %10s  %s\n' rsvp "${RPS[rsvp]}" "${P50[rsvp]}" "${P99[rsvp]}" "${NON2XX[rsvp]:-0}" ">= 2000 req/s"
echo "race: 64 bookings of 10 slots: $WON won (201), $LOST refused (409), $LIVE live bookings (must be 10)"
[[ $WON == 10 && $LIVE == 10 && $LOST == 54 ]] || exit 2
