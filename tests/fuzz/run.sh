#!/usr/bin/env bash
# Builds the loaders fuzz target into DIR, writes its seed corpus, fuzzes for SECONDS, and exits
# non-zero on any crash, sanitizer report, leak, timeout or out-of-memory (libFuzzer's own status).
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
mkdir -p "$dir/seeds" "$dir/corpus" "$dir/artifacts"
dir=$(cd "$dir" && pwd)

"${CXX:-clang++-14}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -std=c++20 -O1 -g -w -I "$root/include" -I "$root/apps/mlr-eval" \
  "$here/loaders.fuzz.cpp" -o "$dir/loaders_fuzz"
/usr/bin/python3 "$here/make_corpus.py" "$dir/seeds"

log="$dir/fuzz.log"
status=0
# New inputs go to DIR/corpus (kept across runs); DIR/seeds is read only.
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$dir/loaders_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=16384 \
  -dict="$here/loaders.dict" -artifact_prefix="$dir/artifacts/" -print_final_stats=1 \
  "$dir/corpus" "$dir/seeds" >"$log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ -z "$execs" ]; then  # a crash skips the final stats: take the last progress line
  execs=$(grep -o '#[0-9]\+' "$log" | tail -n 1 | tr -d '#')
fi
echo "loaders fuzz: ${execs:-0} executions in ${seconds} s (log $log)"
if [ "$status" -ne 0 ]; then
  echo "loaders fuzz: FAILED (libFuzzer exit status $status); reproducer(s) in $dir/artifacts:" >&2
  ls -1 "$dir/artifacts" >&2 || true
  grep -m 1 -A 40 -E '^==[0-9]+==ERROR|runtime error|\*\*\* mlr fuzz|deadly signal|out-of-memory|timeout' "$log" >&2 || tail -n 40 "$log" >&2
  exit 1
fi
echo "loaders fuzz: no crash"
