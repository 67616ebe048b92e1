#pragma once
// The two passes every AP flavour is computed from, without sorting the negatives.
//
// Pass 1 reads the labels in memory order and collects each group's positives, which become a
// ladder of distinct scores (detail/step_ap.hpp). Pass 2 counts every negative at its rank on its
// group's ladder. That is all the step AP needs. The order-dependent flavours (ranked, VOC) need
// each positive's rank in the total order score descending, then row, then column: so for them
// pass 1 also keeps where each positive is, and pass 2 counts a negative tied with a rung by its
// place among that rung's positives (a binary search; ties are the rare case). A positive's rank is
// then the positives and negatives strictly above its score plus those tied with it that come
// first: O(P log P + N) per group, like the step AP, instead of sorting all N entries.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/config.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr::detail {

// A positive and where it is.
template <class T>
struct positive_at {
  T score;
  index_t row, column;
};

// Ascending score, then row, then column: within a rung (equal scores) the order in which the
// ranked flavours take tied entries.
template <class T>
inline bool positive_before(const positive_at<T>& a, const positive_at<T>& b) noexcept {
  if (a.score != b.score) return a.score < b.score;
  if (a.row != b.row) return a.row < b.row;
  return a.column < b.column;
}

// What the two passes leave: per group a ladder and the negatives counted by rank (at_rank from
// offset[g], rungs + 1 counters: at rank k, the negatives with exactly k rungs at or below their
// score and equal to none). Ordered only: each group's positives ascending by positive_before,
// rung_start[g][j] the first positive of rung j, and the negatives equal to rung j counted by how
// many of the rung's positives come before them (tied from tied_offset[g] + rung_start[g][j] + j,
// positives of the rung + 1 counters). Without Ordered, negatives equal to a rung are in at_rank.
template <class T>
struct ladder_counts {
  std::vector<ladder<T>> ladders;
  std::vector<std::size_t> offset;
  std::vector<std::int64_t> at_rank;
  bool valid = true;  // false: some score is not finite or some label invalid; nothing else is set
  std::vector<std::vector<positive_at<T>>> positives;
  std::vector<std::vector<std::size_t>> rung_start;
  std::vector<std::size_t> tied_offset;
  std::vector<std::int64_t> tied;
};

// Visits a score/label matrix in the memory order of the scores (rows outer for row-major data,
// columns outer for column-major data), split into tasks of whole outer lines.
template <class T, class L>
class matrix_walk {
 public:
  matrix_walk(score_view<T> scores, label_view<L> labels) noexcept
      : rows_outer_(std::abs(scores.stride(0)) >= std::abs(scores.stride(1))),
        scores_(rows_outer_ ? scores : transpose(scores)),
        labels_(rows_outer_ ? labels : transpose(labels)),
        lines_per_task_(std::max<index_t>(1, (index_t{1} << 16) / scores.extent(rows_outer_ ? 1 : 0))) {}

  std::size_t tasks() const noexcept {
    return static_cast<std::size_t>((scores_.extent(0) + lines_per_task_ - 1) / lines_per_task_);
  }

  // f(row, column, score) for every entry of the task whose label is `wanted`: labels are tested
  // eight at a time without a branch, and only groups holding one are visited.
  template <class F>
  MLR_FORCEINLINE void visit_label(std::size_t task, L wanted, F&& f) const {
    const index_t begin = static_cast<index_t>(task) * lines_per_task_;
    const index_t end = std::min(scores_.extent(0), begin + lines_per_task_);
    const index_t inner = scores_.extent(1), label_step = labels_.stride(1);
    constexpr index_t group = 8;
    for (index_t o = begin; o < end; ++o) {
      const L* label = &labels_(o, 0);
      auto visit = [&](index_t k) {
        if (label[k * label_step] == wanted) f(rows_outer_ ? o : k, rows_outer_ ? k : o, scores_(o, k));
      };
      index_t k = 0;
      for (; k + group <= inner; k += group) {
        bool any = false;
        for (index_t q = k; q < k + group; ++q) any |= label[q * label_step] == wanted;
        if (any) [[unlikely]]
          for (index_t q = k; q < k + group; ++q) visit(q);
      }
      for (; k < inner; ++k) visit(k);
    }
  }

 private:
  bool rows_outer_;
  score_view<T> scores_;
  label_view<L> labels_;
  index_t lines_per_task_;
};

// The two passes over groups of classes: every column in scope is assigned to a group, and each
// group's AP is the one binary AP over all its columns' non-ignored entries in the rows in scope
// (one group per class: the per-class APs; one group for all classes: the micro average).
// group_of_class[q] is the group of column `columns[q]`; only the rows `rows` are read.
// Ordered (the order-dependent flavours) also keeps each positive's place and counts the
// negatives tied with a rung by their place among that rung's positives.
template <bool Ordered, class T, class L>
ladder_counts<T> ladder_pass(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                             const class_scope& columns, const class_scope& rows,
                             std::span<const std::size_t> group_of_class, std::size_t groups, unsigned threads,
                             const progress_span& progress) {
  const index_t classes = columns.size();
  constexpr std::size_t out_of_scope = std::numeric_limits<std::size_t>::max();
  // The group of every column of the matrix (out_of_scope for the others), and which rows count.
  std::vector<std::size_t> group_of_column(static_cast<std::size_t>(scores.extent(1)), out_of_scope);
  for (index_t q = 0; q < classes; ++q)
    group_of_column[static_cast<std::size_t>(columns[q])] = group_of_class[static_cast<std::size_t>(q)];
  std::vector<char> row_counts;
  if (!rows.all()) {
    row_counts.assign(static_cast<std::size_t>(scores.extent(0)), 0);
    for (index_t p = 0; p < rows.size(); ++p) row_counts[static_cast<std::size_t>(rows[p])] = 1;
  }

  // Progress by bytes read: pass 1 reads the labels, pass 2 the scores and the labels (from a
  // memory-mapped file the reads are what takes the time).
  const double pass1_share = static_cast<double>(sizeof(L)) / static_cast<double>(2 * sizeof(L) + sizeof(T));

  // Pass 1, in memory order: the positives' scores. Only labels are read densely; non-finite
  // scores are left for pass 2 to flag.
  using found_entry = std::conditional_t<Ordered, positive_at<T>, T>;
  const matrix_walk<T, L> walk(scores, labels);
  std::vector<std::vector<std::pair<std::size_t, found_entry>>> found(walk.tasks());
  parallel_for(walk.tasks(), threads, [&](std::size_t task, unsigned) {
    walk.visit_label(task, L(1), [&](index_t i, index_t j, T s) {
      const std::size_t g = group_of_column[static_cast<std::size_t>(j)];
      if (g != out_of_scope && (row_counts.empty() || row_counts[static_cast<std::size_t>(i)]) && is_finite_score(s)) {
        if constexpr (Ordered)
          found[task].emplace_back(g, positive_at<T>{s, i, j});
        else
          found[task].emplace_back(g, s);
      }
    });
  }, progress.part(0.0, pass1_share));
  std::vector<std::size_t> positives_of_group(groups, 0);
  for (const auto& task : found)
    for (const auto& entry : task) ++positives_of_group[entry.first];
  std::vector<std::vector<found_entry>> positives(groups);
  for (std::size_t g = 0; g < groups; ++g) positives[g].reserve(positives_of_group[g]);
  for (auto& task : found) {  // each task's list is freed as soon as it is regrouped
    for (const auto& [g, e] : task) positives[g].push_back(e);
    std::vector<std::pair<std::size_t, found_entry>>().swap(task);
  }
  ladder_counts<T> out;
  out.ladders.resize(groups);
  if constexpr (Ordered) {
    out.positives.resize(groups);
    out.rung_start.resize(groups);
  }
  parallel_for(groups, threads, [&](std::size_t g, unsigned) {
    if constexpr (Ordered) {
      auto& p = positives[g];
      std::sort(p.begin(), p.end(), positive_before<T>);
      std::vector<T> scores_of(p.size());
      auto& start = out.rung_start[g];
      for (std::size_t q = 0; q < p.size(); ++q) {
        scores_of[q] = p[q].score;
        if (q == 0 || p[q].score != p[q - 1].score) start.push_back(q);
      }
      start.push_back(p.size());
      out.ladders[g].build(scores_of);
      out.positives[g] = std::move(p);
    } else {
      out.ladders[g].build(positives[g]);
      std::vector<T>().swap(positives[g]);
    }
  });
  const auto& ladders = out.ladders;
  std::vector<std::size_t>& offset = out.offset;  // of each group's counters
  offset.assign(groups + 1, 0);
  for (std::size_t g = 0; g < groups; ++g) offset[g + 1] = offset[g] + ladders[g].rungs() + 1;
  std::vector<std::size_t>& tied_offset = out.tied_offset;  // of each group's tied counters
  if constexpr (Ordered) {
    tied_offset.assign(groups + 1, 0);
    for (std::size_t g = 0; g < groups; ++g)
      tied_offset[g + 1] = tied_offset[g] + out.positives[g].size() + ladders[g].rungs();
  }

  // Pass 2: every negative counted at its rank on its group's ladder. A task is a block of
  // classes over a range of rows, taken in tiles. A tile is first copied into per-worker scratch,
  // one column per class, in the scores' memory order (rows outer for row-major data, a few rows
  // ahead prefetched): each entry is validated there, and every entry that is not a valid
  // negative becomes -inf, which ranks 0, a count the AP never reads. Then each column is ranked
  // against its ladder, which stays in cache, with no branch on the label.
  constexpr index_t block_classes = 64, tile_rows = 256, task_rows = 8192, prefetch_rows = 48;
  // Columns of the tile are one cache line longer than tile_rows: at a power-of-two stride the
  // 64 entries a row writes would fall into a few L1 sets and evict each other.
  constexpr index_t tile_stride = tile_rows + 64 / static_cast<index_t>(sizeof(T));
  const index_t n = rows.size();
  const auto blocks = static_cast<std::size_t>((classes + block_classes - 1) / block_classes);
  const auto ranges = static_cast<std::size_t>((n + task_rows - 1) / task_rows);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, blocks * ranges));
  std::vector<std::vector<std::int64_t>> at_rank(workers, std::vector<std::int64_t>(offset[groups]));
  std::vector<std::vector<std::int64_t>> tied(Ordered ? workers : 0, std::vector<std::int64_t>(Ordered ? tied_offset[groups] : 0));
  std::vector<std::vector<T>> tiles(workers);
  const index_t score_row = scores.stride(0), score_col = scores.stride(1);
  const index_t label_row = labels.stride(0), label_col = labels.stride(1);
  const bool rows_outer = std::abs(score_col) <= std::abs(score_row);
  const bool unit_steps = rows_outer && score_col == 1 && label_col == 1 && rows.all();
  const L negative = negative_label<L>(encoding);
  constexpr T skip = -std::numeric_limits<T>::infinity();
  std::vector<char> valid(blocks * ranges, 1);  // every entry is read here: validation is free
  parallel_for(blocks * ranges, workers, [&](std::size_t task, unsigned w) {
    const index_t first_class = static_cast<index_t>(task / ranges) * block_classes;
    const index_t width = std::min(classes, first_class + block_classes) - first_class;
    const index_t first_row = static_cast<index_t>(task % ranges) * task_rows;
    const index_t last_row = std::min(n, first_row + task_rows);
    // Prefetching the rows ahead pays when the block is one run of memory.
    const bool prefetch = unit_steps && columns[first_class + width - 1] - columns[first_class] == width - 1;
    std::vector<T>& tile = tiles[w];
    tile.resize(static_cast<std::size_t>(block_classes * tile_stride));
    bool all_valid = true;
    auto copy = [&](index_t r, index_t k, T score, L label) {
      const bool ok = is_finite_score(score) & is_label_value(label);
      all_valid &= ok;
      tile[static_cast<std::size_t>(k * tile_stride + r)] = ((label == negative) & ok) ? score : skip;
    };
    for (index_t top = first_row; top < last_row; top += tile_rows) {
      const index_t height = std::min(last_row, top + tile_rows) - top;
      if (rows_outer) {
        for (index_t r = 0; r < height; ++r) {
          const T* score = &scores(rows[top + r], 0);
          const L* label = &labels(rows[top + r], 0);
          if (prefetch && top + r + prefetch_rows < last_row) {
            const auto* ahead = reinterpret_cast<const char*>(score + prefetch_rows * score_row + columns[first_class]);
            for (std::size_t b = 0; b < static_cast<std::size_t>(width) * sizeof(T); b += 64) MLR_PREFETCH(ahead + b);
            const auto* label_ahead =
                reinterpret_cast<const char*>(label + prefetch_rows * label_row + columns[first_class]);
            for (std::size_t b = 0; b < static_cast<std::size_t>(width) * sizeof(L); b += 64) MLR_PREFETCH(label_ahead + b);
          }
          for (index_t k = 0; k < width; ++k) {
            const index_t j = columns[first_class + k];
            copy(r, k, score[j * score_col], label[j * label_col]);
          }
        }
      } else {
        for (index_t k = 0; k < width; ++k) {
          const index_t j = columns[first_class + k];
          for (index_t r = 0; r < height; ++r) copy(r, k, scores(rows[top + r], j), labels(rows[top + r], j));
        }
      }
      for (index_t k = 0; k < width; ++k) {
        const std::size_t g = group_of_class[static_cast<std::size_t>(first_class + k)];
        const auto rank = ladders[g].rank();
        std::int64_t* counters = at_rank[w].data() + offset[g];
        const T* column = tile.data() + k * tile_stride;
        if constexpr (Ordered) {
          // A negative equal to a rung is placed among that rung's positives by (row, column).
          const index_t j = columns[first_class + k];
          const auto& p = out.positives[g];
          const auto& start = out.rung_start[g];
          std::int64_t* tied_counters = tied[w].data() + tied_offset[g];
          for (index_t r = 0; r < height; ++r) {
            const T s = column[r];
            const std::size_t at = rank(s);
            if (at != 0 && rank.rungs[at - 1] == s) [[unlikely]] {
              const std::size_t rung = at - 1;
              const positive_at<T> key{s, rows[top + r], j};
              const auto place = std::lower_bound(p.begin() + static_cast<std::ptrdiff_t>(start[rung]),
                                                  p.begin() + static_cast<std::ptrdiff_t>(start[rung + 1]), key,
                                                  positive_before<T>) -
                                 (p.begin() + static_cast<std::ptrdiff_t>(start[rung]));
              ++tied_counters[start[rung] + rung + static_cast<std::size_t>(place)];
            } else {
              ++counters[at];
            }
          }
        } else if (rank.searched()) {
          for (index_t r = 0; r < height; ++r) ++counters[rank.by_search(column[r])];
        } else {
          for (index_t r = 0; r < height; ++r) ++counters[rank.by_bucket(column[r])];
        }
      }
    }
    valid[task] = all_valid;
  }, progress.part(pass1_share, 1.0));
  out.valid = std::find(valid.begin(), valid.end(), 0) == valid.end();
  if (!out.valid) return out;
  for (unsigned w = 1; w < workers; ++w)
    for (std::size_t r = 0; r < offset[groups]; ++r) at_rank[0][r] += at_rank[w][r];
  out.at_rank = std::move(at_rank[0]);
  if constexpr (Ordered) {
    for (unsigned w = 1; w < workers; ++w)
      for (std::size_t r = 0; r < tied_offset[groups]; ++r) tied[0][r] += tied[w][r];
    out.tied = std::move(tied[0]);
  }
  return out;
}

}  // namespace mlr::detail
