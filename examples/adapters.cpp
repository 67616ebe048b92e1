// The API reference's adapter examples, compiled and run by the tests. Exits non-zero if a
// result differs from the worked vector it shows (macro mAP 11/18 = 0.611111).
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "mlr/adapt/dlpack.hpp"
#include "mlr/adapt/eigen.hpp"
#include "mlr/adapt/xtensor.hpp"
#include "mlr/mlr.hpp"

namespace {
int failures = 0;
void expect(double value, double expected, const char* what) {
  if (std::abs(value - expected) > 1e-12) {
    std::printf("%s: %.17g, expected %.17g\n", what, value, expected);
    ++failures;
  }
}
}  // namespace

int main() {
  {
    // example-begin api-eigen
    // Any Eigen object with memory: Matrix, Map (any strides), Ref, Block, row- or column-major.
    Eigen::MatrixXd scores(4, 3);  // column-major: no copy, the view carries the strides
    scores << .9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9;
    Eigen::Matrix<std::int8_t, 4, 3, Eigen::RowMajor> labels;
    labels << 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0;
    auto map = mlr::mean_average_precision(scores, labels);  // or mlr::as_view(scores)
    // map.value == 11/18: class 2 has no positives, its AP is NaN and counts as 0
    // example-end api-eigen
    expect(map.value, 11.0 / 18.0, "eigen");
    // The first two classes only, through a Block: a strided view of the same memory.
    expect(mlr::mean_average_precision(scores.leftCols(2), labels.leftCols(2)).value, 11.0 / 12.0, "eigen block");
  }
  {
    // example-begin api-xtensor
    // xtensor containers and strided views (a lazy expression must be evaluated first: xt::eval).
    xt::xtensor<float, 2> scores = {{.9f, .2f, .1f}, {.3f, .8f, .7f}, {.6f, .4f, .2f}, {.1f, .5f, .9f}};
    xt::xtensor<std::int64_t, 2> labels = {{1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {0, 0, 0}};
    auto every_other_row = mlr::mean_average_precision(xt::view(scores, xt::range(0, 4, 2), xt::all()),
                                                       xt::view(labels, xt::range(0, 4, 2), xt::all()));
    // example-end api-xtensor
    expect(every_other_row.per_class[0], 1.0, "xtensor view");
  }
  {
    // example-begin api-dlpack
    // A DLPack tensor's dtype, rank and device are known at run time: ask for the view you
    // need (mlr::error if the tensor is something else), or dispatch on its dtype.
    std::vector<double> data{.9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9};
    std::int64_t shape[2] = {4, 3};
    DLManagedTensor tensor{};
    tensor.dl_tensor = {data.data(), {kDLCPU, 0}, 2, {kDLFloat, 64, 1}, shape, nullptr, 0};
    std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
    double value = mlr::visit_dtype(mlr::dlpack_dtype(tensor), [&]<class T>(std::type_identity<T>) {
      if constexpr (std::is_floating_point_v<T>)
        return mlr::mean_average_precision(mlr::view_cast<const T, 2>(tensor), mlr::make_view(y.data(), {4, 3})).value;
      else
        throw mlr::error("scores: expected float32 or float64");
      return 0.0;
    });
    // example-end api-dlpack
    expect(value, 11.0 / 18.0, "dlpack");
  }
  {
    // example-begin api-options
    std::vector<float> scores{.9f, .2f, .1f, .3f, .8f, .7f, .6f, .4f, .2f, .1f, .5f, .9f};
    std::vector<std::int8_t> labels{1, -1, -1, -1, 1, -1, 1, 1, -1, -1, -1, -1};  // MKT-style file
    auto S = mlr::make_view(scores.data(), {4, 3});
    auto Y = mlr::make_view(labels.data(), {4, 3});
    auto r = mlr::mean_average_precision(S, Y,
                                         {.average = mlr::average::macro,
                                          .empty_class = mlr::empty_class::exclude,  // torchmetrics <= 1.3
                                          .encoding = mlr::label_encoding::signed_zero_ignored},
                                         /*classes=*/{}, {.threads = 2});
    // r.value == 11/12: the class without positives is left out of the mean
    // example-end api-options
    expect(r.value, 11.0 / 12.0, "options");
  }
  {
    // example-begin api-errors
    std::vector<double> scores{.9, .2, NAN, .3};
    std::vector<std::int8_t> labels{1, 0, 0, 1};
    try {
      mlr::mean_average_precision(mlr::make_view(scores.data(), {2, 2}), mlr::make_view(labels.data(), {2, 2}));
    } catch (const mlr::error& e) {
      std::puts(e.what());  // scores: expected finite values, found nan at (1, 0)
    }
    // example-end api-errors
  }
  if (failures == 0) std::puts("all adapter examples agree");
  return failures == 0 ? 0 : 1;
}
