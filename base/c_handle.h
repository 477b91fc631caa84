// CHandle<T, FreeFn>: a std::unique_ptr for a C library's handle, freed with
// that library's own function (STYLE.md "one deleter alias per C handle"):
//
//   using GitRepoPtr = CHandle<git_repository, git_repository_free>;
//   using DomainPtr  = CHandle<virDomain, virDomainFree>;
//
// The free function is called only for non-null handles, and its result (some
// libraries return an int) is ignored: there is nothing a destructor can do
// with it.
#ifndef GITDISC_BASE_C_HANDLE_H_
#define GITDISC_BASE_C_HANDLE_H_

#include <memory>

namespace gitdisc {

template <auto FreeFn>
struct FreeWith {
  template <typename T>
  void operator()(T* handle) const {
    if (handle != nullptr) (void)FreeFn(handle);
  }
};

template <typename T, auto FreeFn>
using CHandle = std::unique_ptr<T, FreeWith<FreeFn>>;

}  // namespace gitdisc

#endif  // GITDISC_BASE_C_HANDLE_H_
