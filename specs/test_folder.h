// TestFolder: a temporary folder for tests of spec loading, removed with
// everything in it when the object goes out of scope. Test-only (header-only,
// not part of the library's API); throws on failure, as a test helper may.
#ifndef GITDISC_SPECS_TEST_FOLDER_H_
#define GITDISC_SPECS_TEST_FOLDER_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "base/file_util.h"

namespace gitdisc::specs {

class TestFolder {
 public:
  TestFolder() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/gitdisc-specs-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TestFolder() { (void)RemoveAll(path_); }
  TestFolder(const TestFolder&) = delete;
  TestFolder& operator=(const TestFolder&) = delete;

  const std::string& path() const { return path_; }
  std::string Abs(std::string_view rel) const { return JoinPath(path_, rel); }

  // Writes a file, making its folders.
  void Write(std::string_view rel, std::string_view content, int mode = 0644) const {
    std::string abs = Abs(rel);
    Check(MakeDirs(abs.substr(0, abs.rfind('/'))));
    Check(WriteFileAtomic(abs, content, mode));
    if (::chmod(abs.c_str(), static_cast<mode_t>(mode)) != 0) throw std::runtime_error("chmod");
  }
  void Mkdir(std::string_view rel) const { Check(MakeDirs(Abs(rel))); }
  void Symlink(std::string_view rel, const std::string& target) const {
    std::string abs = Abs(rel);
    Check(MakeDirs(abs.substr(0, abs.rfind('/'))));
    if (::symlink(target.c_str(), abs.c_str()) != 0) throw std::runtime_error("symlink " + abs);
  }

 private:
  static void Check(const Status& s) {
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  std::string path_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_TEST_FOLDER_H_
