#pragma once
// MPI for `cementflow sweep` (tools/cli/sweep_mpi.cpp, built when CMake finds MPI): ranks
// started by mpirun share the cases dynamically. Rank 0 runs cases too and hands out positions
// of the to-do list between the steps of its own runs (no extra thread, no busy rank); the
// other ranks ask for the next position after each case. Without MPI (or when the program was
// not started by mpirun) everything here is a single-process no-op.

#include <atomic>
#include <functional>
#include <vector>

namespace cementflow::cli {

struct MpiWorld {
  bool active = false;  ///< started under mpirun with MPI compiled in
  int rank = 0, size = 1;
  int local_size = 1;  ///< ranks on this node
};

/// Initialises MPI when the environment says mpirun started this process; else a 1-rank world.
MpiWorld mpi_start(int* argc, char*** argv);
/// Finalises MPI when it was started.
void mpi_stop(const MpiWorld& w);
/// Ranks on this node from the launcher's environment, before MPI is initialised (1 if unknown).
int launcher_local_ranks();

/// Rank 0's to-do list, sent to every rank.
void mpi_broadcast(const MpiWorld& w, std::vector<long long>& todo);
/// An integer from rank 0 to all (the exit status).
int mpi_broadcast_int(const MpiWorld& w, int value);

/// The dynamic hand-out of to-do positions.
class Dispatcher {
 public:
  Dispatcher(const MpiWorld& w, long long todo_size, const std::atomic<bool>* cancel);
  /// The next position for this rank, or −1 when none is left.
  long long next();
  /// Rank 0: answers pending requests (called between the steps of its runs).
  void service();
  /// After this rank's last case: rank 0 answers until every other rank has finished, the
  /// others tell rank 0 that they have stopped. Then all ranks meet.
  void finish();
  /// Positions handed out so far (rank 0).
  long long handed_out() const { return counter_; }

 private:
  MpiWorld w_;
  const std::atomic<bool>* cancel_;
  long long counter_ = 0, todo_size_ = 0;
  int finished_ = 0;       ///< rank 0: other ranks that have stopped
  bool got_none_ = false;  ///< others: rank 0 answered −1
};

}  // namespace cementflow::cli
