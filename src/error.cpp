// The parameter-naming error messages of convkit/error.hpp.
#include "convkit/error.hpp"

namespace convkit {

Message param(std::string name) {
  Message m;
  m.pieces_.push_back({std::move(name), true});
  return m;
}

Message operator+(Message a, const Message& b) {
  a.pieces_.insert(a.pieces_.end(), b.pieces_.begin(), b.pieces_.end());
  return a;
}

Message operator+(Message a, std::string_view text) {
  a.pieces_.push_back({std::string(text), false});
  return a;
}

Message operator+(std::string_view text, const Message& b) {
  Message m;
  m.pieces_.push_back({std::string(text), false});
  return m + b;
}

std::string Message::render(const Spelling& spell) const {
  std::string out;
  for (const Piece& p : pieces_) out += p.is_param ? spell(p.text) : p.text;
  return out;
}

std::string Message::plain() const {
  return render([](const std::string& name) { return name; });
}

}  // namespace convkit
