#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace retinanet {
namespace {

thread_local bool in_pool_task = false;

// How long a helper that has finished a job watches for the next one before it sleeps, and the
// caller for its helpers to finish before it sleeps (RETINANET_POOL_SPIN_US, default 20; 0: never).
// A kernel's phases follow each other within microseconds (a GEMM's packing, then its products;
// Winograd's four transforms and products), and waking a sleeping thread takes 20-40 us on a VM
// (a futex wake, then the hypervisor's interrupt): two 20 us halves of a job took 40 us back to
// back with a sleeping helper, 21 us with a spinning one (Zen 5 VM). Short, so that a helper
// does not keep a core from V8's own threads between kernels (100 us made a profiled inference
// slower).
std::chrono::microseconds spin_time() {
  static const long us = [] {
    const char* v = std::getenv("RETINANET_POOL_SPIN_US");
    return v != nullptr ? std::max(0L, std::atol(v)) : 20L;
  }();
  return std::chrono::microseconds(us);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `done` until it returns true or the spin time has passed; returns its last answer.
template <typename F>
bool spin_until(F done) {
  const std::chrono::microseconds limit = spin_time();
  if (limit.count() == 0) return done();
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= end) return done();
  }
}

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
      pending_.store(helpers);
      generation_.store(generation_.load() + 1);
    }
    wake_.notify_all();
    work();
    if (!spin_until([this] { return pending_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(state_mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    std::lock_guard<std::mutex> lock(state_mutex_);
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
      // A new job usually follows within microseconds (the next phase of a kernel, the next
      // kernel): watch for it a while before sleeping.
      spin_until([&] { return generation_.load() != seen; });
      {
        std::unique_lock<std::mutex> lock(state_mutex_);
        wake_.wait(lock, [&] { return stopping_ || (generation_.load() != seen && id < active_helpers_); });
        if (stopping_) return;
        seen = generation_.load();
      }
      work();
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        done_.notify_one();
      }
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
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
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
