// Images onto hosts (DESIGN.md §5): a local connection inserts the cached
// image by its path, which the QEMU user must be able to read; a remote one
// gets the image uploaded once into the storage pool `gitdisc`.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/unique_fd.h"
#include "providers/libvirt_connection.h"
#include "providers/libvirt_provider.h"
#include "providers/qemu_access.h"
#include "providers/storage_xml.h"

namespace gitdisc {
namespace {

constexpr char kPoolName[] = "gitdisc";

// Checks that the QEMU user (not root) can open `path`: the file becomes
// readable to all (its folder keeps others out), and each directory above it
// must be searchable by QEMU's user (providers/qemu_access.h).
Status MakeReadableByQemu(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::Invalid("PrepareImage: image path must be absolute: '" + path + "'");
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("PrepareImage: stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid("PrepareImage: not a regular file: " + path);
  if ((st.st_mode & 0444) != 0444 && ::chmod(path.c_str(), (st.st_mode & 07777) | 0444) != 0) {
    return Status::FromErrno("PrepareImage: chmod a+r " + path, errno);
  }
  const QemuIdentity qemu = LocalQemuIdentity();
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0) return Status::FromErrno("PrepareImage: stat " + dir, errno);
    if (!QemuCanSearch(qemu, st.st_mode, st.st_uid, st.st_gid)) {
      return Status::Permission("PrepareImage: QEMU (user " + qemu.user + ") cannot reach " +
                                path + ": directory " + dir + " is not searchable by it (chgrp " +
                                qemu.user + " " + dir + " && chmod g+x " + dir +
                                ", or keep the image cache elsewhere)");
    }
  }
  return Status::Ok();
}

// The `gitdisc` pool on this connection, defined (with `target_dir`),
// built, started and set to autostart when missing; refreshed.
Result<PoolPtr> EnsurePool(virConnectPtr conn, const std::string& uri,
                           const std::string& target_dir) {
  const std::string what = std::string(kPoolName) + " on " + uri;
  PoolPtr pool(virStoragePoolLookupByName(conn, kPoolName));
  if (!pool) {
    std::string xml = DirPoolXml(kPoolName, target_dir);
    pool.reset(virStoragePoolDefineXML(conn, xml.c_str(), 0));
    if (!pool) return LibvirtError("virStoragePoolDefineXML", what);
    if (virStoragePoolBuild(pool.get(), 0) < 0) return LibvirtError("virStoragePoolBuild", what);
    virStoragePoolSetAutostart(pool.get(), 1);
  }
  int active = virStoragePoolIsActive(pool.get());
  if (active < 0) return LibvirtError("virStoragePoolIsActive", kPoolName);
  if (!active && virStoragePoolCreate(pool.get(), 0) < 0) {
    return LibvirtError("virStoragePoolCreate", what);
  }
  if (virStoragePoolRefresh(pool.get(), 0) < 0) return LibvirtError("virStoragePoolRefresh", what);
  return pool;
}

Result<VolPtr> CreateVolume(virStoragePoolPtr pool, const std::string& name, uint64_t bytes) {
  std::string xml = RawVolumeXml(name, bytes);
  VolPtr vol(virStorageVolCreateXML(pool, xml.c_str(), 0));
  if (!vol) return LibvirtError("virStorageVolCreateXML", name);
  return vol;
}

// Sends `size` bytes of `fd` into the stream; aborts the stream on failure.
Status SendAll(virStreamPtr st, int fd, uint64_t size, const std::string& local_path,
               const std::string& what) {
  std::vector<char> buf(1 << 20);
  uint64_t sent_total = 0;
  while (sent_total < size) {
    ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::FromErrno("PrepareImage: read " + local_path, errno);
    if (got == 0) return Status::Io("PrepareImage: " + local_path + " shrank during upload");
    size_t off = 0;
    while (off < static_cast<size_t>(got)) {
      int n = virStreamSend(st, buf.data() + off, static_cast<size_t>(got) - off);
      if (n < 0) return LibvirtError("virStreamSend", what);
      off += static_cast<size_t>(n);
    }
    sent_total += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

Status Upload(virConnectPtr conn, virStorageVolPtr vol, const std::string& local_path,
              uint64_t size, const std::string& what) {
  UniqueFd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Status::FromErrno("PrepareImage: open " + local_path, errno);
  StreamPtr st(virStreamNew(conn, 0));
  if (!st) return LibvirtError("virStreamNew", what);
  if (virStorageVolUpload(vol, st.get(), 0, size, 0) < 0) {
    return LibvirtError("virStorageVolUpload", what);
  }
  Status sent = SendAll(st.get(), fd.get(), size, local_path, what);
  if (!sent.ok()) {
    virStreamAbort(st.get());
    return sent;
  }
  if (virStreamFinish(st.get()) < 0) return LibvirtError("virStreamFinish", what);
  return Status::Ok();
}

Result<std::string> VolumePath(virStorageVolPtr vol, const std::string& what) {
  CString path(virStorageVolGetPath(vol));
  if (!path) return LibvirtError("virStorageVolGetPath", what);
  return std::string(path.get());
}

bool IsLowerHex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The `gitdisc` pool if it exists (null when it does not), refreshed.
Result<PoolPtr> FindPool(virConnectPtr conn, const std::string& uri) {
  PoolPtr pool(virStoragePoolLookupByName(conn, kPoolName));
  if (!pool) {
    Status s = LibvirtError("virStoragePoolLookupByName", std::string(kPoolName) + " on " + uri);
    if (s.IsNotFound()) return PoolPtr();
    return s;
  }
  if (virStoragePoolIsActive(pool.get()) == 1 && virStoragePoolRefresh(pool.get(), 0) < 0) {
    return LibvirtError("virStoragePoolRefresh", std::string(kPoolName) + " on " + uri);
  }
  return pool;
}

// The first domain on `conn` whose live XML names `path` (a drive holds
// the volume), or "".
Result<std::string> DomainUsing(virConnectPtr conn, const std::string& path,
                                const std::string& uri) {
  virDomainPtr* doms = nullptr;
  int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) return LibvirtError("virConnectListAllDomains", uri);
  std::vector<DomainPtr> owned;
  for (int i = 0; i < n; ++i) owned.emplace_back(doms[i]);
  ::free(doms);
  for (const DomainPtr& d : owned) {
    std::string name = DomainName(d.get());
    auto xml = GetXml(d.get(), 0, name);
    if (xml.status().IsNotFound()) continue;  // gone meanwhile
    if (!xml.ok()) return xml.status();
    if (xml->find("'" + path + "'") != std::string::npos ||
        xml->find("\"" + path + "\"") != std::string::npos) {
      return name;
    }
  }
  return std::string();
}

}  // namespace

Result<std::vector<PoolImage>> LibvirtProvider::ListPoolImages(const std::string& host_uri) {
  Host* host = FindHost(hosts_, host_uri);
  if (!host) return Status::NotFound("ListPoolImages: host " + host_uri + " is not connected");
  std::vector<PoolImage> out;
  if (!host->remote) return out;
  GITDISC_ASSIGN_OR_RETURN(ConnPtr conn, AcquireConn(*host, sink_, reconnects_));
  GITDISC_ASSIGN_OR_RETURN(PoolPtr pool, FindPool(conn.get(), host_uri));
  if (!pool || virStoragePoolIsActive(pool.get()) != 1) return out;
  virStorageVolPtr* vols = nullptr;
  int n = virStoragePoolListAllVolumes(pool.get(), &vols, 0);
  if (n < 0) return LibvirtError("virStoragePoolListAllVolumes", std::string(kPoolName));
  std::vector<VolPtr> owned;
  for (int i = 0; i < n; ++i) owned.emplace_back(vols[i]);
  ::free(vols);
  std::vector<std::string> names;
  for (const VolPtr& v : owned) names.push_back(virStorageVolGetName(v.get()));
  for (const VolPtr& v : owned) {
    std::string name = virStorageVolGetName(v.get());
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".iso") != 0) continue;
    PoolImage img;
    img.digest = name.substr(0, name.size() - 4);
    if (!IsLowerHex(img.digest)) continue;
    virStorageVolInfo info;
    if (virStorageVolGetInfo(v.get(), &info) < 0) return LibvirtError("virStorageVolGetInfo", name);
    img.bytes = info.capacity;
    GITDISC_ASSIGN_OR_RETURN(img.path, VolumePath(v.get(), name));
    img.complete = std::find(names.begin(), names.end(), name + ".ok") != names.end();
    out.push_back(std::move(img));
  }
  std::sort(out.begin(), out.end(),
            [](const PoolImage& a, const PoolImage& b) { return a.digest < b.digest; });
  return out;
}

Status LibvirtProvider::DeletePoolImage(const std::string& host_uri, const std::string& digest) {
  if (!IsLowerHex(digest)) {
    return Status::Invalid("DeletePoolImage: digest must be lowercase hex, got '" + digest + "'");
  }
  Host* host = FindHost(hosts_, host_uri);
  if (!host) return Status::NotFound("DeletePoolImage: host " + host_uri + " is not connected");
  if (!host->remote) return Status::Ok();  // no pool: nothing of ours to delete
  std::lock_guard<std::mutex> upload_lock(host->upload_mu);
  GITDISC_ASSIGN_OR_RETURN(ConnPtr conn, AcquireConn(*host, sink_, reconnects_));
  GITDISC_ASSIGN_OR_RETURN(PoolPtr pool, FindPool(conn.get(), host_uri));
  if (!pool) return Status::Ok();
  const std::string vol_name = digest + ".iso";
  VolPtr vol(virStorageVolLookupByName(pool.get(), vol_name.c_str()));
  VolPtr marker(virStorageVolLookupByName(pool.get(), (vol_name + ".ok").c_str()));
  virResetLastError();
  if (vol) {
    GITDISC_ASSIGN_OR_RETURN(std::string path, VolumePath(vol.get(), vol_name));
    GITDISC_ASSIGN_OR_RETURN(std::string user, DomainUsing(conn.get(), path, host_uri));
    if (!user.empty()) {
      return Status::Conflict(std::string(kDriveBusy) + ": " + user + " on " + host_uri + " has " +
                              vol_name + " in a drive");
    }
  }
  // The marker first: a volume without its marker is an unfinished upload,
  // never reused, whatever happens next.
  if (marker && virStorageVolDelete(marker.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", vol_name + ".ok on " + host_uri);
  }
  if (vol && virStorageVolDelete(vol.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", vol_name + " on " + host_uri);
  }
  return Status::Ok();
}

Result<std::string> LibvirtProvider::PrepareImage(const std::string& host_uri,
                                                  const std::string& local_iso_path,
                                                  const std::string& digest) {
  Host* host = FindHost(hosts_, host_uri);
  if (!host) return Status::NotFound("PrepareImage: host " + host_uri + " is not connected");
  if (!host->remote) {
    GITDISC_RETURN_IF_ERROR(MakeReadableByQemu(local_iso_path));
    return local_iso_path;
  }
  if (digest.empty() || digest.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Invalid("PrepareImage: digest must be lowercase hex, got '" + digest + "'");
  }
  struct stat st;
  if (::stat(local_iso_path.c_str(), &st) != 0) {
    return Status::FromErrno("PrepareImage: stat " + local_iso_path, errno);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);

  std::lock_guard<std::mutex> upload_lock(host->upload_mu);
  GITDISC_ASSIGN_OR_RETURN(ConnPtr conn, AcquireConn(*host, sink_, reconnects_));
  GITDISC_ASSIGN_OR_RETURN(PoolPtr pool,
                           EnsurePool(conn.get(), host_uri, options_.pool_target_dir));
  const std::string vol_name = digest + ".iso";
  const std::string marker_name = vol_name + ".ok";
  VolPtr vol(virStorageVolLookupByName(pool.get(), vol_name.c_str()));
  VolPtr marker(virStorageVolLookupByName(pool.get(), marker_name.c_str()));
  virResetLastError();
  if (vol && marker) {
    virStorageVolInfo info;
    if (virStorageVolGetInfo(vol.get(), &info) == 0 && info.capacity == size) {
      GITDISC_ASSIGN_OR_RETURN(std::string path, VolumePath(vol.get(), vol_name));
      reused_.fetch_add(1);
      return path;
    }
  }
  // Missing, interrupted (no marker) or of another size: start over.
  if (marker && virStorageVolDelete(marker.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", marker_name);
  }
  if (vol && virStorageVolDelete(vol.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", vol_name);
  }
  const std::string what = vol_name + " on " + host_uri;
  GITDISC_ASSIGN_OR_RETURN(vol, CreateVolume(pool.get(), vol_name, size));
  Status up = Upload(conn.get(), vol.get(), local_iso_path, size, what);
  if (!up.ok()) {
    virStorageVolDelete(vol.get(), 0);
    return up;
  }
  GITDISC_ASSIGN_OR_RETURN(marker, CreateVolume(pool.get(), marker_name, 0));
  GITDISC_ASSIGN_OR_RETURN(std::string path, VolumePath(vol.get(), what));
  uploads_.fetch_add(1);
  return path;
}

}  // namespace gitdisc
