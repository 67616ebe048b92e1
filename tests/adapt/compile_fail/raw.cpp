// Misuse of the raw adapters that must not compile; MLR_CASE selects one.
#include <vector>

#include "mlr/adapt/raw.hpp"

void misuse() {
#if MLR_CASE == 1  // std::vector<bool> has no bool elements
  std::vector<bool> labels(4);
  (void)mlr::as_view(labels);
#endif
}
