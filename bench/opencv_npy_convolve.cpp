// What a short C++ OpenCV program does for `convkit convolve IN.npy K.npy
// --mode same -o OUT.npy`: read a 2-D float32 .npy, true-convolve it with a
// 2-D float32 .npy kernel (zero border, output the input's size), write a
// float32 .npy.  The whole-process bench (bench/whole_process_npy.sh) times
// both.  Usage: opencv_npy_convolve IN.npy KERNEL.npy OUT.npy
#include <cstdio>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

static cv::Mat read_npy(const char* path) {  // 2-D little-endian float32, C order only
  std::FILE* f = std::fopen(path, "rb");
  unsigned char pre[10];
  if (!f || std::fread(pre, 1, 10, f) != 10 || std::memcmp(pre, "\x93NUMPY", 6)) return {};
  std::string h(pre[8] | (pre[9] << 8), ' ');
  int rows = 0, cols = 0;
  if (std::fread(h.data(), 1, h.size(), f) != h.size() || h.find("'<f4'") == std::string::npos ||
      std::sscanf(h.c_str() + h.find("'shape': (") + 10, "%d, %d", &rows, &cols) != 2)
    return {};
  cv::Mat m(rows, cols, CV_32F);
  if (std::fread(m.data, 4, m.total(), f) != m.total()) m.release();
  std::fclose(f);
  return m;
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  cv::Mat in = read_npy(argv[1]), k = read_npy(argv[2]), out;
  if (in.empty() || k.empty()) return 1;
  cv::flip(k, k, -1);  // filter2D correlates; true convolution flips the kernel
  // Anchor at the flipped kernel's (K-1)/2 from the end: scipy's and convkit's `same`.
  cv::Point anchor(k.cols - 1 - (k.cols - 1) / 2, k.rows - 1 - (k.rows - 1) / 2);
  cv::filter2D(in, out, CV_32F, k, anchor, 0, cv::BORDER_CONSTANT);
  char head[128];
  int n = std::snprintf(head, sizeof head,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", out.rows,
                        out.cols);
  std::string hdr = std::string("\x93NUMPY\x01\x00", 8) + "  " + head;
  hdr.append((64 - (hdr.size() + 1) % 64) % 64, ' ').push_back('\n');
  hdr[8] = static_cast<char>((hdr.size() - 10) & 0xff),
  hdr[9] = static_cast<char>((hdr.size() - 10) >> 8);
  (void)n;
  std::FILE* f = std::fopen(argv[3], "wb");
  bool ok = f && std::fwrite(hdr.data(), 1, hdr.size(), f) == hdr.size() &&
            std::fwrite(out.data, 4, out.total(), f) == out.total();
  return f && std::fclose(f) == 0 && ok ? 0 : 1;
}
