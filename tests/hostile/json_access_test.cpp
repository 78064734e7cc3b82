// The typed JSON accessors of core/io.h: each refusal names where and the field, on one line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <limits>

#include "core/error.h"
#include "core/io.h"
#include "common/error_of.h"

namespace steper {
namespace {

using nlohmann::json;

const json kObj = json::parse(R"({"n": 7, "big": 18446744073709551615, "f": 2.5, "s": "x", "b": true, "nul": null,
                                  "list": ["a", "b"], "mixed": ["a", 3], "o": {"k": 1}})");

TEST(JsonAccess, ReadsEachType) {
  EXPECT_EQ(json_int(kObj, "n", "f:1"), 7);
  EXPECT_EQ(json_number(kObj, "f", "f:1"), 2.5);
  EXPECT_EQ(json_number(kObj, "n", "f:1"), 7.0);
  EXPECT_EQ(json_text(kObj, "s", "f:1"), "x");
  EXPECT_TRUE(json_bool(kObj, "b", "f:1"));
  EXPECT_EQ(json_string_array(kObj, "list", "f:1"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(json_array(kObj, "list", "f:1").size(), 2u);
  EXPECT_EQ(json_object(kObj, "o", "f:1").size(), 1u);
  EXPECT_EQ(json_string(kObj, "n", "f:1"), "7");  // ids: an integer is its decimal text
}

TEST(JsonAccess, OptionalFieldsFallBackWhenAbsentOrNull) {
  EXPECT_EQ(json_int_or(kObj, "absent", "f:1", 4), 4);
  EXPECT_EQ(json_int_or(kObj, "nul", "f:1", 4), 4);
  EXPECT_EQ(json_number_or(kObj, "absent", "f:1", 0.5), 0.5);
  EXPECT_FALSE(json_bool_or(kObj, "absent", "f:1", false));
  EXPECT_EQ(json_text_or(kObj, "absent", "f:1", "d"), "d");
  EXPECT_EQ(json_find(kObj, "nul"), nullptr);
  EXPECT_NE(json_find(kObj, "n"), nullptr);
}

TEST(JsonAccess, WrongTypesNameWhereTheFieldAndTheValue) {
  EXPECT_EQ(error_of([] { json_int(kObj, "f", "a.jsonl:3"); }), "a.jsonl:3: field \"f\" must be an integer, got 2.5");
  EXPECT_EQ(error_of([] { json_text(kObj, "n", "a.jsonl:3"); }), "a.jsonl:3: field \"n\" must be a string, got 7");
  EXPECT_EQ(error_of([] { json_bool(kObj, "s", "w"); }), "w: field \"s\" must be true or false, got \"x\"");
  EXPECT_EQ(error_of([] { json_array(kObj, "o", "w"); }), "w: field \"o\" must be a list, got {\"k\":1}");
  EXPECT_EQ(error_of([] { json_object(kObj, "list", "w"); }), "w: field \"list\" must be an object, got [\"a\",\"b\"]");
  EXPECT_EQ(error_of([] { json_string_array(kObj, "mixed", "w"); }), "w: field \"mixed[1]\" must be a string, got 3");
  EXPECT_EQ(error_of([] { json_int(kObj, "absent", "w"); }), "w: missing field \"absent\"");
  EXPECT_EQ(error_of([] { json_int_or(json::array(), "n", "w", 0); }), "w: expected a JSON object");
}

TEST(JsonAccess, RangesAreChecked) {
  EXPECT_EQ(error_of([] { json_int(kObj, "n", "w", 0, 5); }), "w: field \"n\" must be an integer in [0, 5], got 7");
  EXPECT_EQ(error_of([] { json_int(kObj, "n", "w", 8); }), "w: field \"n\" must be an integer >= 8, got 7");
  EXPECT_EQ(error_of([] { json_number(kObj, "f", "w", 0.0, 1.0); }), "w: field \"f\" must be a number in [0, 1], got 2.5");
  // Beyond int64: refused, not wrapped to -1.
  EXPECT_EQ(error_of([] { json_int(kObj, "big", "w"); }), "w: field \"big\" must be an integer, got 18446744073709551615");
}

TEST(JsonAccess, NonFiniteNumbersAreRefused) {
  json j = {{"x", std::numeric_limits<double>::infinity()}};
  EXPECT_EQ(error_of([&] { json_number(j, "x", "w"); }).rfind("w: field \"x\" must be a number", 0), 0u);
}

TEST(JsonAccess, LongValuesAreShortenedInMessages) {
  json j = {{"s", std::string(500, 'a')}};
  std::string msg = error_of([&] { json_int(j, "s", "w"); });
  EXPECT_LT(msg.size(), 100u);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(JsonAccess, TypeErrorsInsideAJsonlReaderNameTheLine) {
  std::string path = "/tmp/steper_json_access_" + std::to_string(::getpid()) + ".jsonl";
  write_file_atomic(path, "{\"a\": \"x\"}\n{\"a\": 3}\n");
  std::string msg = error_of([&] {
    for_each_jsonl(path, [](const json& j, size_t) { (void)j.at("a").get<std::string>(); });
  });
  EXPECT_EQ(msg.rfind(path + ":2: ", 0), 0u) << msg;
}

}  // namespace
}  // namespace steper
