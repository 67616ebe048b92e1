#pragma once
// The loss area: each loss returns its value and its gradient with respect to its input.
#include "mlr/loss/asl.hpp"
#include "mlr/loss/asl_dual.hpp"
#include "mlr/loss/l1_distillation.hpp"
#include "mlr/loss/ranking.hpp"
