#include "iso/iso_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "base/sha256.h"
#include "iso/iso_reader.h"
#include "iso/test_util.h"

namespace gitdisc::iso {
namespace {

using isotest::MemFile;
using isotest::Slurp;
using isotest::TempDir;

// A bundle whose file reads are counted through `on_open`.
Bundle CountedBundle(const std::string& tag, std::function<void()> on_open, size_t bytes = 1000) {
  std::string content(bytes, 'x');
  content += tag;
  BundleFile f = MemFile("data", content, 0644, true);
  f.open = [content, on_open]() -> Result<std::unique_ptr<FileReader>> {
    if (on_open) on_open();
    return MemoryReader(content);
  };
  BundlePayload p;
  p.name = "app";
  p.version = tag;
  p.files = {f};
  p.digest = ComputePayloadDigest(p);
  Bundle b;
  b.payloads = {p};
  return b;
}

struct Stat {
  ino_t ino;
  int64_t mtime_ns;
};
Stat StatOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {st.st_ino, int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

TEST(IsoCache, EnsureBuildsOnceThenReuses) {
  TempDir dir;
  FakeClock clock;
  auto cache = IsoCache::Open({dir / "isos", 0, &clock});
  ASSERT_TRUE(cache.ok());
  int opens = 0;
  Bundle b = CountedBundle("1", [&] { ++opens; });
  auto p1 = (*cache)->Ensure(b);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(*p1, (*cache)->PathFor(*KnownBundleDigest(b)));
  EXPECT_EQ(opens, 1);
  Stat s1 = StatOf(*p1);
  clock.Advance(std::chrono::seconds(10));
  auto p2 = (*cache)->Ensure(b);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(opens, 1);  // not rebuilt
  Stat s2 = StatOf(*p2);
  EXPECT_EQ(s1.ino, s2.ino);
  EXPECT_EQ(s2.mtime_ns - s1.mtime_ns, 10'000'000'000);  // touched for LRU
  auto reader = IsoReader::Open(*p2);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->Verify()->ok());
}

TEST(IsoCache, EnsureNeedsKnownDigests) {
  TempDir dir;
  auto cache = IsoCache::Open({dir / "isos"});
  Bundle b = CountedBundle("1", nullptr);
  b.payloads[0].digest.clear();
  EXPECT_EQ((*cache)->Ensure(b).status().code(), Status::Code::kInvalid);
}

TEST(IsoCache, EvictsLeastRecentlyUsedFirstAndNeverPinned) {
  TempDir dir;
  FakeClock clock;
  auto cache = IsoCache::Open({dir / "isos", 0, &clock});
  ASSERT_TRUE(cache.ok());
  std::vector<std::string> digests;
  for (const char* tag : {"a", "b", "c", "d"}) {
    Bundle b = CountedBundle(tag, nullptr);
    ASSERT_TRUE((*cache)->Ensure(b).ok());
    digests.push_back(*KnownBundleDigest(b));
    clock.Advance(std::chrono::seconds(1));
  }
  uint64_t one = *(*cache)->TotalBytes() / 4;
  EXPECT_EQ(*(*cache)->TotalBytes(), 4 * one);
  // Use "a" again: now "b" is the least recently used. Pin "b".
  ASSERT_TRUE((*cache)->Ensure(CountedBundle("a", nullptr)).ok());
  ASSERT_TRUE((*cache)->Pin(digests[1], "qemu:///system/vm 1").ok());
  ASSERT_TRUE((*cache)->Pin(digests[1], "qemu+ssh://h/system/vm2").ok());

  auto limited = IsoCache::Open({dir / "isos", 2 * one, &clock});
  ASSERT_TRUE(limited.ok());
  auto removed = (*limited)->Evict();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  // b is pinned, so c then d go (oldest first); a (used last) and b remain.
  EXPECT_EQ(*removed, (std::vector<std::string>{digests[2], digests[3]}));
  EXPECT_TRUE((*limited)->Contains(digests[0]));
  EXPECT_TRUE((*limited)->Contains(digests[1]));
  EXPECT_EQ(*(*limited)->TotalBytes(), 2 * one);

  auto pins = (*limited)->ListPins();
  ASSERT_TRUE(pins.ok());
  EXPECT_EQ((*pins)[digests[1]],
            (std::vector<std::string>{"qemu+ssh://h/system/vm2", "qemu:///system/vm 1"}));
  // Pins persist on disk: a new cache object (a restarted controller) sees them.
  auto reopened = IsoCache::Open({dir / "isos", one, &clock});
  EXPECT_EQ((*reopened)->ListPins()->size(), 1u);
  ASSERT_TRUE((*reopened)->Evict().ok());
  EXPECT_TRUE((*reopened)->Contains(digests[1]));  // pinned, survives even over the limit
  EXPECT_FALSE((*reopened)->Contains(digests[0]));
  ASSERT_TRUE((*reopened)->Unpin(digests[1], "qemu:///system/vm 1").ok());
  ASSERT_TRUE((*reopened)->Unpin(digests[1], "qemu+ssh://h/system/vm2").ok());
  ASSERT_TRUE((*reopened)->Unpin(digests[1], "never pinned").ok());
  EXPECT_TRUE((*reopened)->ListPins()->empty());
  ASSERT_TRUE((*reopened)->Evict().ok());
  EXPECT_TRUE((*reopened)->Contains(digests[1]));  // exactly at the limit: kept
}

TEST(IsoCache, EnsureEvictsOthersButNotTheNewImage) {
  TempDir dir;
  FakeClock clock;
  auto probe = IsoCache::Open({dir / "probe", 0, &clock});
  ASSERT_TRUE((*probe)->Ensure(CountedBundle("x", nullptr)).ok());
  uint64_t one = *(*probe)->TotalBytes();
  auto cache = IsoCache::Open({dir / "isos", one, &clock});
  Bundle a = CountedBundle("a", nullptr), b = CountedBundle("b", nullptr);
  ASSERT_TRUE((*cache)->Ensure(a).ok());
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE((*cache)->Ensure(b).ok());
  EXPECT_FALSE((*cache)->Contains(*KnownBundleDigest(a)));
  EXPECT_TRUE((*cache)->Contains(*KnownBundleDigest(b)));
}

TEST(IsoCache, ListsImagesOldestFirstWithPinsAndCountsEvictions) {
  TempDir dir;
  FakeClock clock;
  auto probe = IsoCache::Open({dir / "probe", 0, &clock});
  ASSERT_TRUE((*probe)->Ensure(CountedBundle("x", nullptr)).ok());
  uint64_t one = *(*probe)->TotalBytes();
  auto cache = IsoCache::Open({dir / "isos", 2 * one, &clock});
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ((*cache)->max_bytes(), 2 * one);
  std::vector<std::string> d;
  for (const char* tag : {"a", "b"}) {
    Bundle b = CountedBundle(tag, nullptr);
    ASSERT_TRUE((*cache)->Ensure(b).ok());
    d.push_back(*KnownBundleDigest(b));
    clock.Advance(std::chrono::seconds(5));
  }
  ASSERT_TRUE((*cache)->Pin(d[0], "qemu:///system/vm-a").ok());
  auto list = (*cache)->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].digest, d[0]);
  EXPECT_EQ((*list)[0].bytes, one);
  EXPECT_EQ((*list)[0].pinned, (std::vector<std::string>{"qemu:///system/vm-a"}));
  EXPECT_EQ((*list)[1].digest, d[1]);
  EXPECT_TRUE((*list)[1].pinned.empty());
  EXPECT_EQ((*list)[1].last_used_unix - (*list)[0].last_used_unix, 5);
  EXPECT_EQ((*cache)->evictions(), 0u);
  // A third image: the oldest (a) is pinned, so b goes.
  ASSERT_TRUE((*cache)->Ensure(CountedBundle("c", nullptr)).ok());
  EXPECT_EQ((*cache)->evictions(), 1u);
  EXPECT_TRUE((*cache)->Contains(d[0]));
  EXPECT_FALSE((*cache)->Contains(d[1]));
}

TEST(IsoCache, ConcurrentThreadsBuildOneImage) {
  TempDir dir;
  auto cache = IsoCache::Open({dir / "isos"});
  std::atomic<int> opens{0};
  Bundle b = CountedBundle(
      "t", [&] { ++opens; }, 4 << 20);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if ((*cache)->Ensure(b).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(opens.load(), 1);
}

TEST(IsoCache, ConcurrentProcessesBuildOneImage) {
  TempDir dir;
  std::string log = dir / "opens.log";
  auto on_open = [log] {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    (void)!::write(fd, "open\n", 5);
    ::close(fd);
  };
  Bundle b = CountedBundle("p", on_open, 4 << 20);
  std::vector<pid_t> kids;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto cache = IsoCache::Open({dir / "isos"});
      bool good = cache.ok() && (*cache)->Ensure(b).ok();
      ::_exit(good ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(Slurp(log), "open\n");
  auto cache = IsoCache::Open({dir / "isos"});
  auto reader = IsoReader::Open((*cache)->PathFor(*KnownBundleDigest(b)));
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->Verify()->ok());
}

TEST(IsoCache, StaleTempFilesAreCleanedAndNotCounted) {
  TempDir dir;
  auto cache = IsoCache::Open({dir / "isos"});
  Bundle b = CountedBundle("s", nullptr);
  std::string digest = *KnownBundleDigest(b);
  std::string stale = dir / ("isos/." + digest + ".iso.tmp-1-deadbeef");
  ASSERT_TRUE(WriteFileAtomic(stale, std::string(5000, 'z')).ok());
  EXPECT_EQ(*(*cache)->TotalBytes(), 0u);
  ASSERT_TRUE((*cache)->Ensure(b).ok());
  EXPECT_FALSE(PathExists(stale));
}

TEST(IsoCache, PinOwnerEncodingRoundTrips) {
  for (std::string owner : {"vm1", "qemu:///system/web-1", "a b/c%d", ".hidden", "ünï"}) {
    std::string enc = EncodePinOwner(owner);
    EXPECT_EQ(enc.find('/'), std::string::npos);
    EXPECT_NE(enc[0], '.');
    EXPECT_EQ(DecodePinOwner(enc), owner);
  }
}

}  // namespace
}  // namespace gitdisc::iso
