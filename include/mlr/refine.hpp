#pragma once
// The refinement area: TagCLIP's region boxes, DMAR, local scores, class-wise reidentification
// and the whole pipeline.
#include "mlr/refine/grid.hpp"
#include "mlr/refine/boxes.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/local.hpp"
#include "mlr/refine/cwr.hpp"
#include "mlr/refine/tagclip.hpp"
