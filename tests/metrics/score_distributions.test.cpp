// Step AP on score distributions that stress the kernel's bucket table: logits, clusters with
// outliers (the searched ladders), ranges near the float limits, signed zeros, subnormals,
// constant columns. Compared with the naive definition (tests/support/naive_ap.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "support/naive_ap.hpp"

namespace {

template <class T>
void check_against_naive(const std::function<T(std::mt19937_64&, bool positive)>& draw, std::uint64_t seed) {
  const std::ptrdiff_t n = 400, c = 9;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> label(-1, 6);
  std::vector<T> scores(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> labels(scores.size());
  for (std::size_t e = 0; e < scores.size(); ++e) {
    const int l = label(rng);
    labels[e] = static_cast<std::int8_t>(l <= 1 ? l : 0);  // about 1/8 positive, 1/8 ignored
    scores[e] = draw(rng, labels[e] == 1);
  }
  const std::vector<double> as_double(scores.begin(), scores.end());
  const std::vector<int> as_int(labels.begin(), labels.end());
  const mlr_test::naive::map_reference reference(n, c, as_double, as_int);
  for (auto average : {mlr::average::none, mlr::average::micro, mlr::average::samples}) {
    const auto r = mlr::mean_average_precision(mlr::make_view(scores.data(), {n, c}),
                                               mlr::make_view(labels.data(), {n, c}), {.average = average});
    for (std::size_t j = 0; j < static_cast<std::size_t>(c); ++j) {
      INFO("class " << j);
      if (std::isnan(reference.per_class[j])) CHECK(std::isnan(r.per_class[j]));
      else CHECK_THAT(r.per_class[j], Catch::Matchers::WithinAbs(reference.per_class[j], 1e-12));
    }
    if (average == mlr::average::micro) CHECK_THAT(r.value, Catch::Matchers::WithinAbs(reference.micro, 1e-12));
    if (average == mlr::average::samples)
      CHECK_THAT(r.value, Catch::Matchers::WithinAbs(mlr_test::naive::policy_mean(reference.per_sample, mlr::empty_class::zero), 1e-12));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("step AP on stressing score distributions equals the definition", "[metrics][ap][kernel]", float,
                   double) {
  using T = TestType;
  SECTION("logits: both signs, dense centre") {
    check_against_naive<T>([](auto& rng, bool p) { return static_cast<T>(std::normal_distribution<double>(p ? 1.5 : 0.0, 3.0)(rng)); }, 1);
  }
  SECTION("a tight cluster with far outliers: buckets cannot split it, the ladder is searched") {
    check_against_naive<T>([](auto& rng, bool) {
      const double u = std::uniform_real_distribution<double>(0, 1)(rng);
      return static_cast<T>(u < 0.02 ? 1e6 * u : 0.5 + 1e-4 * u);
    }, 2);
  }
  SECTION("ranges near the limits of the type") {
    check_against_naive<T>([](auto& rng, bool) {
      const double u = std::uniform_real_distribution<double>(-1, 1)(rng);
      return static_cast<T>(u * 0.9) * std::numeric_limits<T>::max();
    }, 3);
  }
  SECTION("signed zeros, subnormals and heavy ties") {
    check_against_naive<T>([](auto& rng, bool) {
      const T choices[] = {T(-0.0), T(0.0), std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
                           std::numeric_limits<T>::min(), T(1)};
      return choices[std::uniform_int_distribution<int>(0, 5)(rng)];
    }, 4);
  }
  SECTION("constant scores") {
    check_against_naive<T>([](auto&, bool) { return T(0.25); }, 5);
  }
}
