// [signal] the library's standard signals (convkit/signal.hpp) against their
// definitions written out here, and write_signal's three file forms.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "convkit/io/npy.hpp"
#include "convkit/signal.hpp"
#include "support/run.hpp"

using namespace convkit;

TEST_CASE("[signal] make_signal: each kind sample by sample, shifted and windowed") {
  SignalSpec rect;
  rect.length = 3;
  rect.shift = 2;
  Signal s = make_signal(rect);
  CHECK(s.origin == 2);
  CHECK(s.values == std::vector<double>{1, 1, 1});
  s = make_signal(rect, SampleRange{0, 6});
  CHECK(s.origin == 0);
  CHECK(s.values == std::vector<double>{0, 0, 1, 1, 1, 0, 0});

  SignalSpec geo;
  geo.kind = SignalKind::geometric;
  geo.ratio = -0.5;
  geo.length = 5;
  s = make_signal(geo, SampleRange{-1, 5});
  for (long long n = -1; n <= 5; ++n) {
    CAPTURE(n);
    CHECK(s.values[static_cast<std::size_t>(n + 1)] == (n >= 0 && n < 5 ? std::pow(-0.5, n) : 0.0));
  }
  geo.length.reset();  // until |a|^n < 2^-60: 60 samples of 0.5^n
  geo.ratio = 0.5;
  CHECK(make_signal(geo).values.size() == 60);

  SignalSpec step;
  step.kind = SignalKind::step;
  step.shift = -1;
  CHECK(make_signal(step, SampleRange{-3, 1}).values == std::vector<double>{0, 0, 1, 1, 1});
  SignalSpec imp;
  imp.kind = SignalKind::impulse;
  CHECK(make_signal(imp, SampleRange{-1, 1}).values == std::vector<double>{0, 1, 0});

  SignalSpec sine;
  sine.kind = SignalKind::sine;
  sine.freq = 0.125;
  sine.amplitude = 3;
  sine.phase = 0.25;
  sine.shift = 1;
  s = make_signal(sine, SampleRange{-2, 9});
  for (long long n = -2; n <= 9; ++n)
    CHECK(s.values[static_cast<std::size_t>(n + 2)] ==
          doctest::Approx(3 * std::sin(2 * std::numbers::pi * 0.125 * (n - 1) + 0.25)));

  SignalSpec noise;
  noise.kind = SignalKind::noise;
  noise.length = 40;
  noise.seed = 9;
  const Signal a = make_signal(noise), b = make_signal(noise, SampleRange{10, 12});
  CHECK(std::vector<double>(a.values.begin() + 10, a.values.begin() + 13) == b.values);
  for (double v : a.values) CHECK(std::abs(v) <= 1);
  noise.seed = 10;
  CHECK(make_signal(noise).values != a.values);
}

TEST_CASE("[signal] make_signal errors name the library's parameters") {
  SignalSpec s;
  CHECK_THROWS_WITH_AS(make_signal(s), "rect needs length L", UsageError);
  s.length = 0;
  CHECK_THROWS_WITH_AS(make_signal(s), "length must be at least 1", UsageError);
  s.length = 3;
  s.ratio = 2;
  CHECK_THROWS_WITH_AS(make_signal(s), "ratio applies to the geometric signal", UsageError);
  s.ratio.reset();
  s.seed = 1;
  CHECK_THROWS_WITH_AS(make_signal(s), "seed applies to the noise signal", UsageError);
  s.seed.reset();
  CHECK_THROWS_WITH_AS(make_signal(s, SampleRange{3, 2}), "the window ends before it starts",
                       UsageError);
  SignalSpec g;
  g.kind = SignalKind::geometric;
  g.ratio = 1.5;
  CHECK_THROWS_WITH_AS(make_signal(g),
                       "geometric with |ratio| >= 1 grows without end; give length L", UsageError);
  SignalSpec st;
  st.kind = SignalKind::step;
  CHECK_THROWS_WITH_AS(make_signal(st), "step has no end: give length L or a range", UsageError);
  SignalSpec sine;
  sine.kind = SignalKind::sine;
  sine.length = 4;
  CHECK_THROWS_WITH_AS(make_signal(sine), "sine needs freq F (cycles per sample)", UsageError);
  CHECK(parse_name(kSignalKindNames, "boxcar", "signal") == SignalKind::rect);
  CHECK_THROWS_WITH_AS(
      parse_name(kSignalKindNames, "square", "signal"),
      "unknown signal 'square' (choose rect, boxcar, geometric, impulse, step, sine or noise)",
      UsageError);
}

TEST_CASE("[signal] write_signal: .npy keeps the origin, .csv is n,value rows, else n value text") {
  const std::string dir = test::temp_dir();
  const Signal s{-2, {0.5, 1, -3}};
  write_signal(s, dir + "/s.NPY");
  const NpyArray a = read_npy(dir + "/s.NPY");
  CHECK(a.origin == -2);
  CHECK(a.data == s.values);
  write_signal(s, dir + "/s.csv");
  CHECK(test::read_file(dir + "/s.csv") == "-2,0.5\n-1,1\n0,-3\n");
  write_signal(s, dir + "/s.txt");
  CHECK(test::read_file(dir + "/s.txt") == "# n value\n-2 0.5\n-1 1\n0 -3\n");
  CHECK(read_signal(dir + "/s.txt").values == s.values);
}
