// WriteArchive: tar.gz / tar.xz / zip archives written with libarchive's
// writer, for tests of UnpackArchive and unpacked artifacts: every entry is
// made exactly as given (absolute, "..", links out, devices, duplicates).
// Test-only (header-only); fails the calling test through gtest asserts.
// Needs libarchive on the test's link line.
#ifndef GITDISC_SPECS_TEST_ARCHIVE_H_
#define GITDISC_SPECS_TEST_ARCHIVE_H_

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

namespace gitdisc::specs::test_archive {

struct E {
  std::string path = "";
  std::string data = "";  // regular file content
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  std::string link = "";  // symlink target (AE_IFLNK) or hard link target
};

enum class Format { kTarGz, kTarXz, kZip };

inline void WriteArchive(const std::string& file, const std::vector<E>& entries, Format format) {
  archive* a = archive_write_new();
  if (format == Format::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (format == Format::kTarGz) archive_write_add_filter_gzip(a);
    if (format == Format::kTarXz) archive_write_add_filter_xz(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const E& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    if (e.type == AE_IFREG && !e.link.empty()) {
      archive_entry_set_hardlink(entry, e.link.c_str());
    } else {
      archive_entry_set_filetype(entry, e.type);
    }
    archive_entry_set_perm(entry, e.perm);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    if (e.type == AE_IFREG && e.link.empty()) archive_entry_set_size(entry, e.data.size());
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << e.path;
    if (e.type == AE_IFREG && !e.data.empty()) {
      archive_write_data(a, e.data.data(), e.data.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace gitdisc::specs::test_archive

#endif  // GITDISC_SPECS_TEST_ARCHIVE_H_
