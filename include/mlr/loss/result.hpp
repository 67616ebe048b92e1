#pragma once
// What the convenience overload of every loss returns: the value (accumulated in double) and the
// gradient with respect to the loss's input, shaped like it.
#include <cstddef>

#include "mlr/core/tensor.hpp"

namespace mlr {

template <class T, std::size_t Rank>
struct loss_result {
  double value = 0.0;
  tensor<T, Rank> gradient;
};

}  // namespace mlr
