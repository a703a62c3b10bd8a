// [hardening] --max-pixels: the declared size of every image format is
// checked against the limit from the header, before pixel memory is
// allocated, with one clear line and no output; the limit itself is allowed.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "convkit/io/image.hpp"
#include "support/run.hpp"

namespace fs = std::filesystem;
using namespace convkit::test;

namespace {

// A 64x48 RGB test picture (3072 pixels) in the given format.
void write_picture(const std::string& path) {
  convkit::Image img;
  img.width = 64;
  img.height = 48;
  img.channels = 3;
  img.data.resize(64 * 48 * 3);
  for (std::size_t k = 0; k < img.data.size(); ++k) img.data[k] = static_cast<float>(k * 7 % 251);
  convkit::write_image(img, path);
}

}  // namespace

TEST_CASE("[hardening] --max-pixels refuses larger images in every format, from the header") {
  const std::string dir = temp_dir();
  for (const char* ext : {"png", "jpg", "bmp", "tga", "ppm", "tif", "npy"}) {
    CAPTURE(ext);
    const std::string in = dir + "/in." + ext, out = dir + "/out." + ext;
    write_picture(in);
    auto r = run_convkit({"blur", in, "--max-pixels", "3071", "-o", out});
    CHECK(r.status == 1);
    CHECK(r.err ==
          "convkit: error: " + in +
              ": image is too large (64x48; the limit is 3071 pixels, see --max-pixels)\n");
    CHECK(!fs::exists(out));
    CHECK(run_convkit({"blur", in, "--max-pixels", "3072", "-o", out}).status == 0);
    CHECK(fs::exists(out));
  }
  // The same limit guards convolve, edge and predict.
  const std::string in = dir + "/in.png";
  auto c = run_convkit({"convolve", in, "box-3", "--max-pixels", "100", "-o", dir + "/c.png"});
  CHECK(c.status == 1);
  CHECK(c.err.find("image is too large (64x48; the limit is 100 pixels") != std::string::npos);
  auto e = run_convkit({"edge", in, "--max-pixels", "100", "-o", dir + "/e.png"});
  CHECK(e.status == 1);
  CHECK(e.err.find("image is too large") != std::string::npos);
  // Nonsense limits are usage errors.
  CHECK(run_convkit({"blur", in, "--max-pixels", "0", "-o", dir + "/z.png"}).status == 2);
  CHECK(run_convkit({"blur", in, "--max-pixels", "-5", "-o", dir + "/z.png"}).status == 2);
}

TEST_CASE("[hardening] filter sizes are capped and NaN never reaches an integer image") {
  const std::string dir = temp_dir();
  const std::string in = dir + "/in.png";
  write_picture(in);
  auto big = run_convkit({"blur", in, "--size", "4097", "-o", dir + "/b.png"});
  CHECK(big.status == 2);
  CHECK(big.err.find("--size: '4097' is out of range; give a whole number from 1 to 4095") !=
        std::string::npos);
  auto sig = run_convkit({"blur", in, "--sigma", "601", "-o", dir + "/s.png"});
  CHECK(sig.status == 2);
  CHECK(sig.err.rfind(
            "convkit: error: --sigma: '601' is out of range; give a number greater than 0 and "
            "at most 600",
            0) == 0);
  CHECK(!fs::exists(dir + "/b.png"));
  CHECK(!fs::exists(dir + "/s.png"));
  // A float image holding NaN: refused for 8-bit output under every value
  // policy (no policy maps NaN to a grey level), written as is to .npy.
  convkit::Image img;
  img.width = 3;
  img.height = 2;
  img.channels = 1;
  img.data = {1, 2, 3, 4, std::nanf(""), 6};
  convkit::write_image(img, dir + "/nan.npy");
  for (const char* policy : {"--clip", "--abs", "--normalize"}) {
    CAPTURE(policy);
    auto r = run_convkit({"blur", dir + "/nan.npy", "--size", "1", policy, "-o", dir + "/n.png"});
    CHECK(r.status == 1);
    CHECK(r.err.find("value nan at x=1, y=1 cannot be written to PNG") != std::string::npos);
    CHECK(!fs::exists(dir + "/n.png"));
  }
  CHECK(run_convkit({"blur", dir + "/nan.npy", "--size", "1", "-o", dir + "/n.npy"}).status == 0);
}
