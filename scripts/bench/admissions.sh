#!/usr/bin/env bash
# Admissions benchmark: the funnel report over 100,000 applicants and 500,000 stage moves, on
# SQLite and PostgreSQL, and applicant transitions under wrk.
#
# Release build; a fresh database per backend seeded by admissions_seed.py (the default
# pipeline, the applicants, their history); then for each backend: GET /v1/admissions/funnel
# (unfiltered, and with entry_term) timed with curl BENCH_FUNNEL_RUNS times after one warm-up,
# reporting the fastest, median and slowest; and POST …/transitions under wrk (applicants moved
# between inquiry and waitlisted, every request a legal move), reporting req/s and p50/p99.
# Targets (issue 9): the funnel under 200 ms, a transition at least 2,000 req/s.
#
# Usage: scripts/bench/admissions.sh
# Environment (all optional):
#   BENCH_BACKENDS      sqlite, postgres or both (default both)
#   BENCH_POSTGRES_URL  the PostgreSQL database to create, use and drop (default
#                       postgres://postgres@127.0.0.1:5432/liaison_bench_admissions); it must not exist
#   BENCH_APPLICANTS    applicants (default 100000)
#   BENCH_MOVES         history entries in all (default 500000)
#   BENCH_FUNNEL_RUNS   timed funnel requests per variant (default 10)
#   BENCH_SECONDS       wrk duration (default 10)
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_CONNECTIONS   wrk connections (default 32)
#   BENCH_PORT          port on 127.0.0.1 (default 18090)
#   BENCH_SKIP_BUILD    1 = use the existing release binary
#   BENCH_CEILING       the ceiling script, or "skip" (default ../shared/bench/ceiling.sh)
#   CARGO_TARGET_DIR    where cargo builds Liaison (default ./target)
#   LIAISON_RATE_LIMIT_READS, LIAISON_RATE_LIMIT_WRITES
#                       the server's quotas per caller (default 1000000000/hour each here: one
#                       token makes every request of a run, which must not measure 429s)
# It reports; it exits non-zero only when the benchmark itself cannot run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/scripts/bench"
APPLICANTS=${BENCH_APPLICANTS:-100000}
MOVES=${BENCH_MOVES:-500000}
RUNS=${BENCH_FUNNEL_RUNS:-10}
SECONDS_PER=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18090}
HOST="http://127.0.0.1:$PORT"
SCHOOL=bench-school
PG_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/liaison_bench_admissions}
for v in APPLICANTS MOVES RUNS SECONDS_PER THREADS CONNS PORT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((MOVES >= APPLICANTS && MOVES <= 9 * APPLICANTS)) ||
  { echo "bench: BENCH_MOVES must be 1 to 9 times BENCH_APPLICANTS" >&2; exit 2; }
case ${BENCH_BACKENDS:-both} in
  sqlite) BACKENDS=(sqlite) ;;
  postgres) BACKENDS=(postgres) ;;
  both) BACKENDS=(sqlite postgres) ;;
  *) echo "bench: BENCH_BACKENDS must be sqlite, postgres or both" >&2; exit 2 ;;
esac
log() { printf '[bench] %s\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 2; }

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v python3 >/dev/null && command -v curl >/dev/null || die "python3 and curl are required"

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x $BIN ]] || die "no release binary at $BIN"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-admissions-bench.XXXXXX")
SERVER_PID=
PG_CREATED=0
PG_ADMIN_URL=${PG_URL%/*}/postgres
PG_DB=${PG_URL##*/}
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
cleanup() {
  stop_server
  if ((PG_CREATED)); then
    psql -X -q -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LIAISON_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
export LIAISON_JWT_SECRET LIAISON_BIND="127.0.0.1:$PORT" RUST_LOG=warn
export LIAISON_RATE_LIMIT_READS=${LIAISON_RATE_LIMIT_READS:-1000000000/hour}
export LIAISON_RATE_LIMIT_WRITES=${LIAISON_RATE_LIMIT_WRITES:-1000000000/hour}
TOKEN=$("$BIN" token --role admin --school "$SCHOOL" --ttl 2h)

# The machine's ceiling, measured in the same run so the figures can be read as ratios.
source "$HERE/ceiling_lib.sh"
run_ceiling "$ROOT" "$DIR"

declare -A RESULT
for b in "${BACKENDS[@]}"; do
  if [[ $b == sqlite ]]; then
    URL="sqlite://$DIR/bench.db"
    TARGET="$DIR/bench.db"
  else
    psql -X -q -d "$PG_ADMIN_URL" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null || die "cannot create $PG_DB"
    PG_CREATED=1
    URL=$PG_URL
    TARGET=$PG_URL
  fi
  DATABASE_URL=$URL "$BIN" migrate >&2 || die "$b: migration failed"
  log "$b: seeding $APPLICANTS applicants, $MOVES moves"
  python3 "$HERE/admissions_seed.py" --backend "$b" --target "$TARGET" --school "$SCHOOL" \
    --applicants "$APPLICANTS" --moves "$MOVES" --ids-out "$DIR/$b-ids.txt" || die "$b: seeding failed"
  DATABASE_URL=$URL "$BIN" serve >"$DIR/$b-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -sf "$HOST/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "$HOST/readyz" >/dev/null || die "$b: the server did not start"
  for variant in "" "?entry_term=2027-fall"; do
    name="funnel${variant:+ (entry_term)}"
    curl -sf -H "Authorization: Bearer $TOKEN" "$HOST/v1/admissions/funnel$variant" -o "$DIR/funnel${variant:+-term}.json" ||
      die "$b: the funnel failed"
    times=()
    for _ in $(seq 1 "$RUNS"); do
      times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$HOST/v1/admissions/funnel$variant")")
    done
    RESULT[$b:$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1*1000} END {printf "min %.1f ms, median %.1f ms, max %.1f ms", a[1], a[int((NR+1)/2)], a[NR]}')
    log "$b: $name: ${RESULT[$b:$name]}"
  done
  python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); print("[bench] counted", f["applicants"], "applicants:", {s["key"]: s["reached"] for s in f["stages"]})' "$DIR/funnel.json" >&2
  export BENCH_TOKEN=$TOKEN BENCH_IDS_FILE="$DIR/$b-ids.txt" BENCH_WRK_THREADS=$THREADS
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER}s" --latency -s "$HERE/admissions_transition.lua" "$HOST" 2>&1) || true
  printf '%s\n' "---- $b: wrk transitions ----" "$out" >&2
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  RESULT[$b:transitions]="${rps:-0} req/s, p50 ${p50:--}, p99 ${p99:--}, non-2xx ${non2xx:-0}"
  stop_server
done

echo
echo "Admissions benchmark: $APPLICANTS applicants, $MOVES moves; funnel target < 200 ms, transitions target >= 2000 req/s"
for b in "${BACKENDS[@]}"; do
  echo "$b:"
  for name in "funnel" "funnel (entry_term)" "transitions"; do
    printf '  %-22s %s\n' "$name" "${RESULT[$b:$name]}"
  done
done
if [[ -n $CEILING_OUT ]]; then
  echo "ceiling (same run):"
  sed 's/^/  /' <<<"$CEILING_OUT"
fi
