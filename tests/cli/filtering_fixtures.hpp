// Fixtures for the blur/edge/filters CLI tests: images written and read by
// OpenCV (independent of convkit's codecs) and a tiny float32 .npy codec.
#pragma once

#include <doctest/doctest.h>
#include <cstring>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/run.hpp"

namespace convkit::test {

/// A version 1 .npy header (magic to newline) for dtype `descr` and the shape
/// text `dims` (e.g. "3, 4" or "5,").
inline std::string npy_header_bytes(const std::string& descr, const std::string& dims) {
  std::string hdr = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + hdr.size() + 1) % 64) hdr += ' ';
  hdr += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(hdr.size() & 0xff);
  out += static_cast<char>(hdr.size() >> 8);
  return out + hdr;
}

/// A grey float32 2D array as .npy (shape (rows, cols), little-endian).
inline std::string npy_bytes(const cv::Mat& m) {
  std::string out = npy_header_bytes("<f4", std::to_string(m.rows) + ", " + std::to_string(m.cols));
  cv::Mat c = m.isContinuous() ? m : m.clone();
  out.append(reinterpret_cast<const char*>(c.ptr<float>(0)), c.total() * sizeof(float));
  return out;
}

/// Read a float32 or float64 2D .npy back (C order).
inline cv::Mat read_npy(const std::string& path) {
  std::string b = read_file(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not npy");
  std::size_t hl = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
  std::string hdr = b.substr(10, hl);
  bool f8 = hdr.find("<f8") != std::string::npos;
  auto s = hdr.find("'shape': (") + 10;
  int rows = std::stoi(hdr.substr(s));
  int cols = std::stoi(hdr.substr(hdr.find(',', s) + 1));
  const char* p = b.data() + 10 + hl;
  cv::Mat m(rows, cols, CV_32F);
  for (int i = 0; i < rows * cols; ++i) {
    if (f8) {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      m.at<float>(i / cols, i % cols) = static_cast<float>(d);
    } else {
      std::memcpy(&m.at<float>(i / cols, i % cols), p + 4 * i, 4);
    }
  }
  return m;
}

inline double max_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat af, bf;
  a.convertTo(af, CV_64F);
  b.convertTo(bf, CV_64F);
  return cv::norm(af, bf, cv::NORM_INF);
}

/// "n value" lines (comment lines skipped) -> map n -> value.
inline std::map<long long, double> parse_pairs(const std::string& text) {
  std::map<long long, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    long long n;
    double v;
    REQUIRE(static_cast<bool>(ls >> n >> v));
    out[n] = v;
  }
  return out;
}

}  // namespace convkit::test
