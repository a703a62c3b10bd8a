// The process group of a training run: MPI when built with it and launched
// by mpirun/srun, otherwise one process.
#include "convkit/train/distributed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#ifdef CONVKIT_HAVE_MPI
#include <mpi.h>
#endif

namespace convkit::dist {

bool launched_by_mpi() {
  // Open MPI's mpirun, PMIx (srun --mpi=pmix, prun) and PMI-1/2 (srun --mpi=pmi2).
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

namespace {

#ifdef CONVKIT_HAVE_MPI
void finalize_at_exit() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Finalize();
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(text, len) +
              " (did another rank stop?)");
}

// Waits for a nonblocking collective.  MPI's own waits poll without pause,
// so a rank that arrives first burns a core until the slowest one comes:
// on a machine with other work (or more ranks than cores) that time is
// taken from the ranks still computing.  Here the rank polls for a moment
// (a collective whose ranks arrive together ends within it), then sleeps
// between polls, the pause growing to at most kMaxPause: each collective
// ends at most that much later than with MPI's own wait.
void wait(MPI_Request& request, const char* what) {
  using clock = std::chrono::steady_clock;
  constexpr auto kSpin = std::chrono::microseconds(50);
  constexpr auto kMaxPause = std::chrono::microseconds(200);
  const auto spin_until = clock::now() + kSpin;
  auto pause = std::chrono::microseconds(10);
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    if (clock::now() < spin_until) continue;
    std::this_thread::sleep_for(pause);
    pause = std::min(2 * pause, kMaxPause);
  }
}
#endif

}  // namespace

Group& world() {
  static Group g = [] {
    Group w;
#ifdef CONVKIT_HAVE_MPI
    if (launched_by_mpi()) {
      int provided = 0;
      // Only the main thread calls MPI; the pool's threads compute.
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw Error("MPI could not start (launched by mpirun or srun?)");
      std::atexit(finalize_at_exit);
      // Errors come back as return codes (thrown, reported, then the job is
      // aborted) instead of killing the process without a word.
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &w.rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &w.size_);
      w.mpi_ = true;
    }
#else
    // Several copies of a build without MPI would each train the whole run
    // and write the same files.
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
      const char* n = std::getenv(v);
      if (launched_by_mpi() && n && std::atoi(n) > 1)
        throw UsageError("this convkit was built without MPI, so it cannot share a run among " +
                         std::string(n) + " processes (" + v + "); start it alone");
    }
#endif
    return w;
  }();
  return g;
}

const Group& local() {
  static const Group g;
  return g;
}

namespace {

#ifdef CONVKIT_HAVE_MPI
// MPI's int counts and displacements of byte counts, refusing > 2 GiB.
void int_layout(std::span<const std::size_t> counts, std::vector<int>& cnt,
                std::vector<int>& displ) {
  cnt.resize(counts.size());
  displ.resize(counts.size());
  std::size_t off = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] > 0x7fffffff || off > 0x7fffffff)
      throw Error("gradient exchange: more than 2 GiB per step (use a smaller --batch)");
    cnt[r] = static_cast<int>(counts[r]);
    displ[r] = static_cast<int>(off);
    off += counts[r];
  }
}
#endif

std::size_t sum(std::span<const std::size_t> counts) {
  std::size_t total = 0;
  for (std::size_t c : counts) total += c;
  return total;
}

}  // namespace

void Group::allgather(std::span<const std::byte> mine, std::span<const std::size_t> counts,
                      std::vector<std::byte>& all) const {
  if (counts.size() != static_cast<std::size_t>(size_) ||
      mine.size() != counts[static_cast<std::size_t>(rank_)])
    throw Error("allgather: counts do not match the group");
  all.resize(sum(counts));
#ifdef CONVKIT_HAVE_MPI
  if (mpi_) {
    std::vector<int> cnt, displ;
    int_layout(counts, cnt, displ);
    MPI_Request request;
    check(MPI_Iallgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                          cnt.data(), displ.data(), MPI_BYTE, MPI_COMM_WORLD, &request),
          "allgather");
    wait(request, "allgather");
    return;
  }
#endif
  if (!mine.empty()) std::memcpy(all.data(), mine.data(), mine.size());
}

void Group::allgather_in_place(std::span<std::byte> all,
                               std::span<const std::size_t> counts) const {
  if (counts.size() != static_cast<std::size_t>(size_) || all.size() != sum(counts))
    throw Error("allgather: counts do not match the group");
#ifdef CONVKIT_HAVE_MPI
  if (mpi_ && size_ > 1) {
    std::vector<int> cnt, displ;
    int_layout(counts, cnt, displ);
    MPI_Request request;
    check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all.data(), cnt.data(), displ.data(),
                          MPI_BYTE, MPI_COMM_WORLD, &request),
          "allgather");
    wait(request, "allgather");
  }
#endif
}

void Group::alltoall(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                     std::span<const std::size_t> recv_counts, std::span<std::byte> recv) const {
  if (send_counts.size() != static_cast<std::size_t>(size_) ||
      recv_counts.size() != send_counts.size() || sum(send_counts) != send.size() ||
      sum(recv_counts) != recv.size())
    throw Error("alltoall: counts do not match the group");
#ifdef CONVKIT_HAVE_MPI
  if (mpi_) {
    std::vector<int> sc, sd, rc, rd;
    int_layout(send_counts, sc, sd);
    int_layout(recv_counts, rc, rd);
    MPI_Request request;
    check(MPI_Ialltoallv(send.data(), sc.data(), sd.data(), MPI_BYTE, recv.data(), rc.data(),
                         rd.data(), MPI_BYTE, MPI_COMM_WORLD, &request),
          "alltoall");
    wait(request, "alltoall");
    return;
  }
#endif
  if (recv.size() != send.size()) throw Error("alltoall: counts do not match the group");
  if (!send.empty()) std::memcpy(recv.data(), send.data(), send.size());
}

void Group::broadcast(std::span<float> data, int root) const {
#ifdef CONVKIT_HAVE_MPI
  if (mpi_ && size_ > 1) {
    // In pieces: MPI counts are int.
    constexpr std::size_t kPiece = std::size_t{1} << 28;
    for (std::size_t off = 0; off < data.size(); off += kPiece)
      check(MPI_Bcast(data.data() + off, static_cast<int>(std::min(kPiece, data.size() - off)),
                      MPI_FLOAT, root, MPI_COMM_WORLD),
            "broadcast");
  }
#else
  (void)data;
  (void)root;
#endif
}

void Group::abort(int code) const {
#ifdef CONVKIT_HAVE_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace convkit::dist
