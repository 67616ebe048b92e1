// Misuse of the Eigen adapter that must not compile; MLR_CASE selects one. Each case is built by
// a CTest test expecting the static_assert sentence in the compiler's output.
#include <cstdint>

#include "mlr/adapt/eigen.hpp"
#include "mlr/metrics/average_precision.hpp"

void misuse() {
  Eigen::MatrixXf a(2, 2), b(2, 2);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> labels(2, 2);
#if MLR_CASE == 1  // an expression has no memory to view
  (void)mlr::as_view(a + b);
#elif MLR_CASE == 2  // nor does an algorithm accept one
  (void)mlr::mean_average_precision(a.array().exp().matrix(), labels);
#elif MLR_CASE == 3  // a const matrix gives only const views
  const Eigen::MatrixXf& c = a;
  (void)mlr::view_cast<float, 2>(c);
#elif MLR_CASE == 4  // a matrix is rank 2
  (void)mlr::view_cast<const float, 1>(a);
#endif
  (void)labels;
  (void)b;
}
