#include "specs/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cstdio>
#include <exception>
#include <new>
#include <sstream>
#include <utility>

namespace gitdisc::specs {
namespace {

// Thrown by the event handler to stop yaml-cpp at once when a limit is hit.
struct LimitHit {
  int line;
  int column;
  std::string message;
};

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(YamlStream* out, const YamlLimits& limits) : out_(out), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    doc_ = YamlDocument{-1, mark.line + 1, mark.column + 1};
    open_.clear();
  }
  void OnDocumentEnd() override {
    out_->documents.push_back(doc_);
    open_.clear();
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Add(mark, YamlNode::Kind::kNull); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Add(mark, YamlNode::Kind::kAlias);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    int i = Add(mark, YamlNode::Kind::kScalar);
    YamlNode& n = out_->nodes[static_cast<size_t>(i)];
    n.plain = tag == "?";
    n.value = value;
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Open(Add(mark, YamlNode::Kind::kSequence), mark);
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Open(Add(mark, YamlNode::Kind::kMap), mark);
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  int Add(const YAML::Mark& mark, YamlNode::Kind kind) {
    if (out_->nodes.size() >= limits_.max_nodes) {
      throw LimitHit{mark.line + 1, mark.column + 1,
                     "more than " + std::to_string(limits_.max_nodes) + " YAML nodes in one file"};
    }
    YamlNode n;
    n.kind = kind;
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    int index = static_cast<int>(out_->nodes.size());
    out_->nodes.push_back(std::move(n));
    if (open_.empty()) {
      doc_.root = index;
    } else {
      out_->nodes[static_cast<size_t>(open_.back())].children.push_back(index);
    }
    return index;
  }
  // Called on the way down, before yaml-cpp recurses into the collection: the
  // throw keeps its recursion (and ours, later) within max_depth.
  void Open(int index, const YAML::Mark& mark) {
    if (static_cast<int>(open_.size()) >= limits_.max_depth) {
      throw LimitHit{mark.line + 1, mark.column + 1,
                     "YAML nested more than " + std::to_string(limits_.max_depth) + " levels deep"};
    }
    open_.push_back(index);
  }

  YamlStream* out_;
  const YamlLimits& limits_;
  YamlDocument doc_;
  std::vector<int> open_;
};

Diagnostic MakeError(std::string_view file, int line, int column, std::string message) {
  Diagnostic d;
  d.pos = SourcePos{std::string(file), line, column};
  d.message = std::move(message);
  return d;
}

// YAML 1.2 c-printable, minus nothing: tab, LF, CR, U+0020..U+007E, U+0085,
// U+00A0..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF.
bool Printable(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

}  // namespace

std::optional<Diagnostic> CheckYamlText(std::string_view file, std::string_view s) {
  int line = 1;
  size_t line_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b = byte(i);
    size_t len = 0;
    char32_t c = 0;
    if (b < 0x80) {
      len = 1;
      c = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      c = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      c = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      c = b & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) ok = false;
      c = (c << 6) | (byte(i + k) & 0x3F);
    }
    // Overlong forms and surrogates are not UTF-8.
    if (ok && ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
               (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)) {
      ok = false;
    }
    int column = static_cast<int>(i - line_start) + 1;
    if (!ok) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      return MakeError(file, line, column,
                       std::string("not valid UTF-8 (byte ") + hex + "); spec files must be UTF-8");
    }
    if (!Printable(c)) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
      return MakeError(file, line, column,
                       std::string("control character ") + code + " is not allowed in YAML");
    }
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    i += len;
  }
  return std::nullopt;
}

YamlStream ReadYamlStream(std::string_view file, std::string_view content,
                          const YamlLimits& limits) {
  YamlStream out;
  if (content.size() > limits.max_bytes) {
    out.error =
        MakeError(file, 1, 1,
                  "file is " + std::to_string(content.size()) + " bytes, over the limit of " +
                      std::to_string(limits.max_bytes) + " bytes for YAML files");
    return out;
  }
  if (auto bad = CheckYamlText(file, content)) {
    out.error = std::move(bad);
    return out;
  }
  try {
    std::istringstream in{std::string(content)};
    YAML::Parser parser(in);
    TreeBuilder builder(&out, limits);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const LimitHit& e) {
    out.error = MakeError(file, e.line, e.column, e.message);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    out.error = MakeError(file, line, column, "YAML syntax: " + e.msg);
  } catch (const std::bad_alloc&) {
    out.error = MakeError(file, 1, 1, "out of memory while reading YAML");
  } catch (const std::exception& e) {
    out.error = MakeError(file, 1, 1, std::string("YAML reader failed: ") + e.what());
  }
  return out;
}

}  // namespace gitdisc::specs
