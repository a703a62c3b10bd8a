// tests/support/cv_border.hpp — OpenCV's name for each of convkit's border rules.
#pragma once

#include <opencv2/core.hpp>

#include "convkit/engine.hpp"

namespace convkit::test {

inline int cv_border(Border b) {
  switch (b) {
    case Border::zero:
      return cv::BORDER_CONSTANT;
    case Border::reflect:
      return cv::BORDER_REFLECT_101;
    case Border::symmetric:
      return cv::BORDER_REFLECT;
    case Border::replicate:
      return cv::BORDER_REPLICATE;
    case Border::circular:
      return cv::BORDER_WRAP;
  }
  return cv::BORDER_CONSTANT;
}

}  // namespace convkit::test
