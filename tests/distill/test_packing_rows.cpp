// The rows shared-prefix packing makes, written out by hand: tokens, positions, what each token sees, which
// hidden state predicts each scored token; the fallback that splits a trace over the row limit; and the
// trace each tokenized example comes from.
#include <gtest/gtest.h>

#include "distill/data.h"
#include "distill/packing.h"

namespace steper {
namespace {

TokenizedExample ex(uint32_t trace, int step, Task task, std::vector<int32_t> ids, int32_t target_start) {
  TokenizedExample e;
  e.trace = trace;
  e.step = step;
  e.task = task;
  e.ids = std::move(ids);
  e.target_start = target_start;
  return e;
}

// trace 0: prompt [B p p Q] target [r]; then [B p p P Q] [r s]; agg [B p p P Q] [r s a E]
std::vector<TokenizedExample> small_trace() {
  return {ex(0, 1, Task::kInit, {1, 10, 11, 20, 30}, 4), ex(0, 2, Task::kExp, {1, 10, 11, 12, 20, 30, 31}, 5),
          ex(0, 3, Task::kAgg, {1, 10, 11, 12, 20, 30, 31, 32, 2}, 5)};
}

TEST(PackRows, OneTraceIsOneRowWithEachTokenAtItsOwnPosition) {
  PackOptions o;
  o.limit = 100;
  PackStats st;
  std::vector<Pack> packs = build_packs(small_trace(), o, &st);
  ASSERT_EQ(packs.size(), 1u);
  const Pack& p = packs[0];
  // example 1 whole; example 2 after its 3 shared tokens [B p p]; example 3 after all 7 of example 2's
  EXPECT_EQ(p.ids, (std::vector<int32_t>{1, 10, 11, 20, 30, 12, 20, 30, 31, 32, 2}));
  EXPECT_EQ(p.position, (std::vector<int32_t>{0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(p.parent, (std::vector<int32_t>{-1, 0, 1, 2, 3, 2, 5, 6, 7, 8, 9}));
  // example 1 scores 30 from row 3; example 2 scores 30, 31 from rows 6, 7; example 3 scores 30 31 32 2
  EXPECT_EQ(p.predict_at, (std::vector<int32_t>{3, 6, 7, 6, 7, 8, 9}));
  EXPECT_EQ(p.label, (std::vector<int32_t>{30, 30, 31, 30, 31, 32, 2}));
  EXPECT_EQ(st.example_tokens, 5 + 7 + 9);
  EXPECT_EQ(st.computed_tokens, 11);
  EXPECT_EQ(st.split_traces, 0u);
  EXPECT_EQ(st.unshared_steps, 0u);
  // row 6 (example 2's question token at position 4) sees B p p P and itself, not example 1's Q r
  std::vector<uint8_t> vis = pack_visibility(p);
  std::vector<uint8_t> row6(vis.begin() + 6 * 11, vis.begin() + 7 * 11);
  EXPECT_EQ(row6, (std::vector<uint8_t>{1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0}));
  std::vector<BatchUnit> u = pack_units(packs, small_trace());
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].length, 11);
  EXPECT_EQ(u[0].target_length, 7);
  EXPECT_EQ(u[0].task, -1);
}

TEST(PackRows, ATraceOverTheLimitIsSplitAndCounted) {
  PackOptions o;
  o.limit = 9;  // [ex1 + ex2] = 5 + 4 = 9 fits; ex3 (9 tokens) starts a row of its own
  PackStats st;
  std::vector<Pack> packs = build_packs(small_trace(), o, &st);
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_EQ(packs[0].examples, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(packs[1].examples, (std::vector<uint32_t>{2}));
  EXPECT_TRUE(packs[1].single());
  EXPECT_EQ(packs[1].ids, small_trace()[2].ids);
  EXPECT_EQ(st.split_traces, 1u);
  EXPECT_EQ(st.computed_tokens, 9 + 9);
}

TEST(PackRows, OffMeansOneRowPerExample) {
  PackOptions o;
  o.enabled = false;
  std::vector<TokenizedExample> e = small_trace();
  e.push_back(ex(1, 3, Task::kAgg, {1, 40, 41, 2}, 2));
  std::vector<Pack> packs = build_packs(e, o);
  ASSERT_EQ(packs.size(), 4u);
  for (size_t i = 0; i < packs.size(); ++i) {
    EXPECT_EQ(packs[i].ids, e[i].ids);
    EXPECT_EQ(packs[i].parent[0], -1);
  }
  std::vector<BatchUnit> u = pack_units(packs, e);
  EXPECT_EQ(u[3].task, 2);
}

TEST(PackRows, PassagesThatAreNotATokenPrefixShareOnlyWhatIsEqual) {
  std::vector<TokenizedExample> e = small_trace();
  e[1].ids[2] = 13;  // the second prompt's passages differ at the first's last passage token
  e[2].ids[2] = 13;
  PackOptions o;
  o.limit = 100;
  PackStats st;
  std::vector<Pack> packs = build_packs(e, o, &st);
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(st.unshared_steps, 1u);
  EXPECT_EQ(packs[0].length(), 5 + 5 + 2);  // example 2 shares [B p] only
}

TEST(PackRows, TokenizedExamplesKnowTheirTrace) {
  auto make = [](const std::string& id, int step) {
    StepExample e;
    e.id = id;
    e.step = step;
    e.task = Task::kInit;
    e.prompt = "p";
    e.target = "t";
    return e;
  };
  auto enc = [](const std::string& s, bool) { return std::vector<int32_t>(s.begin(), s.end()); };
  std::vector<TokenizedExample> t = tokenize_examples(
      {make("a/b/init/1", 1), make("a/b/exp/2", 2), make("c/init/1", 1), make("c/agg/2", 2), make("c/init/1", 1)},
      enc, TokenizeOptions());
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].trace, 0u);
  EXPECT_EQ(t[1].trace, 0u);
  EXPECT_EQ(t[2].trace, 1u);
  EXPECT_EQ(t[3].trace, 1u);
  EXPECT_EQ(t[3].step, 2);
  EXPECT_EQ(t[4].trace, 2u);  // the same id again: another trace (its steps start again)
}

}  // namespace
}  // namespace steper
