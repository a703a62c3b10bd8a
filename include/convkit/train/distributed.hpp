// convkit/train/distributed.hpp — the process group a training run computes
// in: one process, or the ranks of an MPI job started by mpirun or srun.
//
// Without MPI in the build, or when the program was not started by an MPI
// launcher, world() is a group of one process and every collective is a
// copy: the binary behaves exactly as a single process.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "convkit/error.hpp"

namespace convkit::dist {

/// True when the environment says an MPI launcher started this process
/// (Open MPI's mpirun, or PMI/PMIx as srun sets).
bool launched_by_mpi();

class Group {
 public:
  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Every rank's bytes, concatenated in rank order; counts[r] is the number
  /// of bytes rank r gives (every rank passes the same counts; mine.size()
  /// must equal counts[rank()]).
  void allgather(std::span<const std::byte> mine, std::span<const std::size_t> counts,
                 std::vector<std::byte>& all) const;
  /// The same in place: all holds counts[r] bytes of each rank r in rank
  /// order, this rank's part already written; the others' parts arrive.
  void allgather_in_place(std::span<std::byte> all, std::span<const std::size_t> counts) const;
  /// Personalized exchange: send holds, in rank order, send_counts[r] bytes
  /// for each rank r; recv (of the total size of recv_counts) gets, in rank
  /// order, recv_counts[r] bytes from each rank r.
  void alltoall(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                std::span<const std::size_t> recv_counts, std::span<std::byte> recv) const;
  /// Rank root's values to every rank.
  void broadcast(std::span<float> data, int root = 0) const;
  /// Stop every rank of the job at once with exit status `code` (after the
  /// caller printed why); a single process just exits.
  [[noreturn]] void abort(int code) const;

 private:
  friend Group& world();
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

/// The group of this process; initializes MPI on the first call when the
/// process was launched by mpirun or srun (and finalizes it at exit).
Group& world();

/// A single process (for library callers that do not want MPI).
const Group& local();

/// An error that every rank of a group throws at the same point (e.g. the
/// training loss diverged: every rank sees the same gathered losses), so no
/// rank needs to abort the others.
struct CollectiveError : Error {
  using Error::Error;
};

}  // namespace convkit::dist
