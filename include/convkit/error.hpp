// convkit/error.hpp — the typed errors the library throws.
//
// The library never prints and never exits: it throws one of these, and only
// the command-line layer (src/cli/main.cpp) catches them, prints one line
//   convkit: error: <what()>
// and exits 2 for UsageError, 1 for everything else.
//
// A message names the library's parameters as written in its API (the field
// or argument name, "sigma must be positive"): build it from param("sigma")
// and text with +, and a front end that spells parameters its own way (the
// command line's "--sigma") renders it again with Error::message().
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convkit {

/// Error text in which some words are parameter names.
class Message {
 public:
  /// How a front end spells a parameter, given its library name.
  using Spelling = std::function<std::string(const std::string&)>;

  /// The text with each parameter spelt by `spell`.
  std::string render(const Spelling& spell) const;
  /// The text with the parameters' library names.
  std::string plain() const;

  friend Message param(std::string name);
  friend Message operator+(Message a, const Message& b);
  friend Message operator+(Message a, std::string_view text);
  friend Message operator+(std::string_view text, const Message& b);

 private:
  struct Piece {
    std::string text;
    bool is_param = false;
  };
  std::vector<Piece> pieces_;
};

/// The parameter `name` inside a Message: "param("sigma") + " must be positive"".
Message param(std::string name);

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
  /// A message naming parameters; what() gives their library names.
  explicit Error(const Message& message)
      : std::runtime_error(message.plain()), message_(std::make_shared<Message>(message)) {}
  /// The offending place in the source text, or nullptr.
  const SourceMark* mark() const noexcept { return mark_.get(); }
  /// The message with its parameters spelt by `spell` (what() when it names none).
  std::string message(const Message::Spelling& spell) const {
    return message_ ? message_->render(spell) : what();
  }
  /// This error's text after `context` (a file's name and ": "), its
  /// parameters still named as parameters.
  Error with_context(const std::string& context) const {
    return message_ ? Error(context + *message_) : Error(context + what());
  }

 private:
  std::shared_ptr<const SourceMark> mark_;
  std::shared_ptr<const Message> message_;
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
