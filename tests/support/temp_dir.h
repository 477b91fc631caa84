// TempDir: a fresh folder under $TMPDIR (default /tmp), made 0700 by mkdtemp
// and removed with everything in it when the TempDir goes out of scope. The
// one temporary-folder helper of the tests and benchmarks.
//
// Construction aborts the test program if no folder can be made: a test
// without its scratch folder cannot mean anything.
#ifndef GITDISC_TESTS_SUPPORT_TEMP_DIR_H_
#define GITDISC_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace gitdisc::testing {

class TempDir {
 public:
  // `prefix` names the folder (gitdisc-PREFIX-XXXXXX) so that leftovers of a
  // crashed test say whose they are.
  explicit TempDir(std::string_view prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_TEMP_DIR_H_
