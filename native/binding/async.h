// Runs core work on libuv's thread pool and settles a Promise. The JS inputs are referenced
// (kept alive) until the work is done; the work reads them and never writes them.
#pragma once
#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "convert.h"

namespace retinanet {
namespace binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Status()>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  PromiseWorker(Napi::Env env, Work work, Result result, const std::vector<Napi::Object>& keep)
      : Napi::AsyncWorker(env, "retinanet"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), result_(std::move(result)) {
    for (const auto& o : keep) refs_.push_back(Napi::Persistent(o));
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = work_(); }

  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.is_ok()) {
      deferred_.Reject(status_error(env, status_).Value());
      return;
    }
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  Status status_;
  std::vector<Napi::ObjectReference> refs_;
};

// Queues the work; the worker deletes itself when done.
inline Napi::Promise queue_work(Napi::Env env, PromiseWorker::Work work, PromiseWorker::Result result,
                                const std::vector<Napi::Object>& keep) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(result), keep);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

template <typename TA, typename T>
TA to_typed(Napi::Env env, const std::vector<T>& v) {
  TA a = TA::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

}  // namespace binding
}  // namespace retinanet
