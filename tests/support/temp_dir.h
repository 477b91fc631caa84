// TempDir: a fresh folder under $TMPDIR (default /tmp), made 0700 by mkdtemp
// and removed with everything in it when the TempDir goes out of scope. The
// one temporary-folder helper of the tests and benchmarks: base/temp_dir.h
// (the product's, which returns a Status) with a test's manners.
//
// Construction aborts the test program if no folder can be made: a test
// without its scratch folder cannot mean anything.
#ifndef GITDISC_TESTS_SUPPORT_TEMP_DIR_H_
#define GITDISC_TESTS_SUPPORT_TEMP_DIR_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/temp_dir.h"

namespace gitdisc::testing {

class TempDir {
 public:
  // `prefix` names the folder (gitdisc-PREFIX-XXXXXX) so that leftovers of a
  // crashed test say whose they are.
  explicit TempDir(std::string_view prefix = "test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return dir_->path(); }
  std::string operator/(std::string_view rel) const { return path() + "/" + std::string(rel); }

 private:
  std::optional<gitdisc::TempDir> dir_;  // set by the constructor (or it aborts)
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_TEMP_DIR_H_
