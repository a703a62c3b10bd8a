#include "convkit/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace convkit {
namespace {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::atomic<int> g_threads{0};  // 0: not yet chosen -> all cores

// A small persistent pool: workers sleep on a condition variable and pick up
// numbered chunks of the current job.  One job at a time (jobs are serialised
// by job_mutex); nested parallel_for calls run inline.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(int nchunks, int nthreads, const std::function<void(int)>& chunk) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    ensure_workers(nthreads - 1);
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = &chunk;
      next_ = 0;
      nchunks_ = nchunks;
      pending_ = nchunks;
      error_ = nullptr;
      ++generation_;
      active_workers_ = nthreads - 1;
    }
    cv_.notify_all();
    work(generation_snapshot());  // the caller works too
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [&] { return pending_ == 0 && busy_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
    }
  }

  void loop(int id) {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || (generation_ != seen && id < active_workers_); });
        if (stop_) return;
        seen = generation_;
        ++busy_;
      }
      work(seen);
      {
        std::lock_guard<std::mutex> lk(m_);
        --busy_;
      }
      done_cv_.notify_all();
    }
  }

  unsigned long generation_snapshot() {
    std::lock_guard<std::mutex> lk(m_);
    return generation_;
  }

  // Claim chunks of job `gen` until none are left.  Claims happen under the
  // lock, so a worker that wakes late can never run a chunk of another job.
  void work(unsigned long gen) {
    for (;;) {
      int i;
      const std::function<void(int)>* job;
      {
        std::lock_guard<std::mutex> lk(m_);
        if (gen != generation_ || next_ >= nchunks_) return;
        i = next_++;
        job = job_;
      }
      try {
        (*job)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(m_);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }

  std::mutex job_mutex_;
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int next_ = 0, nchunks_ = 0;
  int pending_ = 0, busy_ = 0, active_workers_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  return p;
}

thread_local bool t_inside_parallel = false;

std::atomic<bool> g_flush{false};
thread_local bool t_flush = false;  // what this thread's MXCSR holds

// Bring this thread's denormal mode in line with set_flush_denormals.
void apply_flush_mode() {
  const bool want = g_flush.load(std::memory_order_relaxed);
  if (want == t_flush) return;
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kFtzDaz = 0x8040;  // flush-to-zero, denormals-are-zero
  _mm_setcsr(want ? (_mm_getcsr() | kFtzDaz) : (_mm_getcsr() & ~kFtzDaz));
#endif
  t_flush = want;
}

}  // namespace

int thread_count() {
  int n = g_threads.load();
  return n > 0 ? n : hardware_threads();
}

void set_thread_count(int n) {
  g_threads.store(n > 0 ? n : 0);
}

void set_flush_denormals(bool on) {
  g_flush.store(on, std::memory_order_relaxed);
  apply_flush_mode();
}

bool flush_denormals() {
  return g_flush.load(std::memory_order_relaxed);
}

void parallel_for(std::ptrdiff_t begin, std::ptrdiff_t end, std::ptrdiff_t grain,
                  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
  if (end <= begin) return;
  apply_flush_mode();
  const std::ptrdiff_t n = end - begin;
  grain = std::max<std::ptrdiff_t>(grain, 1);
  int threads = thread_count();
  std::ptrdiff_t max_chunks = (n + grain - 1) / grain;
  if (threads <= 1 || max_chunks <= 1 || t_inside_parallel) {
    fn(begin, end);
    return;
  }
  // A few chunks per thread balances load; chunk boundaries do not affect results.
  int nchunks = static_cast<int>(std::min<std::ptrdiff_t>(max_chunks, 4 * threads));
  int nthreads = std::min(threads, nchunks);
  std::function<void(int)> chunk = [&](int c) {
    std::ptrdiff_t lo = begin + n * c / nchunks;
    std::ptrdiff_t hi = begin + n * (c + 1) / nchunks;
    apply_flush_mode();
    bool was = t_inside_parallel;
    t_inside_parallel = true;
    try {
      fn(lo, hi);
    } catch (...) {
      t_inside_parallel = was;
      throw;
    }
    t_inside_parallel = was;
  };
  pool().run(nchunks, nthreads, chunk);
}

}  // namespace convkit
