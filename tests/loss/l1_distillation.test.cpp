#include "mlr/loss/l1_distillation.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "loss/support.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/core/tensor.hpp"

using mlr::index_t;

TEST_CASE("l1_distillation: value and gradient", "[loss][l1]") {
  const std::vector<double> s{1, 2, 3, -4, 0.5, 6};
  const std::vector<double> t{0, 2, 5, -1, 1, 6.5};
  const auto r = mlr::l1_distillation(mlr::make_view(s.data(), {2, 3}), mlr::make_view(t.data(), {2, 3}));
  CHECK(r.value == Approx((1 + 0 + 2 + 3 + 0.5 + 0.5) / 6.0).epsilon(1e-15));
  const std::vector<double> g{1.0 / 6, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6};  // sign(0) = 0
  CHECK(mlr_test::to_vector(r.gradient.view()) == g);
  const auto sum = mlr::l1_distillation(mlr::make_view(s.data(), {2, 3}), mlr::make_view(t.data(), {2, 3}),
                                        {.reduction = mlr::reduction::sum});
  CHECK(sum.value == Approx(7.0).epsilon(1e-15));
  CHECK(sum.gradient(0, 0) == 1.0);
}

TEST_CASE("l1_distillation: finite differences, float, strided, threads", "[loss][l1]") {
  const index_t B = 4, D = 16;
  const auto s = mlr_test::uniform(B * D, -1, 1, 1);
  const auto t = mlr_test::uniform(B * D, -1, 1, 2);
  auto value = [&](const std::vector<double>& z) {
    return mlr::l1_distillation(mlr::make_view(z.data(), {B, D}), mlr::make_view(t.data(), {B, D})).value;
  };
  const auto r = mlr::l1_distillation(mlr::make_view(s.data(), {B, D}), mlr::make_view(t.data(), {B, D}));
  mlr_test::require_close(mlr_test::to_vector(r.gradient.view()), mlr_test::numeric_gradient(s, value), 1e-8);

  const index_t BB = 256, DD = 512;  // several tasks
  const auto big_s = mlr_test::uniform(BB * DD, -3, 3, 3), big_t = mlr_test::uniform(BB * DD, -3, 3, 4);
  const auto one = mlr::l1_distillation(mlr::make_view(big_s.data(), {BB, DD}), mlr::make_view(big_t.data(), {BB, DD}),
                                        {}, {.threads = 1});
  const auto many = mlr::l1_distillation(mlr::make_view(big_s.data(), {BB, DD}), mlr::make_view(big_t.data(), {BB, DD}),
                                         {}, {.threads = 4});
  CHECK(one.value == many.value);
  std::vector<float> fs(big_s.begin(), big_s.end()), ft(big_t.begin(), big_t.end());
  const auto f = mlr::l1_distillation(mlr::make_view(fs.data(), {BB, DD}), mlr::make_view(ft.data(), {BB, DD}));
  CHECK(f.value == Approx(one.value).epsilon(1e-6));
  // teacher transposed in memory
  std::vector<double> tt(t.size());
  for (index_t b = 0; b < B; ++b)
    for (index_t d = 0; d < D; ++d) tt[static_cast<std::size_t>(d * B + b)] = t[static_cast<std::size_t>(b * D + d)];
  std::vector<double> g(static_cast<std::size_t>(B * D));
  CHECK(mlr::l1_distillation(mlr::make_view(s.data(), {B, D}), mlr::make_view(tt.data(), {B, D}, mlr::column_major),
                             mlr::make_view(g.data(), {B, D})) == r.value);
  CHECK(g == mlr_test::to_vector(r.gradient.view()));
}

TEST_CASE("l1_distillation: rows across block boundaries equal the plain sums", "[loss][l1]") {
  const index_t B = 3, D = 517;  // two full blocks of 256 and a tail of 5
  const auto s = mlr_test::uniform(B * D, -2, 2, 21), t = mlr_test::uniform(B * D, -2, 2, 22);
  std::vector<double> g(static_cast<std::size_t>(2 * B * D));
  const auto gv = mlr::make_view(g.data(), {B, D}, {2 * D, 2});  // strided: the generic path
  const double strided = mlr::l1_distillation(mlr::make_view(s.data(), {B, D}), mlr::make_view(t.data(), {B, D}), gv,
                                              {.reduction = mlr::reduction::sum});
  const auto contiguous = mlr::l1_distillation(mlr::make_view(s.data(), {B, D}), mlr::make_view(t.data(), {B, D}),
                                               {.reduction = mlr::reduction::sum});
  double expected = 0;
  for (std::size_t k = 0; k < s.size(); ++k) expected += std::abs(s[k] - t[k]);
  CHECK(strided == Approx(expected).epsilon(1e-14));
  CHECK(contiguous.value == strided);
  CHECK(mlr_test::to_vector(gv) == mlr_test::to_vector(contiguous.gradient.view()));
  for (std::size_t k = 0; k < s.size(); ++k) CHECK(contiguous.gradient.data()[k] == (s[k] > t[k] ? 1.0 : -1.0));
}

TEST_CASE("l1_distillation: bad input", "[loss][l1]") {
  std::vector<double> s{1, 2, 3, 4}, t{1, 2, 3, 4};
  MLR_CHECK_ERROR(mlr::l1_distillation(mlr::make_view(s.data(), {2, 2}), mlr::make_view(t.data(), {1, 4})),
                  "teacher: expected shape (2, 2) (that of student), found (1, 4)");
  t[3] = -std::numeric_limits<double>::infinity();
  MLR_CHECK_ERROR(mlr::l1_distillation(mlr::make_view(s.data(), {2, 2}), mlr::make_view(t.data(), {2, 2})),
                  "teacher: expected finite values, found -inf at (1, 1)");
  s[0] = std::numeric_limits<double>::quiet_NaN();
  MLR_CHECK_ERROR(mlr::l1_distillation(mlr::make_view(s.data(), {2, 2}), mlr::make_view(t.data(), {2, 2})),
                  "student: expected finite values, found nan at (0, 0)");
}
