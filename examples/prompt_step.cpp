// One DualCoOp prompt-learning step in an engine without autograd: the engine supplies the
// visual tokens (CLIP image encoder) and the two prompt sets' text features (text encoder);
// mlr computes the dual logits, the ASL loss on them and the gradients back to the text
// features, into buffers reused from step to step. Compiled and run by the tests.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <mlr/mlr.hpp>

int main() {
  constexpr mlr::index_t B = 4, L = 10, D = 16, C = 5;  // images, tokens, width, classes
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> visual(B * L * D), text_neg(C * D), text_pos(C * D);
  for (auto* v : {&visual, &text_pos})
    for (float& x : *v) x = normal(rng);
  // Both prompt sets start from nearly one prompt, as from one initialisation: the logits' gap
  // 100 (cos+ - cos-) starts small instead of saturating the loss.
  for (std::size_t k = 0; k < text_neg.size(); ++k) text_neg[k] = text_pos[k] + 0.01f * normal(rng);
  std::vector<signed char> targets(B * C);
  for (std::size_t k = 0; k < targets.size(); ++k) targets[k] = k % 3 == 0 ? 1 : 0;

  // example-begin api-prompt-step
  mlr::scoring_workspace workspace;  // keeps the forward's softmax weights for the backward
  mlr::tensor<float, 3> logits({B, 2, C}), grad_logits({B, 2, C}), grad_visual({B, L, D});
  mlr::tensor<float, 2> grad_neg({C, D}), grad_pos({C, D});
  const auto V = mlr::make_view(visual.data(), {B, L, D});
  const auto N = mlr::make_view(text_neg.data(), {C, D});
  const auto P = mlr::make_view(text_pos.data(), {C, D});
  const auto Y = mlr::make_view(targets.data(), {B, C});
  double first = 0, last = 0;
  for (int step = 0; step < 3; ++step) {  // no allocation after the first step
    mlr::dualcoop_logits(V, N, P, logits, workspace);  // [B, 2, C], 0 negative, 1 positive
    const double loss = mlr::asl_dual_loss(logits, Y, grad_logits);  // DualCoOp's ASL, its gradient
    mlr::dualcoop_logits_vjp(V, N, P, grad_logits, grad_neg, grad_pos, mlr::skip, workspace);
    for (mlr::index_t k = 0; k < C * D; ++k) {  // plain SGD on the text features
      text_neg[static_cast<std::size_t>(k)] -= 1e-3f * grad_neg.data()[k];
      text_pos[static_cast<std::size_t>(k)] -= 1e-3f * grad_pos.data()[k];
    }
    std::printf("step %d loss %.4f\n", step, loss);
    (step == 0 ? first : last) = loss;
  }
  // example-end api-prompt-step
  (void)grad_visual;
  const auto p = mlr::dual_prompt_probability(logits);  // sigmoid(l+ - l-), [B, C]
  std::printf("p(image 0, class 0) %.4f\n", static_cast<double>(p(0, 0)));
  return last < first ? 0 : 1;  // the step must lower the loss
}
