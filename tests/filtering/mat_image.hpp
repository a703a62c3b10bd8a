// cv::Mat <-> convkit::Image for the filter tests (OpenCV is the oracle).
#pragma once

#include <opencv2/core.hpp>

#include "convkit/io/image.hpp"

namespace convkit::test {

/// An interleaved cv::Mat (8U, 16U or 32F; 1 to 4 channels) as a planar
/// Image with the matching bit depth (8, 16, or 32 for float).
inline Image image_from_mat(const cv::Mat& m) {
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.channels = m.channels();
  img.bit_depth = m.depth() == CV_8U ? 8 : m.depth() == CV_16U ? 16 : 32;
  cv::Mat f;
  m.convertTo(f, CV_32F);
  img.data.resize(f.total() * static_cast<std::size_t>(f.channels()));
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < img.channels; ++c)
        img.plane(c)[y * m.cols + x] = f.ptr<float>(y)[x * img.channels + c];
  return img;
}

/// Plane c of an image as a CV_32F matrix (a copy).
inline cv::Mat plane_mat(const Image& img, int c = 0) {
  return cv::Mat(img.height, img.width, CV_32F, const_cast<float*>(img.plane(c))).clone();
}

}  // namespace convkit::test
