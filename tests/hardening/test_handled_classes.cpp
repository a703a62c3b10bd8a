// [hardening] the classes docs/hardening.md lists as handled, each tried:
// arch files over 16 MiB or with NUL bytes, .npy dtypes convkit does not
// read, checkpoint tensors of rank above 8, and the CIFAR-10 size limit.
#include <doctest/doctest.h>

#include <string>

#include "convkit/data/dataset.hpp"
#include "convkit/error.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"

using namespace convkit;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

TEST_CASE("[hardening] an arch file over 16 MiB or with NUL bytes is refused with one line") {
  const std::string dir = temp_dir();
  // Exactly 16 MiB of comment and a layer reads; one byte more does not.
  std::string text = "CONV3-2 FC-2\n#";
  text.resize(std::size_t(16) << 20, 'x');
  write_file(dir + "/max.arch", text);
  auto ok = run_convkit({"shape", "--arch-file", dir + "/max.arch", "-i", "8x8x1"});
  CHECK(ok.status == 0);
  write_file(dir + "/big.arch", text + "x");
  auto big = run_convkit({"shape", "--arch-file", dir + "/big.arch", "-i", "8x8x1"});
  CHECK(big.status == 1);
  CHECK(big.err ==
        "convkit: error: " + dir + "/big.arch: the architecture file is larger than 16 MiB\n");
  write_file(dir + "/nul.arch", std::string("CONV3-2\0FC-2\n", 13));
  auto nul = run_convkit({"shape", "--arch-file", dir + "/nul.arch", "-i", "8x8x1"});
  CHECK(nul.status == 1);
  CHECK(nul.err ==
        "convkit: error: " + dir +
            "/nul.arch: the architecture file contains NUL bytes (is it a text file?)\n");
}

TEST_CASE("[hardening] .npy dtypes convkit does not read are refused by name") {
  const std::string dir = temp_dir();
  for (const char* dtype : {"<c8", "<f2", "<U3", "|O", "<M8[s]", "|V4", "<i3"}) {
    CAPTURE(dtype);
    std::string header =
        "{'descr': '" + std::string(dtype) + "', 'fortran_order': False, 'shape': (2,), }";
    header.resize(117, ' ');
    header += '\n';
    const std::string file = std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' +
                             header + std::string(32, '\0');
    try {
      (void)parse_npy(file, "t.npy");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("t.npy: not a valid .npy file: unsupported dtype '" +
                                       std::string(dtype) + "'") == 0);
    }
    // The command line says the same in one line.
    write_file(dir + "/t.npy", file);
    auto r = run_convkit({"blur", dir + "/t.npy", "-o", dir + "/o.npy"});
    CHECK(r.status == 1);
    CHECK(r.err.find("unsupported dtype") != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
}

TEST_CASE("[hardening] a checkpoint tensor of rank above 8 is refused") {
  Checkpoint c;
  c.arch = "FC-2";
  c.in_channels = c.in_height = c.in_width = 1;
  c.class_names = {"a", "b"};
  c.optimizer = "sgd";
  c.tensors = {{"w", std::vector<std::int64_t>(8, 1), {1.f}}};
  c.tensors[0].shape.back() = 1;
  CHECK_NOTHROW(parse_checkpoint(serialize_checkpoint(c), "m.ckpt"));
  c.tensors[0].shape.push_back(1);  // rank 9
  CHECK_THROWS_WITH_AS(parse_checkpoint(serialize_checkpoint(c), "m.ckpt"),
                       doctest::Contains("tensor w has rank 9"), Error);
}

TEST_CASE("[hardening] CIFAR-10 batches over the size limit name the limit that applies") {
  const std::string dir = temp_dir();
  const std::string record = std::string(1, '\3') + std::string(3072, '\x80');
  write_file(dir + "/b.bin", record + record);
  // Two records decode to 2 * 3072 floats, 24576 bytes; the limit is max_bytes * 4.
  DataLimits fits;
  fits.max_bytes = 6144;
  CHECK(read_cifar_batches({dir + "/b.bin"}, fits).labels.size() == 2);
  DataLimits small;
  small.max_bytes = 6143;
  CHECK_THROWS_WITH_AS(read_cifar_batches({dir + "/b.bin"}, small),
                       "CIFAR-10 batches decode to 24576 bytes of pixels, more than the limit of "
                       "24572",
                       Error);
}
