// A downstream program: mAP on an Eigen matrix through the installed or embedded mlr.
#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <mlr/adapt/eigen.hpp>
#include <mlr/mlr.hpp>

int main() {
  Eigen::MatrixXd scores(4, 3);
  scores << .9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9;
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> labels(4, 3);
  labels << 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0;
  const auto map = mlr::mean_average_precision(scores, labels);
  std::printf("mlr %d.%d.%d: mAP %.6f\n", mlr::version_major, mlr::version_minor, mlr::version_patch, map.value);
  return std::abs(map.value - 11.0 / 18.0) < 1e-12 ? 0 : 1;
}
