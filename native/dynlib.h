// A shared library opened with dlopen, closed when the owner goes away.
#pragma once
#include <string>
#include <vector>

namespace stagewise {

// One candidate that dlopen refused, with dlerror's text.
struct LoadFailure {
  std::string candidate, error;
};

// Every failed candidate in one line. Candidates that simply do not exist are listed once, as
// the names and the places searched ("searched libnvrtc.so.13, libnvrtc.so.12 on the loader's
// path and in /usr/local/cuda/lib64"); any other failure (a file that exists but cannot load)
// follows with dlerror's own words, since that one names the real problem.
std::string describeLoadFailures(const std::vector<LoadFailure>& failures);

class SharedLibrary {
 public:
  SharedLibrary() = default;
  ~SharedLibrary();
  SharedLibrary(SharedLibrary&& other) noexcept;
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // Tries each candidate (a soname or a path) in order and keeps the first that opens. On
  // failure the library stays closed and `reason` is describeLoadFailures of every candidate.
  static SharedLibrary openFirst(const std::vector<std::string>& candidates, std::string& reason);

  bool isOpen() const { return handle_ != nullptr; }
  void* symbol(const char* name) const;
  // The file the loader actually opened (resolved through a symbol of the library).
  std::string pathOf(const char* knownSymbol) const;

 private:
  void* handle_ = nullptr;
};

}  // namespace stagewise
