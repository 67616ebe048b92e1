// TagCLIP's local-to-global pipeline wired to a stub engine. A real engine runs CLIP ViT-B/16:
// the first pass gives the head-averaged attention maps and the projected tokens of the image,
// the text encoder the class embeddings, and every crop request a second pass whose projected
// class-token feature it returns. Here the "image" is a 6 x 8 patch grid with a cat at the top
// left and a car at the bottom right on grass and sky, and the stub fakes all of it
// deterministically. Compiled and run by the tests.
#include <cmath>
#include <cstdio>
#include <vector>

#include <mlr/mlr.hpp>
#include <mlr/refine/tagclip.hpp>

int main() {
  constexpr mlr::patch_grid grid{6, 8};
  constexpr mlr::index_t N = grid.size(), M = N + 1, D = 8, L = 12, C = 3;
  const char* names[] = {"cat", "dog", "car", "grass", "sky"};  // 3 classes, then 2 background words
  constexpr mlr::index_t K = 5;

  // Text embeddings: one axis per word, a little mixed.
  std::vector<float> text(K * D, 0.05f);
  for (mlr::index_t k = 0; k < K; ++k) text[k * D + k] = 1.0f;
  // What each patch shows: sky above, grass below, a cat (rows 1-3, columns 1-3), a car (rows 3-4, columns 4-6).
  std::vector<mlr::index_t> shows(N);
  for (mlr::index_t p = 0; p < N; ++p) {
    const mlr::index_t y = p / grid.cols, x = p % grid.cols;
    shows[p] = y < 3 ? 4 : 3;
    if (y >= 1 && y <= 3 && x >= 1 && x <= 3) shows[p] = 0;
    if (y >= 3 && y <= 4 && x >= 4 && x <= 6) shows[p] = 2;
  }
  // First pass: projected tokens [1 + N, D] (class token first) near their word's embedding, and
  // L attention maps [1 + N, 1 + N] where a patch attends to itself and to patches showing the same.
  std::vector<float> tokens(M * D), attn(L * M * M);
  for (mlr::index_t i = 0; i < M; ++i)
    for (mlr::index_t d = 0; d < D; ++d)
      tokens[i * D + d] = (i == 0 ? 0.3f : 0.2f * text[shows[i - 1] * D + d]) + 0.01f * std::sin(float(i * D + d));
  for (mlr::index_t l = 0; l < L; ++l)
    for (mlr::index_t i = 0; i < M; ++i) {
      float* row = &attn[(l * M + i) * M];
      float sum = 0.0f;
      for (mlr::index_t j = 0; j < M; ++j) {
        const bool same = i > 0 && j > 0 && shows[i - 1] == shows[j - 1];
        row[j] = 0.2f + (same ? 1.0f + 0.1f * float(l % 3) : 0.0f) + (i == j ? 2.0f : 0.0f);
        sum += row[j];
      }
      for (mlr::index_t j = 0; j < M; ++j) row[j] /= sum;
    }

  // example-begin api-tagclip-pipeline
  // Second pass: the engine crops request.pixels from its input, resizes it to 224 x 224, runs CLIP
  // with request.attention_mask added in every block, and writes the projected class-token
  // feature. The stub answers with the crop's dominant word.
  int requests = 0;
  auto second_pass = [&](const mlr::crop_request<float>& request, mlr::strided_view<float, 1> feature) {
    ++requests;
    const mlr::patch_box& b = request.box;
    std::printf("crop for %s: patches [%td, %td) x [%td, %td), pixels [%td, %td) x [%td, %td)\n",
                names[request.class_index], b.y0, b.y1, b.x0, b.x1, request.pixels.y0, request.pixels.y1,
                request.pixels.x0, request.pixels.x1);
    const mlr::index_t centre = shows[((b.y0 + b.y1) / 2) * grid.cols + (b.x0 + b.x1) / 2];
    for (mlr::index_t d = 0; d < D; ++d) feature(d) = text[centre * D + d];
  };
  mlr::tagclip_result<float> result;  // reuse result and workspace from image to image
  mlr::tagclip_workspace workspace;
  mlr::tagclip_classify(mlr::make_view(attn.data(), {L, M, M}), mlr::make_view(tokens.data(), {M, D}),
                        mlr::make_view(text.data(), {K, D}), grid, C, second_pass, result, workspace);
  // example-end api-tagclip-pipeline
  for (mlr::index_t k = 0; k < C; ++k)
    std::printf("%-4s local %.4f final %.4f%s\n", names[k], result.local(k), result.cwr.final_scores(k),
                result.cwr.labels(k) ? "  (label)" : "");
  std::printf("labels:");
  for (mlr::index_t k = 0; k < C; ++k)
    if (result.cwr.labels(k)) std::printf(" %s", names[k]);
  std::printf("; %d crop requests\n", requests);
}
