#include "dynlib.h"

#include <dlfcn.h>
#include <algorithm>

namespace stagewise {

namespace {

// glibc's dlerror for a candidate that is not there (on the loader's path, or at that path).
const char kAbsent[] = ": cannot open shared object file: No such file or directory";

std::string dirOf(const std::string& candidate) {
  size_t slash = candidate.find_last_of('/');
  return slash == std::string::npos ? "" : candidate.substr(0, slash);
}

std::string baseOf(const std::string& candidate) { return candidate.substr(candidate.find_last_of('/') + 1); }

void addUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::string describeLoadFailures(const std::vector<LoadFailure>& failures) {
  std::vector<std::string> absent, names, dirs, others;
  for (const auto& f : failures) {
    if (f.error != f.candidate + kAbsent) {
      others.push_back(f.error.empty() ? f.candidate + ": not found" : f.error);
      continue;
    }
    absent.push_back(f.candidate);
    addUnique(names, baseOf(f.candidate));
    addUnique(dirs, dirOf(f.candidate));
  }
  std::string out;
  if (!absent.empty()) {
    // The short form holds only when every place was searched for the same names in order.
    bool grid = absent.size() == names.size() * dirs.size();
    for (size_t i = 0; grid && i < absent.size(); ++i) {
      const std::string& dir = dirs[i / names.size()];
      grid = absent[i] == (dir.empty() ? "" : dir + "/") + names[i % names.size()];
    }
    bool loaderPath = std::find(dirs.begin(), dirs.end(), "") != dirs.end();
    if (grid && (loaderPath || names.size() > 1)) {
      dirs.erase(std::remove(dirs.begin(), dirs.end(), ""), dirs.end());
      out = "searched " + joined(names);
      if (loaderPath) out += " on the loader's path";
      if (!dirs.empty()) out += std::string(loaderPath ? " and" : "") + " in " + joined(dirs);
    } else {
      out = "searched " + joined(absent);
    }
  }
  for (const auto& other : others) out += (out.empty() ? "" : "; ") + other;
  return out;
}

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
  std::vector<LoadFailure> failures;
  for (const auto& candidate : candidates) {
    lib.handle_ = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib.handle_) return lib;
    const char* err = dlerror();
    failures.push_back({candidate, err ? err : ""});
  }
  reason = candidates.empty() ? "no candidate paths" : describeLoadFailures(failures);
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
