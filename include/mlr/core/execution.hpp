#pragma once
// The trailing execution environment of heavy algorithms.
#include <algorithm>
#include <thread>

namespace mlr {

struct execution_env {
  // Worker threads; 0 means one per hardware thread. Results never depend on it: every
  // algorithm reduces in a fixed order.
  unsigned threads = 0;

  unsigned thread_count() const noexcept {
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  }
};

}  // namespace mlr
