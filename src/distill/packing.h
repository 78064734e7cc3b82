// Shared-prefix packing (docs/DESIGN.md section 10), torch-free: the examples of one trace computed as one
// row, [P<=1][Q A R<=1][P2 new][Q A R<=2]...[P_S new][Q A R<S a], in which every token sees exactly the
// tokens its own example would show it and sits at its position in its own example. The loss and its
// gradients are those of the examples computed one by one; the tokens they share are computed once.
#pragma once

#include <cstdint>
#include <vector>

#include "distill/data.h"

namespace steper {

// One row of computation: one example (the per-example form) or several consecutive examples of a trace.
struct Pack {
  std::vector<uint32_t> examples;  // the tokenized examples it computes, in step order
  std::vector<int32_t> ids;        // the row's tokens
  std::vector<int32_t> position;   // each token's position in its own example
  std::vector<int32_t> parent;     // the row index of the token before it in its example (-1: the first)
  // every scored token, example after example, target after target: the row index of the hidden state
  // that predicts it, and its id
  std::vector<int32_t> predict_at, label;
  int32_t length() const { return static_cast<int32_t>(ids.size()); }
  int32_t target_length() const { return static_cast<int32_t>(label.size()); }
  // one example alone: plain causal attention, positions 0..length-1
  bool single() const { return examples.size() == 1; }
};

struct PackOptions {
  bool enabled = true;  // false: every example is its own row (the per-example form)
  int32_t limit = 0;    // the longest row: min(batch tokens, the model's context); a trace longer than this
                        // is split into consecutive groups that fit (examples longer alone stay alone)
};

struct PackStats {
  size_t traces = 0;          // traces (groups of consecutive examples with the same trace)
  size_t split_traces = 0;    // traces whose row exceeded the limit: split, the per-example form in the end
  size_t rows = 0;            // packs made
  size_t unshared_steps = 0;  // consecutive examples of one row whose prompts' passages are not a token
                              // prefix of the next one's: they share only the tokens that are equal
  int64_t example_tokens = 0, computed_tokens = 0;  // the per-example form's tokens and the rows'
};

// Every tokenized example in exactly one pack. Examples of one trace (TokenizedExample::trace) must be
// consecutive and in step order, as tokenize_examples leaves them.
std::vector<Pack> build_packs(const std::vector<TokenizedExample>& examples, const PackOptions& opts,
                              PackStats* stats = nullptr);

// What batching needs of each pack: its computed tokens, scored tokens and (for the per-example form) task.
std::vector<BatchUnit> pack_units(const std::vector<Pack>& packs, const std::vector<TokenizedExample>& examples);

// Row-major [length x length] visibility of a pack: allowed[t * length + u] = 1 when token t sees token u
// (its own example's tokens up to itself). Every visible token comes at or before t.
std::vector<uint8_t> pack_visibility(const Pack& pack);

}  // namespace steper
