// window_output_length, the one output-size formula (plan() and the CNN
// shape inference both use it), against counting the window positions.
#include <doctest/doctest.h>

#include "convkit/engine.hpp"

using namespace convkit;

TEST_CASE("[engine] window_output_length counts the positions of the window on the padded axis") {
  for (long long n = 1; n <= 12; ++n)
    for (long long k = 1; k <= 14; ++k)
      for (long long s = 1; s <= 5; ++s)
        for (long long before = 0; before <= 3; ++before)
          for (long long after = 0; after <= 3; ++after) {
            // Positions start at 0, s, 2s, ... on the padded axis of
            // n + before + after cells; a position counts if the window fits.
            long long count = 0;
            for (long long start = 0; start + k <= n + before + after; start += s) ++count;
            CAPTURE(n);
            CAPTURE(k);
            CAPTURE(s);
            CAPTURE(before);
            CAPTURE(after);
            CHECK(window_output_length(n, before, after, k, s) == count);
          }
}
