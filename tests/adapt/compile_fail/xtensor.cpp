// Misuse of the xtensor adapter that must not compile; MLR_CASE selects one.
#include <cstdint>

#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "mlr/adapt/xtensor.hpp"
#include "mlr/metrics/average_precision.hpp"

void misuse() {
  xt::xtensor<float, 2> a = xt::zeros<float>({2, 2});
  xt::xtensor<std::int8_t, 2> labels = xt::zeros<std::int8_t>({2, 2});
#if MLR_CASE == 1  // an expression has no memory to view
  (void)mlr::as_view(a + a);
#elif MLR_CASE == 2  // nor does an algorithm accept one
  (void)mlr::mean_average_precision(xt::sin(a), labels);
#elif MLR_CASE == 3  // a view picking indices is not strided
  auto k = xt::view(a, xt::keep(0, 1), xt::all());
  (void)mlr::as_view(k);
#elif MLR_CASE == 4  // a const tensor gives only const views
  const xt::xtensor<float, 2>& c = a;
  (void)mlr::view_cast<float, 2>(c);
#elif MLR_CASE == 5  // the static rank is checked statically
  (void)mlr::view_cast<const float, 1>(a);
#endif
  (void)labels;
}
