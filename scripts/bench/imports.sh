#!/usr/bin/env bash
# Benchmark of bulk imports, on SQLite and PostgreSQL, beside the machine's ceiling.
#
# Release build; for each backend and each format (NDJSON, CSV) a fresh database, then:
#   families    import 100,000 families
#   guardians   import 150,000 guardians referring to them by family_external_id
#   students    import 150,000 students referring to them
#   unchanged   import the same families again (every row unchanged, nothing written)
# Reports seconds per import and per 100,000 rows beside the targets (under 5 s per 100,000
# rows on SQLite, under 15 s on PostgreSQL, the unchanged re-import under 3 s) and the server's
# peak RSS (VmHWM, target under 100 MiB). The ceiling (../shared/bench/ceiling.sh, unless
# BENCH_CEILING=skip) is measured in the same run, so the figures can be read as ratios.
#
# Usage: scripts/bench/imports.sh
# Environment (all optional):
#   BENCH_FAMILIES     families to import (default 100000; guardians and students 1.5x)
#   BENCH_BACKENDS     "sqlite postgres" (default both)
#   BENCH_FORMATS      "ndjson csv" (default both)
#   BENCH_PG_URL       an admin URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_PORT         port on 127.0.0.1 (default 18093)
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
FAMILIES=${BENCH_FAMILIES:-100000}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
FORMATS=${BENCH_FORMATS:-ndjson csv}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${BENCH_PORT:-18093}
SCHOOL=bench-school
HOST="http://127.0.0.1:$PORT"

log() { printf '[imports-bench] %s\n' "$*" >&2; }
die() { echo "imports-bench: $*" >&2; exit 2; }

command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v curl >/dev/null 2>&1 || die "curl is required"

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/liaison"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x $BIN ]] || die "no release binary at $BIN"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-imports-bench.XXXXXX")
SERVER_PID=
PG_DB=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
drop_pg() {
  [[ -z $PG_DB ]] || psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  PG_DB=
}
cleanup() { stop_server; drop_pg; rm -rf "$DIR"; }
trap cleanup EXIT

export LIAISON_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
export LIAISON_BIND="127.0.0.1:$PORT"
export LIAISON_RATE_LIMIT_READS=${LIAISON_RATE_LIMIT_READS:-1000000000/hour}
export LIAISON_RATE_LIMIT_WRITES=${LIAISON_RATE_LIMIT_WRITES:-1000000000/hour}
export RUST_LOG=warn

log "writing $FAMILIES families and $((FAMILIES * 3 / 2)) guardians and students"
python3 "$HERE/imports_gen.py" "$DIR/data" "$FAMILIES"

source "$HERE/ceiling_lib.sh"
run_ceiling "$ROOT" "$DIR"

# POST a file; prints "seconds http_status".
import() { # kind format
  local kind=$1 format=$2 type
  [[ $format = csv ]] && type=text/csv || type=application/x-ndjson
  curl -s -o "$DIR/answer.json" -w '%{time_total} %{http_code}\n' -X POST \
    -H "authorization: Bearer $TOKEN" -H "content-type: $type" \
    --data-binary "@$DIR/data/$kind.$format" "$HOST/v1/imports/$kind"
}

RESULTS=()
for backend in $BACKENDS; do
  for format in $FORMATS; do
    if [[ $backend = sqlite ]]; then
      export DATABASE_URL="sqlite://$DIR/bench-$format.db"
      target=5
    else
      PG_DB="liaison_imports_bench_$$"
      psql -q "$PG_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
      export DATABASE_URL="${PG_URL%/*}/$PG_DB"
      target=15
    fi
    "$BIN" serve >"$DIR/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -sf "$HOST/healthz" >/dev/null && break; sleep 0.1; done
    TOKEN=$("$BIN" token --role integration --school "$SCHOOL" --ttl 2h)
    for step in families guardians students unchanged; do
      kind=$step
      [[ $step = unchanged ]] && kind=families
      read -r secs status < <(import "$kind" "$format")
      rows=$(wc -l <"$DIR/data/$kind.ndjson")
      counts=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("created=%s updated=%s unchanged=%s failed=%s" % (r.get("created"), r.get("updated"), r.get("unchanged"), r.get("failed")))' "$DIR/answer.json" 2>/dev/null || echo "?")
      per=$(python3 -c "print('%.2f' % ($secs * 100000 / $rows))")
      if [[ $step = unchanged ]]; then goal="< 3 s"; else goal="< $target s per 100k"; fi
      RESULTS+=("$backend $format $step rows=$rows status=$status seconds=$secs per_100k=$per target($goal) $counts")
      log "${RESULTS[-1]}"
    done
    hwm=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")
    RESULTS+=("$backend $format peak_rss(VmHWM)=$hwm target(< 100 MiB)")
    log "${RESULTS[-1]}"
    stop_server
    [[ $backend = postgres ]] && drop_pg
  done
done

echo "bulk imports ($FAMILIES families, $((FAMILIES * 3 / 2)) guardians and students):"
printf '  %s\n' "${RESULTS[@]}"
if [[ -n $CEILING_OUT ]]; then
  echo "ceiling (same run):"
  sed 's/^/  /' <<<"$CEILING_OUT"
fi
