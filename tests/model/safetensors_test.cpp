// safetensors reading, validation, writing, sharded folders and float16/bfloat16 conversions.
// Files are built byte by byte here, independently of safetensors_write.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/safetensors.h"
#include "common/error_of.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("steper_st_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// 8-byte little-endian size + header + data, exactly as the specification lays a file out.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.data(), s.size());
  return s;
}

std::string open_error(const std::string& path) {
  return error_of([&] { SafetensorsFile::open(path); });
}

// ---------------------------------------------------------------------------------------------

TEST(Safetensors, ReadsHandBuiltFile) {
  std::string dir = temp_dir("read");
  std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"s":{"dtype":"F16","shape":[],"data_offsets":[40,42]}}  )";
  std::string data = f32_bytes({1, 2, 3, 4, 5, 6});
  int64_t b[2] = {7, -8};
  data.append(reinterpret_cast<const char*>(b), 16);
  data += std::string("\x00\x3c", 2);  // 1.0 in half precision
  write_bytes(dir + "/x.safetensors", make_file(header, data));
  auto f = SafetensorsFile::open(dir + "/x.safetensors");
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  std::map<std::string, const TensorView*> by;
  for (const auto& t : f->tensors()) by[t.name] = &t;
  ASSERT_TRUE(by.count("a") && by.count("b") && by.count("s"));
  EXPECT_EQ(by["a"]->dtype, DType::kF32);
  EXPECT_EQ(by["a"]->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(by["a"]->nbytes, 24u);
  float a5;
  std::memcpy(&a5, by["a"]->data + 20, 4);
  EXPECT_EQ(a5, 6.0f);
  int64_t b1;
  std::memcpy(&b1, by["b"]->data + 8, 8);
  EXPECT_EQ(b1, -8);
  EXPECT_TRUE(by["s"]->shape.empty());
  uint16_t h;
  std::memcpy(&h, by["s"]->data, 2);
  EXPECT_EQ(f16_to_f32(h), 1.0f);
  fs::remove_all(dir);
}

TEST(Safetensors, EmptyFileWithNoTensorsIsValid) {
  std::string dir = temp_dir("empty");
  write_bytes(dir + "/e.safetensors", make_file("{}", ""));
  auto f = SafetensorsFile::open(dir + "/e.safetensors");
  EXPECT_TRUE(f->tensors().empty());
  fs::remove_all(dir);
}

struct BadCase {
  const char* label;
  std::string header;
  std::string data;
  const char* expect;  // a part of the message
};

TEST(Safetensors, RejectsLayoutViolationsNamingFileAndTensor) {
  std::string dir = temp_dir("bad");
  std::string d8 = std::string(8, '\1');
  std::vector<BadCase> cases = {
      {"wrong length", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d8, "\"w\""},
      {"hole", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8, "hole"},
      {"overlap",
       R"({"p":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"q":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       d8, "overlap"},
      {"leftover", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8, "cover 4 bytes"},
      {"beyond", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", d8, "beyond the data area"},
      {"reversed", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", d8, "end before begin"},
      {"dtype", R"({"w":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", d8, "unknown dtype \"F31\""},
      {"no dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", d8, "\"dtype\""},
      {"negative shape", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", d8, "non-negative"},
      {"float shape", R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", d8, "non-negative"},
      {"offsets", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", d8, "data_offsets"},
      {"metadata", R"({"__metadata__":{"n":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d8,
       "__metadata__ field \"n\""},
      {"duplicate",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       d8, "twice"},
      {"not object", R"([1,2])", "", "start with '{'"},
      {"bad json", R"({"w":)", "", "malformed JSON"},
      {"overflow", R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", d8, "2^64"},
  };
  for (const auto& c : cases) {
    std::string path = dir + "/bad.safetensors";
    write_bytes(path, make_file(c.header, c.data));
    std::string msg = open_error(path);
    EXPECT_NE(msg.find(path), std::string::npos) << c.label << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.label << ": " << msg;
  }
  // Header size larger than the file, and a file too short to hold the size.
  write_bytes(dir + "/short.safetensors", std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10));
  EXPECT_NE(open_error(dir + "/short.safetensors").find("exceeds the file"), std::string::npos);
  write_bytes(dir + "/tiny.safetensors", "abc");
  EXPECT_NE(open_error(dir + "/tiny.safetensors").find("at least the 8-byte"), std::string::npos);
  EXPECT_NE(open_error(dir + "/absent.safetensors").find("cannot open"), std::string::npos);
  fs::remove_all(dir);
}

// Many randomly damaged files: every one must either open (if the damage happens to keep it valid, and
// then every tensor lies inside the file) or throw Error; never crash.
TEST(Safetensors, RandomlyDamagedFilesGiveErrorsNotCrashes) {
  std::string dir = temp_dir("fuzz");
  std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"I64","shape":[1],"data_offsets":[32,40]}})";
  std::string good = make_file(header, std::string(40, '\x11'));
  std::mt19937 rng(1234);
  const std::string path = dir + "/f.safetensors";
  int errors = 0, opened = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bytes = good;
    int kind = iter % 5;
    if (kind == 0) {
      bytes.resize(rng() % bytes.size());  // truncate
    } else if (kind == 1) {
      int flips = 1 + rng() % 4;  // flip bytes inside the header
      for (int i = 0; i < flips; ++i) bytes[8 + rng() % header.size()] ^= static_cast<char>(1 + rng() % 255);
    } else if (kind == 2) {
      bytes[rng() % 8] = static_cast<char>(rng());  // damage the size field
    } else if (kind == 3) {
      // change one digit of the header (lengths, offsets, shapes)
      std::vector<size_t> digits;
      for (size_t i = 8; i < 8 + header.size(); ++i)
        if (bytes[i] >= '0' && bytes[i] <= '9') digits.push_back(i);
      bytes[digits[rng() % digits.size()]] = static_cast<char>('0' + rng() % 10);
    } else {
      bytes += std::string(1 + rng() % 9, '\0');  // extra bytes at the end
    }
    write_bytes(path, bytes);
    try {
      auto f = SafetensorsFile::open(path);
      ++opened;
      for (const auto& t : f->tensors()) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < t.nbytes; ++i) sink = sink + t.data[i];  // must be readable
      }
    } catch (const Error& e) {
      ++errors;
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(errors, 2500);
  SUCCEED() << opened << " damaged files stayed valid";
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------

TEST(Safetensors, WriteThenReadRoundTripAligned) {
  std::string dir = temp_dir("write");
  std::vector<float> a = {1.5f, -2.0f, 3.25f};
  std::vector<uint16_t> h = {f32_to_f16(0.5f), f32_to_f16(-1.0f)};
  std::vector<TensorView> ts(2);
  ts[0].name = "layer.weight";
  ts[0].dtype = DType::kF32;
  ts[0].shape = {3};
  ts[0].data = reinterpret_cast<const uint8_t*>(a.data());
  ts[0].nbytes = 12;
  ts[1].name = "half";
  ts[1].dtype = DType::kF16;
  ts[1].shape = {1, 2};
  ts[1].data = reinterpret_cast<const uint8_t*>(h.data());
  ts[1].nbytes = 4;
  safetensors_write(dir + "/m.safetensors", ts, {{"format", "pt"}});
  std::string raw = read_bytes(dir + "/m.safetensors");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(raw[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(raw.size(), 8 + n + 16);
  EXPECT_EQ(raw[8], '{');
  auto f = SafetensorsFile::open(dir + "/m.safetensors");
  EXPECT_EQ(f->metadata().at("format"), "pt");
  ASSERT_EQ(f->tensors().size(), 2u);
  for (const auto& t : f->tensors()) {
    if (t.name == "layer.weight") {
      EXPECT_EQ(std::memcmp(t.data, a.data(), 12), 0);
    } else {
      EXPECT_EQ(t.name, "half");
      EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 2}));
      EXPECT_EQ(std::memcmp(t.data, h.data(), 4), 0);
    }
  }
  // Wrong byte count is refused, naming the tensor.
  ts[0].nbytes = 8;
  EXPECT_HAS(error_of([&] { safetensors_write(dir + "/bad.safetensors", ts); }), "layer.weight");
  EXPECT_FALSE(fs::exists(dir + "/bad.safetensors"));
  fs::remove_all(dir);
}

TEST(Safetensors, ShardedFolder) {
  std::string dir = temp_dir("shards");
  write_bytes(dir + "/model-00001-of-00002.safetensors",
              make_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f32_bytes({1})));
  write_bytes(dir + "/model-00002-of-00002.safetensors",
              make_file(R"({"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({2, 3})));
  write_bytes(dir + "/model.safetensors.index.json",
              R"({"metadata":{"total_size":12},"weight_map":{"x":"model-00001-of-00002.safetensors",)"
              R"("y":"model-00002-of-00002.safetensors"}})");
  auto w = ModelWeights::open_dir(dir);
  ASSERT_NE(w->find("x"), nullptr);
  ASSERT_NE(w->find("y"), nullptr);
  EXPECT_EQ(w->find("z"), nullptr);
  EXPECT_EQ(w->all().size(), 2u);
  float y1;
  std::memcpy(&y1, w->find("y")->data + 4, 4);
  EXPECT_EQ(y1, 3.0f);

  // A missing shard is named.
  fs::remove(dir + "/model-00002-of-00002.safetensors");
  EXPECT_HAS(error_of([&] { ModelWeights::open_dir(dir); }), "model-00002-of-00002.safetensors");
  // A tensor the index promises but the shard lacks is named.
  write_bytes(dir + "/model-00002-of-00002.safetensors",
              make_file(R"({"q":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({2, 3})));
  EXPECT_HAS(error_of([&] { ModelWeights::open_dir(dir); }), "\"y\"");
  // No weights at all.
  std::string empty = temp_dir("noweights");
  EXPECT_HAS(error_of([&] { ModelWeights::open_dir(empty); }), "model.safetensors");
  fs::remove_all(dir);
  fs::remove_all(empty);
}

// ---------------------------------------------------------------------------------------------
// Conversions against the compiler's own _Float16 and against the definition of bfloat16 rounding.

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Conversions, Float16KnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie to even: zero
  EXPECT_EQ(f32_to_f16(0.1f), 0x2e66);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::nanf("")))));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3eab), 0.333984375f);
}

#if defined(__FLT16_MAX__)
TEST(Conversions, Float16MatchesCompiler) {
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t hh = static_cast<uint16_t>(h);
    _Float16 ref;
    std::memcpy(&ref, &hh, 2);
    float r = static_cast<float>(ref);
    float got = f16_to_f32(hh);
    if (std::isnan(r)) {
      EXPECT_TRUE(std::isnan(got)) << h;
    } else {
      ASSERT_EQ(bits_of(got), bits_of(r)) << h;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    float f = float_of(static_cast<uint32_t>(rng()));
    if (std::isnan(f)) continue;
    _Float16 ref = static_cast<_Float16>(f);
    uint16_t want;
    std::memcpy(&want, &ref, 2);
    ASSERT_EQ(f32_to_f16(f), want) << f;
  }
}
#endif

TEST(Conversions, BFloat16IsNearestEven) {
  std::mt19937 rng(9);
  for (int i = 0; i < 2000000; ++i) {
    uint32_t x = static_cast<uint32_t>(rng());
    float f = float_of(x);
    if (!std::isfinite(f) || std::fabs(f) > 3.0e38f) continue;
    uint16_t r = f32_to_bf16(f);
    double got = bf16_to_f32(r);
    double err = std::fabs(got - static_cast<double>(f));
    // The neighbours of the truncation are the only candidates.
    uint16_t lo = static_cast<uint16_t>(x >> 16);
    for (uint16_t c : {lo, static_cast<uint16_t>(lo + 1)}) {
      double e = std::fabs(static_cast<double>(bf16_to_f32(c)) - static_cast<double>(f));
      ASSERT_LE(err, e) << f;
      if (e == err && c != r) {
        ASSERT_EQ(r & 1, 0) << f;  // ties go to the even one
      }
    }
  }
}

}  // namespace
}  // namespace steper
