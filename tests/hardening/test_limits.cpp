// [hardening] --max-pixels: the declared size of every image format is
// checked against the limit from the header, before pixel memory is
// allocated, with one clear line and no output; the limit itself is allowed.
#include <doctest/doctest.h>

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
  for (const char* ext : {"png", "jpg", "bmp", "tga", "ppm", "npy"}) {
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
