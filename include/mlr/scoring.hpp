#pragma once
// The scoring area: similarities, the DualCoOp head, MKT scores, TagCLIP coarse scores.
#include "mlr/scoring/workspace.hpp"
#include "mlr/scoring/region_similarity.hpp"
#include "mlr/scoring/dualcoop.hpp"
#include "mlr/scoring/mkt.hpp"
#include "mlr/scoring/tagclip_coarse.hpp"
