// A shared library opened with dlopen, closed when the owner goes away.
#pragma once
#include <string>
#include <vector>

namespace stagewise {

class SharedLibrary {
 public:
  SharedLibrary() = default;
  ~SharedLibrary();
  SharedLibrary(SharedLibrary&& other) noexcept;
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // Tries each candidate (a soname or a path) in order and keeps the first that opens. On
  // failure the library stays closed and `reason` lists every candidate with dlerror's answer.
  static SharedLibrary openFirst(const std::vector<std::string>& candidates, std::string& reason);

  bool isOpen() const { return handle_ != nullptr; }
  void* symbol(const char* name) const;
  // The file the loader actually opened (resolved through a symbol of the library).
  std::string pathOf(const char* knownSymbol) const;

 private:
  void* handle_ = nullptr;
};

}  // namespace stagewise
