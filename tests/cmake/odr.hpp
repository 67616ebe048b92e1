#pragma once
// Included by two translation units linked into one program: any non-inline definition in
// mlr's headers would be a duplicate symbol at link time.
#include <cstdint>
#include <vector>

#include "mlr/mlr.hpp"
#ifdef MLR_ODR_HAS_EIGEN
#include "mlr/adapt/eigen.hpp"
#endif
#ifdef MLR_ODR_HAS_XTENSOR
#include "mlr/adapt/xtensor.hpp"
#endif
#ifdef MLR_ODR_HAS_DLPACK
#include "mlr/adapt/dlpack.hpp"
#endif

inline double odr_map() {
  const std::vector<double> s{.9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  return mlr::mean_average_precision(mlr::make_view(s.data(), {4, 3}), mlr::make_view(y.data(), {4, 3})).value;
}

double odr_a();
double odr_b();
