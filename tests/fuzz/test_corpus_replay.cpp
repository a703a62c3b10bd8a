// [fuzz] every input in fuzz/corpus/NAME/ (seeds and every crash ever found)
// is fed to fuzz target NAME: none may crash, leak or throw anything but a
// clean convkit::Error.  Under the ASan build this is a sanitizer check too.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "fuzz_target.hpp"
#include "support/run.hpp"

namespace fs = std::filesystem;

TEST_CASE("[fuzz] the checked-in corpora replay cleanly through their targets") {
  const fs::path root = convkit::test::source_path("fuzz/corpus");
  int replayed = 0;
  for (const auto& t : convkit::fuzz::targets()) {
    const fs::path dir = root / t.name;
    CAPTURE(t.name);
    REQUIRE_MESSAGE(fs::is_directory(dir), "fuzz target without a corpus: " << t.name);
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const std::string bytes = convkit::test::read_file(e.path().string());
      CAPTURE(e.path().string());
      convkit::fuzz::run_guarded(t.fn, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                 bytes.size());
      ++replayed;
    }
  }
  REQUIRE(!convkit::fuzz::targets().empty());
  // Each target brings at least its seed inputs.
  CHECK(replayed >= static_cast<int>(convkit::fuzz::targets().size()));
}
