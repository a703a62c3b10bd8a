// convkit/error.hpp — the typed errors the library throws.
//
// The library never prints and never exits: it throws one of these, and only
// the command-line layer (src/cli/main.cpp) catches them, prints one line
//   convkit: error: <what()>
// and exits 2 for UsageError, 1 for everything else.
#pragma once

#include <stdexcept>
#include <string>

namespace convkit {

/// Work that could not be done: bad input data, unreadable files, I/O failures.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
