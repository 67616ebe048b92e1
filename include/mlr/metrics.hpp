#pragma once
// The metrics area.
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/lrap.hpp"
#include "mlr/metrics/top_k.hpp"
#include "mlr/metrics/presets.hpp"
#include "mlr/metrics/accumulator.hpp"
#include "mlr/metrics/binned_accumulator.hpp"
