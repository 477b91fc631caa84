#include "tests/support/disc_forgery.h"

#include <sys/wait.h>

#include <cstdlib>
#include <cstring>

#include "base/file_util.h"
#include "iso/iso_reader.h"
#include "iso/volume_probe.h"

namespace gitdisc::test_support {
namespace {

constexpr size_t kPvd = 16 * 2048;

void Put32(std::string& img, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) img[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);  // LE
  for (int i = 0; i < 4; ++i) img[at + 4 + i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}

std::string Ucs2Be(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out += '\0';
    out += c;
  }
  return out;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Status PatchVolumeId(const std::string& iso_path, const std::string& volume_id) {
  GITDISC_ASSIGN_OR_RETURN(std::string img, ReadFile(iso_path));
  if (img.size() < kPvd + 2048 || volume_id.size() > 32) return Status::Invalid("bad image or id");
  std::string padded = volume_id + std::string(32 - volume_id.size(), ' ');
  img.replace(kPvd + 40, 32, padded);
  return WriteFileAtomic(iso_path, img);
}

Status ReplaceUniqueBytes(const std::string& iso_path, const std::string& from,
                          const std::string& to) {
  if (from.size() != to.size() || from.empty()) return Status::Invalid("sizes differ");
  GITDISC_ASSIGN_OR_RETURN(std::string img, ReadFile(iso_path));
  size_t at = img.find(from);
  if (at == std::string::npos) return Status::Invalid(iso_path + ": bytes not found");
  if (img.find(from, at + 1) != std::string::npos) {
    return Status::Invalid(iso_path + ": bytes occur more than once");
  }
  img.replace(at, to.size(), to);
  return WriteFileAtomic(iso_path, img);
}

Status PointJolietFileAt(const std::string& iso_path, const std::string& joliet_name,
                         const std::string& target_path) {
  uint32_t lba = 0, size = 0;
  {
    GITDISC_ASSIGN_OR_RETURN(auto reader, iso::IsoReader::Open(iso_path));
    const iso::IsoEntry* e = reader->Find(target_path);
    if (!e || e->extents.size() != 1) return Status::Invalid(target_path + ": no single extent");
    lba = e->extents[0].lba;
    size = e->extents[0].bytes;
  }
  GITDISC_ASSIGN_OR_RETURN(std::string img, ReadFile(iso_path));
  std::string name = Ucs2Be(joliet_name);
  size_t record = std::string::npos;
  for (size_t at = img.find(name); at != std::string::npos; at = img.find(name, at + 1)) {
    if (at < 33) continue;
    auto name_len = static_cast<unsigned char>(img[at - 1]);
    // The whole name, or the name and ";1" (UCS-2).
    if (name_len != name.size() && name_len != name.size() + 4) continue;
    if (name_len == name.size() + 4 && img.compare(at + name.size(), 4, Ucs2Be(";1")) != 0) {
      continue;
    }
    if (record != std::string::npos) return Status::Invalid(joliet_name + ": not unique");
    record = at - 33;
  }
  if (record == std::string::npos) return Status::Invalid(joliet_name + ": no Joliet record");
  Put32(img, record + 2, lba);
  Put32(img, record + 10, size);
  return WriteFileAtomic(iso_path, img);
}

Status HideRockRidgeFromLinux(const std::string& iso_path) {
  GITDISC_ASSIGN_OR_RETURN(std::string img, ReadFile(iso_path));
  int patched = 0;
  for (const char* id : {"RRIP_1991A", "IEEE_P1282", "IEEE_1282"}) {
    for (size_t at = img.find(id); at != std::string::npos; at = img.find(id, at + 1)) {
      // ER: 'E' 'R' LEN VERSION LEN_ID LEN_DES LEN_SRC EXT_VERSION, then the id.
      if (at >= 8 && img.compare(at - 8, 2, "ER") == 0) {
        img.replace(at - 8, 2, "XX");
        ++patched;
      }
    }
  }
  if (patched == 0) return Status::Invalid(iso_path + ": no ER entry");
  return WriteFileAtomic(iso_path, img);
}

Status WriteJolietOnlyCopy(const std::string& src_iso, const std::string& out_iso,
                           const std::string& work_dir) {
  GITDISC_ASSIGN_OR_RETURN(std::string vid, iso::ReadIsoVolumeId(src_iso));
  std::string tree = JoinPath(work_dir, "joliet-tree");
  GITDISC_RETURN_IF_ERROR(RemoveAll(tree));
  GITDISC_RETURN_IF_ERROR(MakeDirs(tree));
  std::string cmd = "xorriso -osirrox on -indev " + Quote(src_iso) + " -extract / " + Quote(tree) +
                    " >/dev/null 2>&1 && genisoimage -quiet -J -V " + Quote(vid) + " -o " +
                    Quote(out_iso) + " " + Quote(tree) + " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  (void)RemoveAll(tree);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return Status::Io("xorriso failed: " + cmd);
  }
  return Status::Ok();
}

}  // namespace gitdisc::test_support
