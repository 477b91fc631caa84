# Third-party dependencies, all from Debian 12 packages.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(LIBVIRT REQUIRED IMPORTED_TARGET libvirt)
pkg_check_modules(LIBISOFS REQUIRED IMPORTED_TARGET libisofs-1)
pkg_check_modules(LIBISO9660 REQUIRED IMPORTED_TARGET libiso9660 libcdio)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# OpenPGP commit signatures (docs/git-source.md "Signed commits").
pkg_check_modules(GPGME REQUIRED IMPORTED_TARGET gpgme)
# `unpack: true` artifacts: tar (gzip, xz, bzip2) and zip (libarchive-dev).
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
# The daemon's metrics registry and text exposition (prometheus-cpp-dev, core only).
find_package(prometheus-cpp CONFIG REQUIRED COMPONENTS core)
if(GITDISC_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
