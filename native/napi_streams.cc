// Streams and events. Waiting for an event is the one slow operation: it runs on a libuv worker
// thread (PromiseWorker), which makes the event's context current there before
// cuEventSynchronize, so the JS thread keeps running timers and I/O while the GPU works.
#include "napi_common.h"
#include "napi_exports.h"

namespace stagewise {

namespace {

Stream& liveStream(const Napi::Value& v) {
  Stream& stream = unwrapHandle<Stream>(v);
  if (stream.released()) throw ArgError(ArgError::Type, "Stream used after dispose()");
  return stream;
}

std::shared_ptr<Event> liveEvent(const Napi::Value& v) {
  EventHandle& handle = unwrapHandle<EventHandle>(v);
  if (!handle.event) throw ArgError(ArgError::Type, "Event used after dispose()");
  return handle.event;
}

// Records a completion-only event on the stream (the caller made its context current).
std::shared_ptr<Event> recordOn(const Stream& stream) {
  auto event = std::make_shared<Event>(stream.device(), CU_EVENT_DISABLE_TIMING);
  event->record(stream.get());
  return event;
}

class EventWaitWorker : public PromiseWorker {
 public:
  EventWaitWorker(Napi::Env env, std::shared_ptr<Event> event)
      : PromiseWorker(env, "stagewise.eventWait"), event_(std::move(event)) {}

 protected:
  void run() override { event_->synchronize(); }
  Napi::Value resolve(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<Event> event_;
};

Napi::Value queueWait(Napi::Env env, std::shared_ptr<Event> event) {
  auto* worker = new EventWaitWorker(env, std::move(event));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

// streamCreate(device) -> handle
Napi::Value StreamCreate(const Napi::CallbackInfo& info) {
  return wrapHandle(info.Env(), Stream::create(deviceArg(info[0])).release());
}

// streamDefault(device) -> handle of the device's legacy default stream (never destroyed)
Napi::Value StreamDefault(const Napi::CallbackInfo& info) {
  return wrapHandle(info.Env(), Stream::legacyDefault(deviceArg(info[0])).release());
}

Napi::Value StreamDestroy(const Napi::CallbackInfo& info) {
  unwrapHandle<Stream>(info[0]).release();
  return info.Env().Undefined();
}

// streamSynchronizeAsync(stream) -> Promise<void>: resolves once the work queued so far is done.
Napi::Value StreamSynchronizeAsync(const Napi::CallbackInfo& info) {
  Stream& stream = liveStream(info[0]);
  ensureContext(stream.device());
  return queueWait(info.Env(), recordOn(stream));
}

// eventRecord(stream, event?) -> event handle: a new event, or `event` recorded again.
Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Stream& stream = liveStream(info[0]);
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    std::shared_ptr<Event> event = liveEvent(info[1]);
    if (event->device() != stream.device())
      throw ArgError(ArgError::Range, "event belongs to device " + std::to_string(event->device()) +
                                          " but the stream to device " + std::to_string(stream.device()));
    ensureContext(stream.device());
    event->record(stream.get());
    return info[1];
  }
  ensureContext(stream.device());
  return wrapHandle(info.Env(), new EventHandle{recordOn(stream)});
}

// eventQuery(event) -> boolean: has the recorded work finished? Never blocks.
Napi::Value EventQuery(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), liveEvent(info[0])->done());
}

// eventWait(event) -> Promise<void>, settled off the JS thread.
Napi::Value EventWait(const Napi::CallbackInfo& info) {
  return queueWait(info.Env(), liveEvent(info[0]));
}

// eventDestroy(event): a wait in flight keeps its own reference and still settles.
Napi::Value EventDestroy(const Napi::CallbackInfo& info) {
  unwrapHandle<EventHandle>(info[0]).event.reset();
  return info.Env().Undefined();
}

}  // namespace stagewise
