// compile(source, name, headerNames, headerSources, options) -> Promise<{ cubin, log }>.
// sharp-style (PromiseWorker, napi_common.h): arguments are copied into a plain C++ baton on the
// JS thread, NVRTC runs on a worker thread without touching N-API, and the result or error is
// built back on the JS thread. NVRTC needs no CUDA context, so none is made current.
#include "napi_common.h"
#include "napi_exports.h"
#include "nvrtc.h"

namespace stagewise {

namespace {

std::vector<std::string> stringsArg(const Napi::Value& v, const char* what) {
  Napi::Array array = arrayArg(v, what);
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(stringArg(array.Get(i), what));
  return out;
}

class CompileWorker : public PromiseWorker {
 public:
  CompileWorker(Napi::Env env, CompileRequest baton) : PromiseWorker(env, "stagewise.compile"), baton_(std::move(baton)) {}

 protected:
  void run() override { result_ = compileToCubin(baton_); }

  Napi::Value resolve(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("cubin", Napi::Buffer<char>::Copy(env, result_.cubin.data(), result_.cubin.size()));
    out.Set("log", result_.log);
    return out;
  }

 private:
  CompileRequest baton_;
  CompileResult result_;
};

}  // namespace

Napi::Value Compile(const Napi::CallbackInfo& info) {
  CompileRequest baton;
  baton.source = stringArg(info[0], "source");
  baton.name = stringArg(info[1], "name");
  baton.headerNames = stringsArg(info[2], "header names");
  baton.headerSources = stringsArg(info[3], "header sources");
  baton.options = stringsArg(info[4], "options");
  if (baton.headerNames.size() != baton.headerSources.size())
    throw ArgError(ArgError::Type, "header names and sources differ in count");
  auto* worker = new CompileWorker(info.Env(), std::move(baton));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace stagewise
