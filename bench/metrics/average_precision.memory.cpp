// Extra peak resident memory of one mlr::mean_average_precision call, in a fresh process.
//
//   mlr_bench_ap_memory [shape=NUS-WIDE-GZSL] [dtype=f32|f64] [average=macro] [threads=2]
//
// The input is generated in place (no temporaries), so right before the call the process's
// peak RSS equals its current RSS. Two measurements of the call's peak are printed, as JSON:
//   - getrusage(RUSAGE_SELF).ru_maxrss after the call minus ru_maxrss before it;
//   - VmHWM from /proc/self/status after the call minus VmRSS before it, having reset VmHWM to the
//     current RSS by writing "5" to /proc/self/clear_refs (Linux >= 4.0; absent elsewhere).
// "extra" is the larger of the two; "fraction" = extra / input bytes (scores + int8 labels).
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "support/synthetic.hpp"

namespace {

long maxrss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // KiB on Linux
}

long status_kib(const char* field) {  // VmRSS / VmHWM from /proc/self/status, -1 if unavailable
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::stol(line.substr(n + 1));
  return -1;
}

bool reset_hwm() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

template <class T>
int run(const mlr_bench::shape& s, mlr::average avg, unsigned threads) {
  const auto entries = static_cast<std::size_t>(s.rows * s.cols);
  // Default-initialised arrays: no zero-fill pass, pages are touched once by the generator.
  std::unique_ptr<T[]> scores(new T[entries]);
  std::unique_ptr<std::int8_t[]> labels(new std::int8_t[entries]);
  mlr_bench::fill(s, 2024, scores.get(), labels.get());
  const double input_bytes = static_cast<double>(entries * (sizeof(T) + 1));

  const auto S = mlr::make_view(static_cast<const T*>(scores.get()), {s.rows, s.cols});
  const auto Y = mlr::make_view(static_cast<const std::int8_t*>(labels.get()), {s.rows, s.cols});

  const long rss_before = status_kib("VmRSS");
  const long maxrss_before = maxrss_kib();
  const bool hwm_ok = reset_hwm();
  const long hwm_before = status_kib("VmHWM");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = mlr::mean_average_precision(S, Y, {.average = avg}, {}, {.threads = threads});
  const auto t1 = std::chrono::steady_clock::now();
  const long maxrss_after = maxrss_kib();
  const long hwm_after = status_kib("VmHWM");

  const long extra_rusage = maxrss_after - maxrss_before;
  const long extra_hwm = hwm_ok && hwm_before > 0 ? hwm_after - rss_before : -1;
  const long extra = std::max(extra_rusage, extra_hwm);
  std::printf(
      "{\"shape\": \"%s\", \"rows\": %td, \"cols\": %td, \"dtype\": \"%s\", \"average\": \"%s\", "
      "\"threads\": %u, \"input_bytes\": %.0f, \"rss_before_kib\": %ld, \"maxrss_before_kib\": %ld, "
      "\"maxrss_after_kib\": %ld, \"hwm_reset\": %s, \"hwm_after_kib\": %ld, "
      "\"extra_rusage_kib\": %ld, \"extra_hwm_kib\": %ld, \"extra_bytes\": %.0f, \"fraction\": %.6f, "
      "\"seconds\": %.4f, \"value\": %.12f}\n",
      s.name, s.rows, s.cols, sizeof(T) == 4 ? "f32" : "f64", std::string(mlr::to_string(avg)).c_str(),
      threads, input_bytes, rss_before, maxrss_before, maxrss_after, hwm_ok ? "true" : "false", hwm_after,
      extra_rusage, extra_hwm, static_cast<double>(extra) * 1024.0, static_cast<double>(extra) * 1024.0 / input_bytes,
      std::chrono::duration<double>(t1 - t0).count(), r.value);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string shape_name = argc > 1 ? argv[1] : "NUS-WIDE-GZSL";
  const std::string dtype = argc > 2 ? argv[2] : "f32";
  const mlr::average avg = mlr::parse_policy<mlr::average>(argc > 3 ? argv[3] : "macro");
  const unsigned threads = argc > 4 ? static_cast<unsigned>(std::stoul(argv[4])) : 2u;
  for (const auto& s : mlr_bench::all_shapes) {
    if (shape_name != s.name) continue;
    if (dtype == "f32") return run<float>(s, avg, threads);
    if (dtype == "f64") return run<double>(s, avg, threads);
    std::fprintf(stderr, "dtype: expected f32 or f64, found '%s'\n", dtype.c_str());
    return 2;
  }
  std::fprintf(stderr, "shape: expected VOC, COCO or NUS-WIDE-GZSL, found '%s'\n", shape_name.c_str());
  return 2;
}
