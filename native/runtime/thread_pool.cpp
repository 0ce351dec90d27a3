#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace retinanet {
namespace {

thread_local bool in_pool_task = false;

int default_threads() {
  unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : static_cast<int>(std::min(h, 256u));
}

// One job at a time: concurrent callers (async workers on libuv's pool) queue on job_mutex.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() {
    std::lock_guard<std::mutex> lock(config_mutex_);
    return wanted_;
  }

  void set_threads(int n) {
    std::lock_guard<std::mutex> lock(config_mutex_);
    wanted_ = n < 1 ? default_threads() : std::min(n, 256);
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t chunks = num_chunks(n, grain);
    const int wanted = threads();
    if (chunks <= 1 || wanted <= 1 || in_pool_task) {
      for (int64_t c = 0; c < chunks; ++c) fn(c * grain, std::min(n, (c + 1) * grain));
      return;
    }
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    const int helpers = static_cast<int>(std::min<int64_t>(wanted, chunks)) - 1;
    ensure_workers(helpers);
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      fn_ = &fn;
      n_ = n;
      grain_ = grain;
      chunks_ = chunks;
      next_.store(0);
      active_helpers_ = helpers;
      pending_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(state_mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void ensure_workers(int count) {
    while (static_cast<int>(workers_.size()) < count) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
    }
  }

  void work() {
    const bool was = in_pool_task;
    in_pool_task = true;
    for (;;) {
      const int64_t c = next_.fetch_add(1);
      if (c >= chunks_) break;
      (*fn_)(c * grain_, std::min(n_, (c + 1) * grain_));
    }
    in_pool_task = was;
  }

  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(state_mutex_);
        wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && id < active_helpers_); });
        if (stopping_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(state_mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex config_mutex_;
  int wanted_ = default_threads();
  std::mutex job_mutex_;
  std::mutex state_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1, chunks_ = 0;
  std::atomic<int64_t> next_{0};
  int active_helpers_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

Pool& pool() {
  // Never destroyed: worker threads must not be joined during static destruction at exit.
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int num_threads() { return pool().threads(); }
void set_num_threads(int n) { pool().set_threads(n); }
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  pool().run(n, grain < 1 ? 1 : grain, fn);
}

}  // namespace retinanet
