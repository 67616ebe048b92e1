#pragma once
// The adapter contract: mean_average_precision computed through any adapter, on one seeded
// problem, equals the naive reference for every average and both empty-class policies.
//
// An adapter is a class template over the score type T holding its own storage:
//   template <class T> struct my_adapter {
//     using label_type = ...;                     // element type of the labels it holds
//     explicit my_adapter(const mlr_test::contract_problem& p);
//     auto scores() const;                        // anything mean_average_precision accepts
//     auto labels() const;
//   };
// and a test runs mlr_test::check_contract<my_adapter<T>>().
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "support/naive_ap.hpp"
#include "mlr/metrics/average_precision.hpp"

namespace mlr_test {

// 257 x 19, row-major. Scores are multiples of 1/16 in [-3, 3] (many ties, exact in float).
// Labels are canonical int8: about 8% ignored (-1); class 5 has no positive, class 11 no negative.
struct contract_problem {
  static constexpr std::ptrdiff_t rows = 257, cols = 19;
  static constexpr std::ptrdiff_t no_positive_class = 5, no_negative_class = 11;
  std::vector<double> scores;
  std::vector<std::int8_t> labels;

  static const contract_problem& get() {
    static const contract_problem p = make();
    return p;
  }

  double score(std::ptrdiff_t i, std::ptrdiff_t j) const { return scores[static_cast<std::size_t>(i * cols + j)]; }
  std::int8_t label(std::ptrdiff_t i, std::ptrdiff_t j) const { return labels[static_cast<std::size_t>(i * cols + j)]; }

 private:
  static contract_problem make() {
    std::mt19937_64 rng(20240611);  // raw engine output only: the same numbers on every platform
    auto uniform = [&](std::uint64_t n) { return rng() % n; };
    contract_problem p;
    for (std::ptrdiff_t i = 0; i < rows; ++i) {
      for (std::ptrdiff_t j = 0; j < cols; ++j) {
        const std::uint64_t positive_per_mille = 50 + 30 * static_cast<std::uint64_t>(j);
        int label = uniform(1000) < positive_per_mille ? 1 : 0;
        if (j == no_positive_class) label = 0;
        if (j == no_negative_class) label = 1;
        if (uniform(100) < 8) label = -1;
        // Positives score higher on average, with a wide overlap.
        const auto k = static_cast<int>(uniform(33)) - 20 + (label == 1 ? 12 : 0);
        p.scores.push_back(static_cast<double>(k) / 16.0);
        p.labels.push_back(static_cast<std::int8_t>(label));
      }
    }
    return p;
  }
};

// The problem's label as element type L: the same value for signed integers and floating point;
// for bool and uint8 (binary labels, nothing ignored) ignored entries become negatives.
template <class L>
L label_as(std::int8_t canonical) {
  if constexpr (std::is_same_v<L, bool>) return canonical == 1;
  else if constexpr (std::is_unsigned_v<L>) return static_cast<L>(canonical == 1 ? 1 : 0);
  else return static_cast<L>(canonical);
}

// The naive reference for labels of type L (computed once per label kind).
template <class L>
const naive::map_reference& reference_for() {
  static const naive::map_reference ref = [] {
    const contract_problem& p = contract_problem::get();
    std::vector<int> labels;
    for (const std::int8_t l : p.labels) {
      const L converted = label_as<L>(l);
      labels.push_back(converted == L(1) ? 1 : (converted == L(0) ? 0 : -1));
    }
    return naive::map_reference(p.rows, p.cols, p.scores, labels);
  }();
  return ref;
}

// A row-major N x C problem copied into a buffer of `size` elements where element (i, j) sits
// at offset + i * row_stride + j * col_stride; every other element is `padding`, a value an
// algorithm must never read (NaN scores, invalid labels).
template <class T, class Get>
std::vector<T> strided_copy(Get get, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride,
                            std::ptrdiff_t offset, std::size_t size, T padding) {
  std::vector<T> out(size, padding);
  for (std::ptrdiff_t i = 0; i < contract_problem::rows; ++i)
    for (std::ptrdiff_t j = 0; j < contract_problem::cols; ++j)
      out[static_cast<std::size_t>(offset + i * row_stride + j * col_stride)] = get(i, j);
  return out;
}

template <class T>
auto score_getter() {
  return [](std::ptrdiff_t i, std::ptrdiff_t j) { return static_cast<T>(contract_problem::get().score(i, j)); };
}
template <class L>
auto label_getter() {
  return [](std::ptrdiff_t i, std::ptrdiff_t j) { return label_as<L>(contract_problem::get().label(i, j)); };
}

template <class T>
inline constexpr T nan_padding = std::numeric_limits<T>::quiet_NaN();
// A label no encoding accepts (bool has none: any bool read by mistake changes the result instead).
template <class L>
inline constexpr L invalid_label = static_cast<L>(7);

inline bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= 1e-12;
}

template <class Adapter>
void check_contract() {
  const Adapter adapter(contract_problem::get());
  const naive::map_reference& ref = reference_for<typename Adapter::label_type>();
  // The problem exercises what it claims to.
  REQUIRE(std::isnan(ref.per_class[contract_problem::no_positive_class]));
  if constexpr (std::is_signed_v<typename Adapter::label_type>)
    REQUIRE(ref.per_class[contract_problem::no_negative_class] == 1.0);

  for (const mlr::average average : {mlr::average::macro, mlr::average::micro, mlr::average::weighted,
                                     mlr::average::samples, mlr::average::none}) {
    for (const mlr::empty_class policy : {mlr::empty_class::zero, mlr::empty_class::exclude}) {
      INFO("average " << mlr::to_string(average) << ", empty_class " << mlr::to_string(policy));
      const auto r = mlr::mean_average_precision(adapter.scores(), adapter.labels(),
                                                 mlr::ap_options{.average = average, .empty_class = policy});
      const double expected = ref.expected(average, policy);
      INFO("value " << r.value << ", expected " << expected);
      CHECK(same_value(r.value, expected));
      REQUIRE(r.per_class.size() == ref.per_class.size());
      CHECK(r.positives == ref.positives);
      for (std::size_t c = 0; c < ref.per_class.size(); ++c) {
        INFO("class " << c << ": " << r.per_class[c] << ", expected " << ref.per_class[c]);
        CHECK(same_value(r.per_class[c], ref.per_class[c]));
      }
    }
  }
}

}  // namespace mlr_test
