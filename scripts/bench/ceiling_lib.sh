# Sourced by the benchmarks: runs the machine's ceiling (../shared/bench/ceiling.sh beside the
# checkout, or beside the main checkout from a git worktree; BENCH_CEILING names another script
# or "skip") in the same run, so that every figure can be read as a ratio to it.
#
# run_ceiling ROOT DIR   sets CEILING_OUT to the ceiling's table, empty when skipped or failed;
#                        its errors go to DIR/ceiling.err. Needs a `log` function.
run_ceiling() {
  local root=$1 dir=$2 common
  local ceiling=${BENCH_CEILING:-$root/../shared/bench/ceiling.sh}
  if [[ $ceiling != skip && ! -e $ceiling ]]; then
    common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    [[ -z $common ]] || ceiling="$(dirname "$common")/../shared/bench/ceiling.sh"
  fi
  CEILING_OUT=
  [[ $ceiling != skip ]] || return 0
  if [[ -x $ceiling ]]; then
    log "ceiling: $ceiling"
    CEILING_OUT=$(env -u CARGO_TARGET_DIR "$ceiling" 2>"$dir/ceiling.err") ||
      { log "WARNING: the ceiling failed"; tail -n 20 "$dir/ceiling.err" >&2; CEILING_OUT=; }
  else
    log "WARNING: no ceiling script at $ceiling"
  fi
}
