// IRCoT query conventions, checked against what StonyBrookNLP/ircot's remove_wh_words() and
// is_reasoning_sentence() (commaqa/inference/ircot.py) return for the same inputs.
#include <gtest/gtest.h>

#include "retrieval/retriever.h"

namespace steper {

// ---- ircot_clean_query

TEST(IrcotCleanQuery, DropsWhWordsLikeIrcot) {
  // remove_wh_words("Who founded the company that built Hee Haw") == "founded the company that built Hee Haw"
  EXPECT_EQ(ircot_clean_query("Who founded the company that built Hee Haw"), "founded the company that built Hee Haw");
  // IRCoT's list includes "is" and "does"; comparison is case-insensitive.
  EXPECT_EQ(ircot_clean_query("WHEN does the river freeze"), "the river freeze");
  EXPECT_EQ(ircot_clean_query("Where is Varnik"), "Varnik");
  EXPECT_EQ(ircot_clean_query("how why which what"), "");
}

TEST(IrcotCleanQuery, RemovesQuestionMarks) {
  EXPECT_EQ(ircot_clean_query("Which city is older, Varnik or Tamsa?"), "city older, Varnik or Tamsa");
  // A wh-word glued to its question mark is still a wh-word.
  EXPECT_EQ(ircot_clean_query("Founded by who?"), "Founded by");
  EXPECT_EQ(ircot_clean_query("???"), "");
}

TEST(IrcotCleanQuery, KeepsWordsThatOnlyContainWhWords) {
  EXPECT_EQ(ircot_clean_query("Whoopi whatever Howard island"), "Whoopi whatever Howard island");
  EXPECT_EQ(ircot_clean_query("  spaced \t out\nwords  "), "spaced out words");
}

// ---- ircot_is_conclusion

TEST(IrcotIsConclusion, ReasoningStartersAreNotQueries) {
  EXPECT_TRUE(ircot_is_conclusion("So the answer is: Hee Haw."));
  EXPECT_TRUE(ircot_is_conclusion("so, the older one is Varnik."));
  EXPECT_TRUE(ircot_is_conclusion("Thus Varnik is older."));
  EXPECT_TRUE(ircot_is_conclusion("Thus, Varnik is older."));
  EXPECT_TRUE(ircot_is_conclusion("Therefore the river is longer."));
  EXPECT_TRUE(ircot_is_conclusion("Hence Varnik."));
  EXPECT_TRUE(ircot_is_conclusion("That is, the founder."));
  EXPECT_TRUE(ircot_is_conclusion("  So the answer is: 4."));
}

TEST(IrcotIsConclusion, ArithmeticStepsAreNotQueries) {
  EXPECT_TRUE(ircot_is_conclusion("The gap is 1,994 - 1,950 = 44 years."));
  EXPECT_TRUE(ircot_is_conclusion("3 + 4 = 7"));
}

TEST(IrcotIsConclusion, FactSentencesAreQueries) {
  EXPECT_FALSE(ircot_is_conclusion("Jim Halsey guided the career of Roy Clark."));
  EXPECT_FALSE(ircot_is_conclusion("Sofia was born in 1950."));
  EXPECT_FALSE(ircot_is_conclusion("Some soldiers settled in Thusis."));  // "so" and "thus" must be whole words
  EXPECT_FALSE(ircot_is_conclusion("Sonja Henie won 3 medals."));
  EXPECT_FALSE(ircot_is_conclusion(""));
}

}  // namespace steper
