// GGUF reader and writer against byte layouts built by hand from the GGUF specification published with ggml.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/error_of.h"
#include "core/error.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace steper {
namespace {

// ---- a hand-written little-endian byte builder (independent of the writer)

struct Bytes {
  std::string b;
  void u8(uint8_t v) { b.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i))); }
  void u64(uint64_t v) { for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i))); }
  void f32(float f) { uint32_t x; std::memcpy(&x, &f, 4); u32(x); }
  void str(const std::string& s) { u64(s.size()); b += s; }
  void pad_to(size_t a) { while (b.size() % a) u8(0); }
};

std::string temp_path(const std::string& name) {
  return std::string("/tmp/steper_gguf_test_") + std::to_string(::getpid()) + "_" + name;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The example file: 2 metadata keys, one F32 tensor of row-major shape [2, 3] (ne = {3, 2}).
std::string example_file() {
  Bytes x;
  x.u8('G'); x.u8('G'); x.u8('U'); x.u8('F');
  x.u32(3);  // version
  x.u64(1);  // tensor count
  x.u64(2);  // metadata count
  x.str("general.architecture"); x.u32(8); x.str("llama");
  x.str("llama.block_count"); x.u32(4); x.u32(7);
  x.str("w"); x.u32(2); x.u64(3); x.u64(2); x.u32(0); x.u64(0);
  x.pad_to(32);
  for (int i = 0; i < 6; ++i) x.f32(0.5f * i);
  x.pad_to(32);
  return x.b;
}

// ---- reading hand-made bytes

TEST(GgufReader, ReadsHandWrittenFile) {
  std::string path = temp_path("hand.gguf");
  write_bytes(path, example_file());
  auto g = GgufFile::open(path);
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), 32u);
  ASSERT_EQ(g->metadata().size(), 2u);
  EXPECT_EQ(g->get("general.architecture").as_string("a"), "llama");
  EXPECT_EQ(g->get("llama.block_count").as_int("b"), 7);
  EXPECT_EQ(g->get("llama.block_count").elem, GgufType::kU32);
  ASSERT_EQ(g->tensors().size(), 1u);
  const GgufTensorInfo& t = g->tensors()[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.ne, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(t.shape(), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(t.nbytes, 24u);
  EXPECT_EQ(g->data_offset() % 32, 0u);
  std::vector<float> v = g->tensor_f32(t);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], 0.5f * i);
  ::unlink(path.c_str());
}

// ---- writing: byte-for-byte the hand-made layout

TEST(GgufWriter, WritesTheSpecifiedBytes) {
  std::string path = temp_path("written.gguf");
  GgufWriter w;
  w.add_kv("general.architecture", GgufValue::string("llama"));
  w.add_kv("llama.block_count", GgufValue::u32(7));
  GgufTensorSpec t;
  t.name = "w";
  t.type = GgmlType::kF32;
  t.shape = {2, 3};
  t.produce = [](std::vector<uint8_t>& out) {
    out.resize(24);
    for (int i = 0; i < 6; ++i) {
      float f = 0.5f * i;
      std::memcpy(out.data() + 4 * i, &f, 4);
    }
  };
  w.add_tensor(t);
  w.write(path);
  EXPECT_EQ(read_bytes(path), example_file());
  ::unlink(path.c_str());
}

// ---- round trip of every value type, odd tensor sizes and a non-default alignment

TEST(GgufWriter, RoundTripsValuesTensorsAndAlignment) {
  for (uint32_t alignment : {32u, 64u}) {
    std::string path = temp_path("roundtrip.gguf");
    GgufWriter w(alignment);
    w.add_kv("a.u32", GgufValue::u32(4000000000u));
    w.add_kv("a.i32", GgufValue::i32(-5));
    w.add_kv("a.u64", GgufValue::u64(1ull << 40));
    w.add_kv("a.f32", GgufValue::f32(0.125f));
    w.add_kv("a.bool", GgufValue::boolean(true));
    w.add_kv("a.str", GgufValue::string("h\xC3\xA9llo"));
    w.add_kv("a.strs", GgufValue::string_array({"x", "", "\xC4\xA0the"}));
    w.add_kv("a.ints", GgufValue::i32_array({1, -2, 3}));
    w.add_kv("a.floats", GgufValue::f32_array({1.5f, -0.25f}));
    w.add_kv("a.empty", GgufValue::string_array({}));
    std::vector<std::vector<uint64_t>> shapes = {{3}, {5, 7}, {1}, {2, 3, 4}};
    for (size_t k = 0; k < shapes.size(); ++k) {
      GgufTensorSpec t;
      t.name = "t" + std::to_string(k);
      t.type = k == 1 ? GgmlType::kF16 : GgmlType::kF32;
      t.shape = shapes[k];
      uint64_t n = 1;
      for (uint64_t d : t.shape) n *= d;
      GgmlType type = t.type;
      t.produce = [n, k, type](std::vector<uint8_t>& out) {
        size_t es = type == GgmlType::kF16 ? 2 : 4;
        out.resize(n * es);
        for (uint64_t i = 0; i < n; ++i) {
          if (es == 4) {
            float f = static_cast<float>(k * 100 + i);
            std::memcpy(out.data() + 4 * i, &f, 4);
          } else {
            uint16_t h = static_cast<uint16_t>(0x3C00 + i);  // 1.0 + i * 2^-10
            std::memcpy(out.data() + 2 * i, &h, 2);
          }
        }
      };
      w.add_tensor(t);
    }
    w.write(path);
    auto g = GgufFile::open(path);
    EXPECT_EQ(g->alignment(), alignment);
    EXPECT_EQ(g->get("a.u32").as_int("k"), 4000000000ll);
    EXPECT_EQ(g->get("a.i32").as_int("k"), -5);
    EXPECT_EQ(g->get("a.u64").as_int("k"), 1ll << 40);
    EXPECT_EQ(g->get("a.f32").as_float("k"), 0.125);
    EXPECT_TRUE(g->get("a.bool").as_bool("k"));
    EXPECT_EQ(g->get("a.str").as_string("k"), "h\xC3\xA9llo");
    EXPECT_EQ(g->get("a.strs").strings, (std::vector<std::string>{"x", "", "\xC4\xA0the"}));
    EXPECT_EQ(g->get("a.ints").ints, (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(g->get("a.ints").elem, GgufType::kI32);
    EXPECT_EQ(g->get("a.floats").floats, (std::vector<double>{1.5, -0.25}));
    EXPECT_EQ(g->get("a.empty").size(), 0u);
    EXPECT_EQ(g->data_offset() % alignment, 0u);
    ASSERT_EQ(g->tensors().size(), shapes.size());
    for (size_t k = 0; k < shapes.size(); ++k) {
      const GgufTensorInfo& t = g->tensors()[k];
      EXPECT_EQ(t.shape(), shapes[k]);
      EXPECT_EQ(t.offset % alignment, 0u) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % alignment, 0u) << t.name;  // mmap is page-aligned
      std::vector<float> v = g->tensor_f32(t);
      for (size_t i = 0; i < v.size(); ++i) {
        float want = k == 1 ? 1.0f + i / 1024.0f : static_cast<float>(k * 100 + i);
        EXPECT_EQ(v[i], want) << t.name << "[" << i << "]";
      }
    }
    ::unlink(path.c_str());
  }
}

TEST(GgufWriter, FailedWriteLeavesNoFile) {
  std::string path = temp_path("failed.gguf");
  GgufWriter w;
  GgufTensorSpec t;
  t.name = "w";
  t.shape = {4};
  t.produce = [](std::vector<uint8_t>&) { throw Error("source tensor unreadable"); };
  w.add_tensor(t);
  EXPECT_THROW(w.write(path), Error);
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(path + ".tmp-" + std::to_string(::getpid())));
}

TEST(GgufWriter, RejectsDuplicates) {
  GgufWriter w;
  w.add_kv("k", GgufValue::u32(1));
  EXPECT_THROW(w.add_kv("k", GgufValue::u32(2)), Error);
  GgufTensorSpec t;
  t.name = "w";
  t.shape = {4};
  w.add_tensor(t);
  EXPECT_THROW(w.add_tensor(t), Error);
}

// ---- half precision against hand-computed values

TEST(GgufReader, HalfToFloat) {
  EXPECT_EQ(gguf_f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(gguf_f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(gguf_f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(gguf_f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(gguf_f16_to_f32(0x0200), std::ldexp(1.0f, -15));
  EXPECT_EQ(gguf_f16_to_f32(0x3555), (1.0f + 0x155 / 1024.0f) * 0.25f);  // exponent 13, mantissa 0x155
  EXPECT_TRUE(std::isinf(gguf_f16_to_f32(0x7C00)));
  EXPECT_EQ(gguf_bf16_to_f32(0x3F80), 1.0f);
}

// ---- bad input: each message names the file and what is wrong

std::string open_error(const std::string& bytes, const std::string& name) {
  std::string path = temp_path(name);
  write_bytes(path, bytes);
  std::string msg;
  try {
    GgufFile::open(path);
  } catch (const Error& e) {
    msg = e.what();
  }
  ::unlink(path.c_str());
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  return msg;
}

TEST(GgufReader, BadInputMessages) {
  std::string good = example_file();

  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(open_error(bad_magic, "magic.gguf").find("not a GGUF file"), std::string::npos);

  std::string bad_version = good;
  bad_version[4] = 9;
  EXPECT_NE(open_error(bad_version, "version.gguf").find("version 9"), std::string::npos);

  EXPECT_NE(open_error(good.substr(0, 30), "truncated.gguf").find("truncated"), std::string::npos);

  // The tensor's data cut off: the file ends inside it.
  EXPECT_NE(open_error(good.substr(0, good.size() - 20), "short.gguf").find("past the end"), std::string::npos);

  // A tensor offset that is not a multiple of 32 (the offset field is the last 8 bytes before padding).
  Bytes x;
  x.u8('G'); x.u8('G'); x.u8('U'); x.u8('F'); x.u32(3); x.u64(1); x.u64(0);
  x.str("w"); x.u32(1); x.u64(4); x.u32(0); x.u64(8);
  x.pad_to(32);
  for (int i = 0; i < 16; ++i) x.f32(0);
  std::string msg = open_error(x.b, "misaligned.gguf");
  EXPECT_NE(msg.find("tensor w"), std::string::npos) << msg;
  EXPECT_NE(msg.find("alignment"), std::string::npos) << msg;

  // An array whose length runs past the end of the file.
  Bytes y;
  y.u8('G'); y.u8('G'); y.u8('U'); y.u8('F'); y.u32(3); y.u64(0); y.u64(1);
  y.str("tokenizer.ggml.tokens"); y.u32(9); y.u32(8); y.u64(1ull << 40);
  EXPECT_NE(open_error(y.b, "array.gguf").find("truncated"), std::string::npos);

  // An unknown value type names the key.
  Bytes z;
  z.u8('G'); z.u8('G'); z.u8('U'); z.u8('F'); z.u32(3); z.u64(0); z.u64(1);
  z.str("general.name"); z.u32(77);
  msg = open_error(z.b, "type.gguf");
  EXPECT_NE(msg.find("general.name"), std::string::npos) << msg;
  EXPECT_NE(msg.find("77"), std::string::npos) << msg;
}

TEST(GgufReader, MissingKeyNamesFileAndKey) {
  std::string path = temp_path("missing_key.gguf");
  write_bytes(path, example_file());
  auto g = GgufFile::open(path);
  {
    const std::string msg = error_of([&] { g->get("llama.context_length"); });
    EXPECT_HAS(msg, "llama.context_length");
    EXPECT_HAS(msg, path);
  }
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace steper
