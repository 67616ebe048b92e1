#pragma once
// The benchmark data shared by the metric benchmarks: one generated dataset alive at a time, its
// views, and the items/s and bytes/s counters.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "mlr/adapt/raw.hpp"
#include "support/synthetic.hpp"

namespace mlr_bench {

// One dataset alive at a time (NUS-WIDE GZSL in float64 alone is 976 MB): benchmarks are
// registered grouped by shape and dtype, so each matrix is generated once.
template <class T>
const dataset<T>& data_for(const shape& s) {
  static std::string key;
  static std::shared_ptr<void> slot;
  const std::string want = std::string(s.name) + (sizeof(T) == 4 ? "/f32" : "/f64");
  if (key != want) {
    slot.reset();
    slot = std::make_shared<dataset<T>>(mlr_bench::make_dataset<T>(s));
    key = want;
  }
  return *static_cast<const dataset<T>*>(slot.get());
}

template <class T>
auto views(const dataset<T>& d) {
  return std::pair{mlr::make_view(d.scores.data(), {d.dims.rows, d.dims.cols}),
                   mlr::make_view(d.labels.data(), {d.dims.rows, d.dims.cols})};
}

template <class T>
void set_rates(benchmark::State& state, const dataset<T>& d) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d.entries()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(d.input_bytes()));
}

}  // namespace mlr_bench
