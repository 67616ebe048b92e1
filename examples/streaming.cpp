// Streaming evaluation: batches as they come out of an engine, shards from other processes, the
// state sent between them as bytes; compiled and run by the tests.
#include <cstdio>
#include <vector>

#include <mlr/mlr.hpp>

int main() {
  // 6 images x 2 classes arriving in batches of 2 rows (row-major; 1 positive, 0 negative).
  const std::vector<float> scores{.9f, .1f, .8f, .7f, .3f, .6f, .6f, .2f, .5f, .9f, .1f, .4f};
  const std::vector<signed char> labels{1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0};
  auto batch = [&](const auto& v, mlr::index_t b) { return mlr::make_view(v.data() + 4 * b, {2, 2}); };
  // example-begin api-streaming
  mlr::ap_accumulator<float> exact(2);              // keeps every row: exact for every flavour
  mlr::binned_ap_accumulator<float> binned(2, 11);  // thresholds 0, 0.1, ..., 1: O(11 x 2) counts
  for (mlr::index_t b = 0; b < 3; ++b) {
    exact.update(batch(scores, b), batch(labels, b));
    binned.update(batch(scores, b), batch(labels, b));
  }
  // A shard computed elsewhere arrives as bytes and is merged (its rows after ours).
  mlr::ap_accumulator<float> shard(2);
  shard.update(batch(scores, 0), batch(labels, 0));
  const std::vector<std::byte> bytes = shard.serialize();
  mlr::ap_accumulator<float> everything = exact;
  everything.merge(mlr::ap_accumulator<float>::deserialize(bytes));

  const double step = exact.compute().value;  // = mean_average_precision of the 6 rows
  const double ranked = exact.compute({.method = mlr::ap_method::ranked}).value;
  const double approx = binned.compute().value;  // torchmetrics' binned AP
  std::printf("exact %.4f ranked %.4f binned %.4f merged rows %td\n", step, ranked, approx, everything.rows());
  // example-end api-streaming
  const double one_shot = mlr::mean_average_precision(mlr::make_view(scores.data(), {6, 2}),
                                                      mlr::make_view(labels.data(), {6, 2})).value;
  std::printf("one-shot %.4f\n", one_shot);
  return step == one_shot ? 0 : 1;
}
