// convkit_user IN OUT SIGMA SPEC WxHxC: blur IN (RGB) with a Gaussian of SIGMA
// into OUT, then print the shape table of the network SPEC on a WxHxC input, one
// line per layer ("TOKEN WxHxC PARAMS MACS") and "total PARAMS MACS".  Only
// the installed public headers are used.
#include <convkit/arch.hpp>
#include <convkit/error.hpp>
#include <convkit/filtering.hpp>
#include <convkit/io/image.hpp>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: convkit_user IN OUT SIGMA SPEC WxHxC\n");
    return 2;
  }
  try {
    convkit::BlurOptions blur;
    blur.sigma = std::stod(argv[3]);
    // Written as 8-bit samples, as `convkit blur` writes an 8-bit input: the
    // 8-bit image may be blurred in fixed point (PlaneFilter::rounds_to_8bit).
    convkit::PlaneFilter filter = convkit::blur_filter(blur);
    filter.rounds_to_8bit = true;
    convkit::Image out;
    convkit::apply_plane_filter(convkit::read_image(argv[1]), filter, out);
    convkit::write_image(out, argv[2]);

    const convkit::Arch arch = convkit::parse_arch(argv[4]);
    const convkit::ShapeReport report =
        convkit::infer_shapes(arch, convkit::parse_input_shape(argv[5]));
    for (std::size_t i = 0; i < report.layers.size(); ++i) {
      const convkit::LayerShape& l = report.layers[i];
      std::printf("%s %lldx%lldx%lld %lld %lld\n", arch.layers[i].text.c_str(),
                  static_cast<long long>(l.output.w), static_cast<long long>(l.output.h),
                  static_cast<long long>(l.output.c), static_cast<long long>(l.params),
                  static_cast<long long>(l.macs));
    }
    std::printf("total %lld %lld\n", static_cast<long long>(report.total_params),
                static_cast<long long>(report.total_macs));
  } catch (const convkit::Error& e) {
    std::fprintf(stderr, "convkit_user: %s\n", e.what());
    return 1;
  }
  return 0;
}
