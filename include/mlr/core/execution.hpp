#pragma once
// The trailing execution environment of heavy algorithms.
#include <algorithm>
#include <functional>
#include <thread>

namespace mlr {

struct execution_env {
  // Worker threads; 0 means one per hardware thread. Results never depend on it: every
  // algorithm reduces in a fixed order.
  unsigned threads = 0;

  // Optional progress report of one call: progress(fraction) with fraction = k / 100, k rising
  // from 1 to 100 (whole percents only, so at most 100 calls; 1 once the work is done). It runs on
  // the calling thread only, between tasks, and cannot change any result; an exception it throws
  // ends the call and propagates. Long passes report: the AP kernels, top-k, threshold metrics.
  std::function<void(double)> progress = nullptr;

  unsigned thread_count() const noexcept {
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  }
};

}  // namespace mlr
