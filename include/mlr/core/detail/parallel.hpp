#pragma once
// A minimal fork-join loop: tasks handed out dynamically to up to `threads` workers, the caller
// being one of them. Exceptions from workers are rethrown in the caller.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mlr::detail {

// Calls f(task, worker) for task in [0, tasks), worker in [0, workers).
template <class F>
void parallel_for(std::size_t tasks, unsigned workers, F&& f) {
  workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, workers), tasks));
  if (workers <= 1) {
    for (std::size_t t = 0; t < tasks; ++t) f(t, 0u);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&](unsigned worker) {
    try {
      for (std::size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) f(t, worker);
    } catch (...) {
      const std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next.store(tasks, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace mlr::detail
