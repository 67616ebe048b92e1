#pragma once
// A minimal fork-join loop: tasks handed out dynamically to up to `threads` workers, the caller
// being one of them. Exceptions from workers are rethrown in the caller. Optionally the loop
// reports its progress to execution_env::progress, from the caller only.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
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

// The progress of one call, passed to its hook (execution_env::progress) in whole percents only:
// at most 100 calls, whatever the number of loops and tasks. Used from the calling thread only.
class progress_meter {
 public:
  explicit progress_meter(const std::function<void(double)>& hook) noexcept : hook_(hook ? &hook : nullptr) {}
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;

  bool active() const noexcept { return hook_ != nullptr; }

  void report(double fraction) {
    const int percent = static_cast<int>(std::min(1.0, fraction) * 100.0 + 1e-9);  // 0.29 * 100 is 28.999...
    if (hook_ == nullptr || percent <= reported_) return;
    reported_ = percent;
    (*hook_)(percent / 100.0);
  }

 private:
  const std::function<void(double)>* hook_;
  int reported_ = 0;
};

// The share [begin, end] of a call's progress that one loop (or one kernel) covers; without a
// meter, nothing is reported.
struct progress_span {
  progress_meter* meter = nullptr;
  double begin = 0.0, end = 1.0;

  bool active() const noexcept { return meter != nullptr && meter->active(); }
  void at(double fraction) const {
    if (meter) meter->report(begin + (end - begin) * fraction);
  }
  // The share [from, to] (fractions of this span) of this span.
  progress_span part(double from, double to) const noexcept {
    return {meter, begin + (end - begin) * from, begin + (end - begin) * to};
  }
};

// parallel_for that advances `progress` as tasks complete (reported by worker 0, the caller,
// after each of its tasks; the span's end once every task is done).
template <class F>
void parallel_for(std::size_t tasks, unsigned workers, F&& f, const progress_span& progress) {
  if (!progress.active()) return parallel_for(tasks, workers, f);
  std::atomic<std::size_t> done{0};
  parallel_for(tasks, workers, [&](std::size_t t, unsigned w) {
    f(t, w);
    const std::size_t now = done.fetch_add(1, std::memory_order_relaxed) + 1;
    if (w == 0) progress.at(static_cast<double>(now) / static_cast<double>(tasks));
  });
  progress.at(1.0);
}

}  // namespace mlr::detail
