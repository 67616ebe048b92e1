#pragma once
// Everything in mlr that needs no third-party library. Adapters for Eigen, xtensor, DLPack and
// libtorch are included on their own: mlr/adapt/eigen.hpp, xtensor.hpp, dlpack.hpp, torch.hpp.
#include "mlr/adapt/raw.hpp"
#include "mlr/core.hpp"
#include "mlr/loss.hpp"
#include "mlr/metrics.hpp"
#include "mlr/scoring.hpp"
#include "mlr/refine.hpp"
