#!/usr/bin/env bash
# Builds the fuzz targets (the .npy/.csv loaders; the accumulator states) into DIR, writes their
# seed corpora, fuzzes each for SECONDS, and exits non-zero on any crash, sanitizer report, leak,
# timeout or out-of-memory (libFuzzer's own status).
# Usage: tests/fuzz/run.sh DIR SECONDS      (from anywhere; needs clang++-14 and /usr/bin/python3 with numpy)
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 DIR SECONDS" >&2
  exit 64
fi
dir=$1
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# fuzz NAME SOURCE CORPUS_SCRIPT [libFuzzer options...]: builds DIR/NAME_fuzz, writes its seeds,
# fuzzes for SECONDS; new inputs go to DIR/NAME/corpus (kept across runs), DIR/NAME/seeds is read only.
failed=0
fuzz() {
  local name=$1 source=$2 corpus_script=$3
  shift 3
  local work="$dir/$name"
  mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts"
  "${CXX:-clang++-14}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -std=c++20 -O1 -g -w -I "$root/include" -I "$root/apps/mlr-eval" "$here/$source" -o "$dir/${name}_fuzz"
  /usr/bin/python3 "$here/$corpus_script" "$work/seeds"
  local log="$work/fuzz.log" status=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$dir/${name}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 "$@" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$work/seeds" >"$log" 2>&1 || status=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then  # a crash skips the final stats: take the last progress line
    execs=$(grep -o '#[0-9]\+' "$log" | tail -n 1 | tr -d '#')
  fi
  echo "$name fuzz: ${execs:-0} executions in ${seconds} s (log $log)"
  if [ "$status" -ne 0 ]; then
    echo "$name fuzz: FAILED (libFuzzer exit status $status); reproducer(s) in $work/artifacts:" >&2
    ls -1 "$work/artifacts" >&2 || true
    grep -m 1 -A 40 -E '^==[0-9]+==ERROR|runtime error|\*\*\* mlr fuzz|deadly signal|out-of-memory|timeout' "$log" >&2 || tail -n 40 "$log" >&2
    failed=1
  else
    echo "$name fuzz: no crash"
  fi
}

fuzz loaders loaders.fuzz.cpp make_corpus.py -max_len=16384 -dict="$here/loaders.dict"
fuzz states states.fuzz.cpp make_state_corpus.py -max_len=4096
exit "$failed"
