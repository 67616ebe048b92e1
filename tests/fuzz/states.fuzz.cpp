// libFuzzer target over the accumulators' deserialize(): any bytes are either rejected with
// mlr::error or give an accumulator that computes, and whose serialize() gives back the same
// bytes (the layout has exactly one encoding of each state).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/metrics/accumulator.hpp"
#include "mlr/metrics/binned_accumulator.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "*** mlr fuzz: %s\n", what);
  std::abort();
}

template <class Accumulator, class Compute>
void round_trip(std::span<const std::byte> bytes, Compute compute) {
  try {
    const Accumulator a = Accumulator::deserialize(bytes);
    const std::vector<std::byte> again = a.serialize();
    if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin()))
      fail("a deserialized state serializes to other bytes");
    compute(a);
  } catch (const mlr::error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto exact = [](const auto& a) {
    if (a.rows() > 0)
      for (auto avg : {mlr::average::macro, mlr::average::micro, mlr::average::samples})
        for (auto method : {mlr::ap_method::step, mlr::ap_method::ranked})
          (void)a.compute({.method = method, .average = avg, .encoding = a.encoding()});
  };
  auto binned = [](const auto& a) {
    for (auto avg : {mlr::average::macro, mlr::average::micro, mlr::average::weighted}) (void)a.compute(avg);
    (void)a.counts();
  };
  round_trip<mlr::ap_accumulator<float>>(bytes, exact);
  round_trip<mlr::ap_accumulator<double>>(bytes, exact);
  round_trip<mlr::binned_ap_accumulator<float>>(bytes, binned);
  round_trip<mlr::binned_ap_accumulator<double>>(bytes, binned);
  return 0;
}
