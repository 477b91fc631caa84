# Sourced by the build scripts: sets ccache_args to the CMake launcher
# options when ccache is installed (scripts/install-deps.sh installs it), so
# that the plain, sanitizer and fuzz builds and every rerun share compiled
# objects. CCACHE_DIR defaults to ~/.ccache; CCACHE_BASEDIR is the checkout,
# so that other checkouts of the same sources hit the same entries.
ccache_args=()
if command -v ccache >/dev/null 2>&1 && [[ ${GITDISC_NO_CCACHE:-0} != 1 ]]; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
  ccache_args=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
