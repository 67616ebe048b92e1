#pragma once
// The core area: views, the as_view customization point, errors, policies, execution.
#include "mlr/config.hpp"
#include "mlr/core/as_view.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/memory_space.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/version.hpp"
