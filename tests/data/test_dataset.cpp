// [data] IDX, CIFAR-10, image folders, the synthetic edge set, splits,
// normalization and batch assembly, on small files made by the tests.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "convkit/data/dataset.hpp"
#include "convkit/error.hpp"
#include "support/run.hpp"

using namespace convkit;
namespace fs = std::filesystem;

namespace {

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  s[0] = char(v >> 24);
  s[1] = char(v >> 16);
  s[2] = char(v >> 8);
  s[3] = char(v);
  return s;
}

std::string idx_bytes(const std::vector<std::uint32_t>& dims,
                      const std::vector<unsigned char>& data, unsigned char type = 0x08) {
  std::string s;
  s += '\0';
  s += '\0';
  s += char(type);
  s += char(dims.size());
  for (auto d : dims) s += be32(d);
  s.append(data.begin(), data.end());
  return s;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

// A 2x2 PGM with the values v, v+1, v+2, v+3.
std::string pgm(int v) {
  std::string s = "P5\n2 2\n255\n";
  for (int k = 0; k < 4; ++k) s += char(v + k);
  return s;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// 4 images of 3 rows x 2 cols, pixel value = 10*i + k; labels 2,0,1,2.
struct SmallIdx {
  std::vector<unsigned char> px, lb = {2, 0, 1, 2};
  SmallIdx() {
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 6; ++k) px.push_back(static_cast<unsigned char>(10 * i + k));
  }
};

}  // namespace

TEST_CASE("[data] an IDX pair reads the same plain and gzip'd") {
  const std::string dir = test::temp_dir();
  SmallIdx s;
  const std::string im = idx_bytes({4, 3, 2}, s.px), lb = idx_bytes({4}, s.lb);
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const std::string ip = dir + "/im" + (gz ? ".gz" : ""), lp = dir + "/lb" + (gz ? ".gz" : "");
    if (gz) {
      write_gz(ip, im);
      write_gz(lp, lb);
    } else {
      test::write_file(ip, im);
      test::write_file(lp, lb);
    }
    Dataset d = read_idx_pair(ip, lp);
    CHECK(d.size() == 4);
    CHECK(d.channels == 1);
    CHECK(d.height == 3);
    CHECK(d.width == 2);
    CHECK(d.num_classes() == 3);
    CHECK(d.labels == std::vector<std::int32_t>{2, 0, 1, 2});
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 6; ++k) CHECK(d.image(i)[k] == float(10 * i + k));
  }
}

TEST_CASE("[data] lying or broken IDX headers are refused before allocating") {
  const std::string dir = test::temp_dir();
  SmallIdx s;
  auto check_plain = [&](const std::string& bytes, const std::string& needle) {
    const std::string p = dir + "/bad";
    test::write_file(p, bytes);
    const std::string e = error_of([&] { read_idx(p); });
    CAPTURE(e);
    CHECK(e.find(p) == 0);
    CHECK(e.find(needle) != std::string::npos);
  };
  SUBCASE("truncated data") {
    check_plain(idx_bytes({5, 3, 2}, s.px), "truncated");
  }
  SUBCASE("trailing data") {
    check_plain(idx_bytes({3, 3, 2}, s.px), "holds 40 bytes");
  }
  SUBCASE("huge dimensions") {
    check_plain(idx_bytes({0x7fffffff, 0x7fffffff, 0x7fffffff}, s.px), "refusing");
  }
  SUBCASE("zero dimension") {
    check_plain(idx_bytes({0, 3, 2}, {}), "dimension 1 is 0");
  }
  SUBCASE("bad magic") {
    check_plain("\x01\x02\x08\x01" + be32(1) + "x", "not an IDX file");
  }
  SUBCASE("float elements") {
    check_plain(idx_bytes({1}, {0, 0, 0, 0}, 0x0D), "float32");
  }
  SUBCASE("header cut short") {
    check_plain(std::string("\0\0\x08\x03", 4) + be32(4), "header ends");
  }
  SUBCASE("gzip'd with a header promising more than the stream holds") {
    const std::string p = dir + "/bad.gz";
    write_gz(p, idx_bytes({400, 3, 2}, s.px));
    const std::string e = error_of([&] { read_idx(p); });
    CHECK(e.find("gzip trailer") != std::string::npos);
  }
  SUBCASE("gzip'd header promising gigabytes in a tiny file") {
    const std::string p = dir + "/huge.gz";
    write_gz(p, idx_bytes({60000, 100, 100}, s.px));
    const std::string e = error_of([&] { read_idx(p); });
    CHECK(e.find("can hold") != std::string::npos);
  }
  SUBCASE("corrupt gzip stream") {
    const std::string p = dir + "/corrupt.gz";
    std::vector<unsigned char> big(3000);
    for (std::size_t i = 0; i < big.size(); ++i)
      big[i] = static_cast<unsigned char>(i * 7919 % 251);
    write_gz(p, idx_bytes({3000}, big));
    std::string bytes = test::read_file(p);
    for (std::size_t i = 20; i < bytes.size() - 8; i += 3) bytes[i] = char(bytes[i] ^ 0x5a);
    test::write_file(p, bytes);
    CHECK(!error_of([&] { read_idx(p); }).empty());
  }
  SUBCASE("image and label counts disagree") {
    test::write_file(dir + "/im", idx_bytes({4, 3, 2}, s.px));
    test::write_file(dir + "/lb", idx_bytes({3}, {0, 1, 2}));
    const std::string e = error_of([&] { read_idx_pair(dir + "/im", dir + "/lb"); });
    CHECK(e.find("3 labels") != std::string::npos);
    CHECK(e.find("4 images") != std::string::npos);
  }
}

TEST_CASE("[data] an MNIST-style directory opens with train and test parts and class names") {
  const std::string dir = test::temp_dir();
  SmallIdx s;
  write_gz(dir + "/train-images-idx3-ubyte.gz", idx_bytes({4, 3, 2}, s.px));
  write_gz(dir + "/train-labels-idx1-ubyte.gz", idx_bytes({4}, s.lb));
  test::write_file(dir + "/t10k-images-idx3-ubyte", idx_bytes({1, 3, 2}, {1, 2, 3, 4, 5, 6}));
  test::write_file(dir + "/t10k-labels-idx1-ubyte", idx_bytes({1}, {0}));
  test::write_file(dir + "/classes.txt", "cat\ndog\nbird\n");
  DataSource src = open_dataset(dir);
  CHECK(src.train.size() == 4);
  CHECK(src.test.size() == 1);
  CHECK(src.train.class_names == std::vector<std::string>{"cat", "dog", "bird"});
  CHECK(src.test.class_names.size() == 3);
  CHECK(src.test.image(0)[5] == 6.f);
}

TEST_CASE("[data] fashion-mnist resolves to the Debian package and its labels are balanced") {
  const std::string dir = fashion_mnist_dir();
  const std::string p = dir + "/t10k-labels-idx1-ubyte.gz";
  if (!fs::exists(p)) {
    // CTest reports the test as skipped (tests/CMakeLists.txt), not passed.
    std::printf("CONVKIT-TEST-SKIPPED: dataset-fashion-mnist not installed (no %s)\n", p.c_str());
    std::fflush(stdout);
    return;
  }
  // Only the 10 kB label file: the test set has 1000 items of each class.
  IdxArray a = read_idx(p);
  REQUIRE(a.dims == std::vector<std::int64_t>{10000});
  std::vector<int> count(10);
  for (auto v : a.data) {
    REQUIRE(v < 10);
    ++count[v];
  }
  for (int c : count) CHECK(c == 1000);
  CHECK(kFashionMnistClasses.size() == 10);
  CHECK(kFashionMnistClasses[9] == "Ankle boot");
}

TEST_CASE("[data] CIFAR-10 batches: planar records, names, and size checks") {
  const std::string dir = test::temp_dir();
  auto record = [](int label, int base) {
    std::string r(1, char(label));
    for (int k = 0; k < 3072; ++k) r += char((base + k) % 256);
    return r;
  };
  test::write_file(dir + "/data_batch_1.bin", record(3, 0) + record(7, 5));
  test::write_file(dir + "/data_batch_2.bin", record(1, 9));
  test::write_file(dir + "/test_batch.bin", record(9, 1));
  test::write_file(dir + "/batches.meta.txt",
                   "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  DataSource src = open_dataset(dir);
  REQUIRE(src.train.size() == 3);
  CHECK(src.train.labels == std::vector<std::int32_t>{3, 7, 1});
  CHECK(src.train.channels == 3);
  // Image 1, green plane (c = 1), pixel (y = 2, x = 3): byte 1024 + 2*32 + 3 of the record.
  CHECK(src.train.image(1)[1024 + 2 * 32 + 3] == float((5 + 1024 + 67) % 256));
  CHECK(src.test.labels == std::vector<std::int32_t>{9});
  CHECK(src.train.class_names[3] == "cat");
  test::write_file(dir + "/data_batch_2.bin", record(1, 9).substr(0, 3000));
  const std::string e = error_of([&] { open_dataset(dir); });
  CHECK(e.find("data_batch_2.bin") != std::string::npos);
  CHECK(e.find("3073-byte") != std::string::npos);
  test::write_file(dir + "/data_batch_2.bin", record(12, 9));
  CHECK(error_of([&] { open_dataset(dir); }).find("label 12") != std::string::npos);
}

TEST_CASE("[data] an image folder has one class per subfolder") {
  const std::string dir = test::temp_dir();
  for (const char* part : {"train", "test"}) {
    fs::create_directories(dir + "/" + part + "/circle");
    fs::create_directories(dir + "/" + part + "/square");
    test::write_file(dir + "/" + part + "/circle/a.pgm", pgm(10));
    test::write_file(dir + "/" + part + "/square/b.pgm", pgm(20));
    test::write_file(dir + "/" + part + "/square/c.pgm", pgm(30));
  }
  DataSource src = open_dataset(dir);
  CHECK(src.train.class_names == std::vector<std::string>{"circle", "square"});
  CHECK(src.train.labels == std::vector<std::int32_t>{0, 1, 1});
  CHECK(src.test.size() == 3);
  CHECK(src.train.image(2)[3] == 33.f);
  // Without train/ and test/ the folder itself is the set.
  DataSource flat = open_dataset(dir + "/train");
  CHECK(flat.train.size() == 3);
  test::write_file(dir + "/train/square/d.pgm", "P5\n3 1\n255\nabc");
  const std::string e = error_of([&] { open_dataset(dir); });
  CHECK(e.find("d.pgm") != std::string::npos);
  CHECK(e.find("same size") != std::string::npos);
}

TEST_CASE("[data] image folders skip hidden entries and warn about class folders without images") {
  const std::string dir = test::temp_dir();
  for (const char* sub : {"cat", "dog", ".git", ".ipynb_checkpoints", "empty"})
    fs::create_directories(dir + "/" + sub);
  test::write_file(dir + "/cat/1.pgm", pgm(10));
  test::write_file(dir + "/dog/1.pgm", pgm(20));
  test::write_file(dir + "/dog/2.pgm", pgm(30));
  // Hidden: a notebook checkpoint "class", a thumbnail, and a macOS
  // resource fork that is not an image at all.
  test::write_file(dir + "/.git/x.pgm", pgm(40));
  test::write_file(dir + "/.ipynb_checkpoints/y.pgm", pgm(50));
  test::write_file(dir + "/cat/.thumb.pgm", pgm(60));
  test::write_file(dir + "/dog/._2.pgm", std::string("\x00\x05\x16\x07", 4) + " resource fork");
  test::write_file(dir + "/empty/notes.txt", "no images here");
  const DataSource src = open_dataset(dir);
  CHECK(src.train.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(src.train.labels == std::vector<std::int32_t>{0, 1, 1});
  CHECK(src.train.image(0)[0] == 10.f);
  CHECK(src.single_part);
  REQUIRE(src.warnings.size() == 1);
  CHECK(src.warnings[0].find("empty") != std::string::npos);
  CHECK(src.warnings[0].find("no images") != std::string::npos);
}

TEST_CASE("[data] a test folder may lack a class but may not bring one unknown to training") {
  const std::string dir = test::temp_dir();
  const std::string img = "P5\n2 2\n255\nabcd";
  for (const char* f : {"train/a/1.pgm", "train/b/1.pgm", "train/c/1.pgm", "test/c/1.pgm"}) {
    fs::create_directories(fs::path(dir + "/" + f).parent_path());
    test::write_file(dir + "/" + f, img);
  }
  DataSource src = open_dataset(dir);
  CHECK(src.test.class_names == std::vector<std::string>{"a", "b", "c"});
  CHECK(src.test.labels == std::vector<std::int32_t>{2});
  CHECK(!src.single_part);
  fs::create_directories(dir + "/test/zebra");
  test::write_file(dir + "/test/zebra/1.pgm", img);
  const std::string e = error_of([&] { open_dataset(dir); });
  CHECK(e.find("zebra") != std::string::npos);
  CHECK(e.find("no training folder") != std::string::npos);
}

TEST_CASE("[data] relabel_classes matches classes by name, or by number when unnamed") {
  Dataset d;
  d.channels = d.height = d.width = 1;
  d.images = {1, 2, 3};
  d.class_names = {"b", "c"};
  d.labels = {0, 1, 1};
  const std::vector<std::string> model = {"a", "b", "c"};
  Dataset named = d;
  CHECK(relabel_classes(named, model, "data", "m.ckpt") == std::vector<std::string>{"a"});
  CHECK(named.labels == std::vector<std::int32_t>{1, 2, 2});
  CHECK(named.class_names == model);
  Dataset unnamed = d;
  unnamed.class_names = {"0", "1"};
  CHECK(relabel_classes(unnamed, model, "data", "m.ckpt") == std::vector<std::string>{"c"});
  CHECK(unnamed.labels == std::vector<std::int32_t>{0, 1, 1});
  Dataset foreign = d;
  foreign.class_names = {"b", "zebra"};
  const std::string e = error_of([&] { relabel_classes(foreign, model, "data", "m.ckpt"); });
  CHECK(e.find("'zebra'") != std::string::npos);
  CHECK(e.find("m.ckpt") != std::string::npos);
}

TEST_CASE("[data] unknown data sets are usage errors") {
  CHECK_THROWS_AS(open_dataset("/no/such/dir"), UsageError);
  const std::string dir = test::temp_dir();
  CHECK(error_of([&] { open_dataset(dir); }).find("not a data set") != std::string::npos);
}

TEST_CASE("[data] synthetic-edges: balanced lines of ones, seeded") {
  Dataset a = make_synthetic_edges(30, 8, 7, 0.f);
  CHECK(a.size() == 30);
  CHECK(a.class_names.size() == 3);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float* p = a.image(i);
    int ones = 0, full_rows = 0, full_cols = 0;
    for (int y = 0; y < 8; ++y) {
      int r = 0, c = 0;
      for (int x = 0; x < 8; ++x) {
        ones += p[y * 8 + x] == 255.f;
        r += p[y * 8 + x] == 255.f;
        c += p[x * 8 + y] == 255.f;
      }
      full_rows += r == 8;
      full_cols += c == 8;
    }
    CHECK(a.labels[i] == int(i % 3));
    if (a.labels[i] == 0) CHECK((ones == 8 && full_rows == 1));
    if (a.labels[i] == 1) CHECK((ones == 8 && full_cols == 1));
    if (a.labels[i] == 2) CHECK(ones == 0);
  }
  // The line positions vary (random circular shifts).
  std::set<int> rows;
  for (std::size_t i = 0; i < a.size(); i += 3)
    for (int y = 0; y < 8; ++y)
      if (a.image(i)[y * 8] == 255.f) rows.insert(y);
  CHECK(rows.size() > 3);
  CHECK(make_synthetic_edges(30, 8, 7).images == make_synthetic_edges(30, 8, 7).images);
  CHECK(make_synthetic_edges(30, 8, 7).images != make_synthetic_edges(30, 8, 8).images);
}

TEST_CASE("[data] the validation split is seeded, disjoint and complete") {
  Dataset d = make_synthetic_edges(50, 4, 1, 0.5f);
  Split s = split_validation(d, 0.2, 42);
  CHECK(s.val.size() == 10);
  CHECK(s.train.size() == 40);
  // Every image appears exactly once across the two parts.
  std::multiset<std::vector<float>> all, parts;
  for (std::size_t i = 0; i < d.size(); ++i) all.insert({d.image(i), d.image(i) + 16});
  for (const Dataset* p : {&s.train, &s.val})
    for (std::size_t i = 0; i < p->size(); ++i) parts.insert({p->image(i), p->image(i) + 16});
  CHECK(all == parts);
  CHECK(split_validation(d, 0.2, 42).val.images == s.val.images);
  CHECK(split_validation(d, 0.2, 43).val.images != s.val.images);
  CHECK(split_validation(d, 0.0, 1).val.size() == 0);
  CHECK(split_validation(d, 0.001, 1).val.size() == 1);
  CHECK_THROWS_AS(split_validation(d, 1.0, 1), UsageError);
}

TEST_CASE("[data] per-channel normalization and batches match a direct computation") {
  Dataset d;
  d.channels = 2;
  d.height = 2;
  d.width = 3;
  d.class_names = {"a", "b"};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 12; ++k) d.images.push_back(float((i * 12 + k) * (k < 6 ? 1 : 3) % 17));
    d.labels.push_back(i % 2);
  }
  Normalization n = compute_normalization(d);
  for (int c = 0; c < 2; ++c) {
    double s = 0, s2 = 0;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 6; ++k) s += d.image(i)[c * 6 + k];
    const double m = s / 18;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 6; ++k) s2 += std::pow(d.image(i)[c * 6 + k] - m, 2);
    CHECK(n.mean[c] == doctest::Approx(m));
    CHECK(n.stddev[c] == doctest::Approx(std::sqrt(s2 / 18)));
  }
  const std::size_t idx[2] = {2, 0};
  std::vector<float> out(24);
  std::int32_t lab[2];
  make_batch(d, idx, 2, n, {}, nullptr, out.data(), lab);
  CHECK(lab[0] == 0);
  CHECK(lab[1] == 0);
  for (int k = 0; k < 12; ++k)
    CHECK(out[k] == doctest::Approx((d.image(2)[k] - n.mean[k / 6]) / n.stddev[k / 6]));
}

TEST_CASE("[data] augmentation is a shifted, maybe mirrored copy, drawn from the seed") {
  Dataset d = make_synthetic_edges(1, 6, 3, 1.f);
  Normalization id{{0.f}, {1.f}};
  Augment aug{2, true};
  std::size_t idx = 0;
  std::int32_t lab;
  DataRng rng(11);
  int flips = 0, shifts = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<float> out(36);
    make_batch(d, &idx, 1, id, aug, &rng, out.data(), &lab);
    bool found = false;
    for (int f = 0; f < 2 && !found; ++f)
      for (int dy = -2; dy <= 2 && !found; ++dy)
        for (int dx = -2; dx <= 2 && !found; ++dx) {
          bool ok = true;
          for (int y = 0; y < 6 && ok; ++y)
            for (int x = 0; x < 6 && ok; ++x) {
              const int sy = y + dy, sx = (f ? 5 - x : x) + dx;
              const float want =
                  (sy < 0 || sy > 5 || sx < 0 || sx > 5) ? 0.f : d.image(0)[sy * 6 + sx];
              ok = out[y * 6 + x] == want;
            }
          if (ok) {
            found = true;
            flips += f;
            shifts += (dy != 0 || dx != 0);
          }
        }
    CHECK(found);
  }
  CHECK(flips > 5);
  CHECK(shifts > 20);
}

TEST_CASE("[data] crop and flip: every offset and mirror occurs, each one exactly that copy") {
  // A 2-channel image of distinct values, so a batch image matches at most one
  // (flip, dy, dx): out(c, y, x) = in(c, y + dy, (flip ? W-1-x : x) + dx), 0 outside,
  // in normalized units (mean 10, sd 2 here).
  Dataset d;
  d.channels = 2;
  d.height = 5;
  d.width = 7;
  d.class_names = {"a"};
  d.labels = {0};
  for (int i = 0; i < 70; ++i) d.images.push_back(static_cast<float>(i * 3 + 1));
  Normalization norm{{10.f, 10.f}, {2.f, 2.f}};
  const int pad = 2;
  Augment aug{pad, true};
  DataRng rng(3);
  std::size_t idx = 0;
  std::int32_t lab;
  std::vector<int> seen(2 * 25, 0);
  for (int trial = 0; trial < 1500; ++trial) {
    std::vector<float> out(70);
    make_batch(d, &idx, 1, norm, aug, &rng, out.data(), &lab);
    int matches = 0;
    for (int f = 0; f < 2; ++f)
      for (int dy = -pad; dy <= pad; ++dy)
        for (int dx = -pad; dx <= pad; ++dx) {
          bool ok = true;
          for (int c = 0; c < 2 && ok; ++c)
            for (int y = 0; y < 5 && ok; ++y)
              for (int x = 0; x < 7 && ok; ++x) {
                const int sy = y + dy, sx = (f ? 6 - x : x) + dx;
                const float want = (sy < 0 || sy > 4 || sx < 0 || sx > 6)
                                       ? 0.f
                                       : (d.images[c * 35 + sy * 7 + sx] - 10.f) * 0.5f;
                ok = out[c * 35 + y * 7 + x] == want;
              }
          if (ok) {
            ++matches;
            ++seen[f * 25 + (dy + pad) * 5 + dx + pad];
          }
        }
    CHECK(matches == 1);
  }
  // 1500 draws over 50 equally likely outcomes: 30 expected each.
  for (int s : seen) CHECK(s >= 10);
}
