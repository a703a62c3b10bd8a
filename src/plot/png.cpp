// PNG output of a canvas: through convkit's one image writer (write_image,
// libpng, atomic).
#include <cctype>
#include <string>

#include "convkit/io/image.hpp"
#include "convkit/plot.hpp"

namespace convkit::plot {

Image Canvas::to_image() const {
  Image img;
  img.width = width_;
  img.height = height_;
  img.channels = 3;
  img.bit_depth = 8;
  const std::size_t n = static_cast<std::size_t>(width_) * height_;
  img.data.resize(n * 3);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < 3; ++c) img.data[c * n + i] = rgb_[i * 3 + c];
  return img;
}

bool is_png_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

void save_png(const Canvas& canvas, const std::string& path) {
  ImageWriteOptions o;
  o.png_compression = 6;  // figures are small and mostly flat: compress well
  write_image(canvas.to_image(), path, o);
}

}  // namespace convkit::plot
