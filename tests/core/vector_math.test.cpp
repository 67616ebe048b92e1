// The vectorisable exp and log against libm: exp within 2 ulp over the range the
// softmaxes use (max-subtracted arguments down to -708), exact at 0, 0 below -708; log within
// 1 ulp for every positive double.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "mlr/core/detail/vector_math.hpp"

TEST_CASE("exp_inplace is within 2 ulp of std::exp", "[exp]") {
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> wide(-708.0, 709.0), narrow(-40.0, 0.0);
  std::vector<double> x;
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? wide(gen) : narrow(gen));
  x.insert(x.end(), {0.0, -0.0, -1e-300, 1e-300, -708.0, 709.0, -0.5 * std::log(2.0), 0.5 * std::log(2.0)});
  std::vector<double> y = x;
  mlr::detail::exp_inplace(y.data(), static_cast<mlr::index_t>(y.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = std::exp(x[i]);
    const double ulp = std::nextafter(e, std::numeric_limits<double>::infinity()) - e;
    INFO("x = " << x[i]);
    REQUIRE(std::abs(y[i] - e) <= 2 * ulp);
  }
  std::vector<double> edge{-708.5, -1000.0, -std::numeric_limits<double>::infinity(), 710.0};
  mlr::detail::exp_inplace(edge.data(), 4);
  CHECK(edge[0] == 0.0);
  CHECK(edge[1] == 0.0);
  CHECK(edge[2] == 0.0);
  CHECK(std::isinf(edge[3]));
}

TEST_CASE("log_inplace is within 1 ulp of std::log", "[log]") {
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> exponent(-320.0, 308.0), near_one(0.5, 2.0);
  std::vector<double> x;
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? std::pow(10.0, exponent(gen)) : near_one(gen));
  x.insert(x.end(), {1.0, 2.0, 0.5, std::sqrt(2.0), std::nextafter(1.0, 2.0), std::nextafter(1.0, 0.0), 1e-8, 1e-6,
                     std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                     std::numeric_limits<double>::max()});
  std::vector<double> y = x;
  mlr::detail::log_inplace(y.data(), static_cast<mlr::index_t>(y.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double l = std::log(x[i]);
    const double ulp = std::abs(std::nextafter(l, std::numeric_limits<double>::infinity()) - l);
    INFO("x = " << x[i] << ", log " << l << ", got " << y[i]);
    REQUIRE(std::abs(y[i] - l) <= ulp);
  }
  CHECK(y[x.size() - 11] == 0.0);  // log 1 is exactly 0
}
