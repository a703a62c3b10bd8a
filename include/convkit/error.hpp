// convkit/error.hpp — the typed errors the library throws.
//
// The library never prints and never exits: it throws one of these, and only
// the command-line layer (src/cli/main.cpp) catches them, prints one line
//   convkit: error: <what()>
// and exits 2 for UsageError, 1 for everything else.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace convkit {

/// Where in a line of text an error is.  When an error carries one, main()
/// prints the one-line message, then the line and a caret under the token:
///   convkit: error: SPEC, column 10: unknown layer 'CONVX' (expected ...)
///     CONV3-10 CONVX POOL2
///              ^^^^^
struct SourceMark {
  std::string line;  ///< the source line (tabs shown as spaces)
  int column = 1;    ///< 1-based, in characters (UTF-8 code points)
  int width = 1;     ///< how many characters to underline
};

/// Work that could not be done: bad input data, unreadable files, I/O failures.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  Error(const std::string& what, SourceMark mark)
      : std::runtime_error(what), mark_(std::make_shared<SourceMark>(std::move(mark))) {}
  /// The offending place in the source text, or nullptr.
  const SourceMark* mark() const noexcept { return mark_.get(); }

 private:
  std::shared_ptr<const SourceMark> mark_;
};

/// The request itself is malformed (bad flag values, impossible geometry).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Malformed input data; the message names the file (or "<stdin>") and position.
class ParseError : public Error {
 public:
  using Error::Error;
};

}  // namespace convkit
