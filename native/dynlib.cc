#include "dynlib.h"

#include <dlfcn.h>

namespace stagewise {

SharedLibrary::~SharedLibrary() {
  if (handle_) dlclose(handle_);
}

SharedLibrary::SharedLibrary(SharedLibrary&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (handle_) dlclose(handle_);
    handle_ = other.handle_;
    other.handle_ = nullptr;
  }
  return *this;
}

SharedLibrary SharedLibrary::openFirst(const std::vector<std::string>& candidates, std::string& reason) {
  SharedLibrary lib;
  reason.clear();
  for (const auto& candidate : candidates) {
    lib.handle_ = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib.handle_) {
      reason.clear();
      return lib;
    }
    const char* err = dlerror();
    // dlerror's text already names the file.
    reason += (reason.empty() ? "" : "; ") + (err ? std::string(err) : candidate + ": not found");
  }
  if (candidates.empty()) reason = "no candidate paths";
  return lib;
}

void* SharedLibrary::symbol(const char* name) const { return handle_ ? dlsym(handle_, name) : nullptr; }

std::string SharedLibrary::pathOf(const char* knownSymbol) const {
  Dl_info info{};
  void* sym = symbol(knownSymbol);
  if (sym && dladdr(sym, &info) && info.dli_fname) return info.dli_fname;
  return "";
}

}  // namespace stagewise
