#pragma once
// The metrics area.
#include "mlr/metrics/average_precision.hpp"
