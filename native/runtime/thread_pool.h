// The addon's own small thread pool. Work is cut into chunks whose boundaries depend only on
// the problem size and the grain, never on the thread count, so results that are reduced per
// chunk and merged in chunk order have the same bits whatever the number of threads.
#pragma once
#include <cstdint>
#include <functional>

namespace retinanet {

// Threads used by parallel_for (the calling thread included). Default: hardware concurrency.
int num_threads();
// n < 1 restores the default.
void set_num_threads(int n);

// Calls fn(chunk_begin, chunk_end) for consecutive chunks [k*grain, min((k+1)*grain, n)).
// Runs inline when there is one chunk, one thread, or when called from inside a pool task.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Number of chunks parallel_for makes for (n, grain): for per-chunk partial results.
inline int64_t num_chunks(int64_t n, int64_t grain) { return n <= 0 ? 0 : (n + grain - 1) / grain; }

}  // namespace retinanet
