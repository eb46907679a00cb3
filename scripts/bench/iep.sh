#!/usr/bin/env bash
# Benchmark of IEP notes' audited reads on SQLite, beside the machine's ceiling.
#
# Release build; a fresh SQLite database with 100,000 IEP notes over 1,000 students; the
# machine's ceiling (../shared/bench/ceiling.sh, unless BENCH_CEILING=skip); then with wrk:
#   get   GET one note (each answer first records its read in the audit log), cycling over
#         1,000 note ids spread across the table;
#   list  a list of 50 notes of one student (one read event per request), cycling over 1,000
#         students.
# Reports req/s, p50 and p99 of each beside its target (get: 5,000 req/s and p99 < 20 ms;
# list: 2,000 req/s), and what the audit log grew by per million reads (dbstat).
#
# Usage: scripts/bench/iep.sh
# Environment (all optional):
#   BENCH_SECONDS      wrk duration per scenario (default 15)
#   BENCH_WARMUP       warm-up per scenario, not measured (default 2)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_NOTES        notes to seed (default 100000)
#   BENCH_STUDENTS     students they are spread over (default 1000)
#   BENCH_PORT         port on 127.0.0.1 (default 18091)
#   BENCH_CEILING      the ceiling script, or "skip" (default ../shared/bench/ceiling.sh)
#   BENCH_SKIP_BUILD   1 = use the existing release binary
#   CARGO_TARGET_DIR   where cargo builds Liaison (default ./target)
#   LIAISON_RATE_LIMIT_READS, LIAISON_RATE_LIMIT_WRITES
#                      the server's quotas per caller (default 1000000000/hour each here: one
#                      token makes every request of a run, which must not measure 429s)
#
# It reports; it is not a test: it exits 0 when targets are missed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/scripts/bench"
SECONDS_PER=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
NOTES=${BENCH_NOTES:-100000}
STUDENTS=${BENCH_STUDENTS:-1000}
PORT=${BENCH_PORT:-18091}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"

log() { printf '[iep-bench] %s\n' "$*" >&2; }
die() { echo "iep-bench: $*" >&2; exit 2; }

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

DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-iep-bench.XXXXXX")
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

log "migrating and seeding $NOTES notes over $STUDENTS students"
"$BIN" migrate >&2
python3 "$HERE/iep_seed.py" seed --target "$DB" --school "$SCHOOL" --students "$STUDENTS" \
  --notes "$NOTES" --out "$DIR"

source "$HERE/ceiling_lib.sh"
run_ceiling "$ROOT" "$DIR"

"$BIN" serve >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$HOST/readyz" || true) == 200 ]] && break
  sleep 0.1
done
BENCH_TOKEN=$("$BIN" token --role teacher --school "$SCHOOL" --ttl 2h)
export BENCH_TOKEN

for s in get list; do
  got=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BENCH_TOKEN" "$HOST$(head -n 1 "$DIR/$s.paths")")
  [[ $got == 200 ]] || die "preflight $s answered $got"
done

to_ms() {
  awk -v v="$1" 'BEGIN { n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : 1; printf "%.2f", n * f }'
}

declare -A RPS P50 P99 N NON2XX GROWTH
for s in get list; do
  export BENCH_PATHS_FILE="$DIR/$s.paths"
  if ((WARMUP > 0)); then
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$HERE/paths.lua" "$HOST" >/dev/null 2>&1 || true
  fi
  read -r before_reads before_bytes < <(python3 "$HERE/iep_seed.py" audit --target "$DB" |
    sed -E 's/reads=([0-9]+) bytes=([0-9a-z]+)/\1 \2/')
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER}s" --timeout 5s --latency -s "$HERE/paths.lua" "$HOST" 2>&1)
  printf '%s\n' "---- wrk $s ----" "$out" >&2
  RPS[$s]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  P50[$s]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$s]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  NON2XX[$s]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  read -r after_reads after_bytes < <(python3 "$HERE/iep_seed.py" audit --target "$DB" |
    sed -E 's/reads=([0-9]+) bytes=([0-9a-z]+)/\1 \2/')
  N[$s]=$((after_reads - before_reads))
  if [[ $after_bytes =~ ^[0-9]+$ && $before_bytes =~ ^[0-9]+$ ]] && ((N[$s] > 0)); then
    GROWTH[$s]=$(awk -v b=$((after_bytes - before_bytes)) -v n="${N[$s]}" \
      'BEGIN { printf "%.0f bytes/event, %.0f MiB per million reads", b / n, b / n * 1e6 / 1048576 }')
  else
    GROWTH[$s]="unknown (no dbstat)"
  fi
done

echo
echo "IEP notes, SQLite, $NOTES notes over $STUDENTS students; wrk -t$THREADS -c$CONNS -d${SECONDS_PER}s"
if [[ -n $CEILING_OUT ]]; then
  echo "ceiling (same run):"
  sed 's/^/  /' <<<"$CEILING_OUT"
fi
printf '%-6s %10s %10s %10s %10s %12s  %s\n' scenario req/s p50_ms p99_ms non2xx read_events target
printf '%-6s %10s %10s %10s %10s %12s  %s\n' get "${RPS[get]}" "${P50[get]}" "${P99[get]}" "${NON2XX[get]:-0}" "${N[get]}" ">= 5000 req/s, p99 < 20 ms"
printf '%-6s %10s %10s %10s %10s %12s  %s\n' list "${RPS[list]}" "${P50[list]}" "${P99[list]}" "${NON2XX[list]:-0}" "${N[list]}" ">= 2000 req/s"
echo "audit log growth: get: ${GROWTH[get]}; list: ${GROWTH[list]}"
