// MPI hand-out of sweep cases (tools/cli/sweep_mpi.hpp). Messages: a rank other than 0 sends
// kRequest (one int, unused) and receives kAssign (one long long: a to-do position, or −1 for
// none left); a rank that stops for another reason (cancelled) sends kStopped. Waiting is done by
// polling with 1 ms sleeps instead of blocking calls, because Open MPI's blocking calls spin a
// core, which would take it from the OpenMP threads of the cases.

#include "tools/cli/sweep_mpi.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#ifdef CEMENTFLOW_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only (the C++ bindings are deprecated)
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace cementflow::cli {

namespace {
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return end && *end == '\0' && x > 0 && x < 1000000 ? static_cast<int>(x) : -1;
}

#ifdef CEMENTFLOW_HAVE_MPI
constexpr int kRequest = 701, kAssign = 702, kStopped = 703;

void nap() {
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

/// Waits for a non-blocking request without spinning a core.
void wait_polling(MPI_Request* req) {
  int done = 0;
  while (true) {
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    nap();
  }
}
#endif
}  // namespace

int launcher_local_ranks() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"}) {
    const int n = env_int(v);
    if (n > 0) return n;
  }
  return 1;
}

MpiWorld mpi_start(int* argc, char*** argv) {
  MpiWorld w;
#ifdef CEMENTFLOW_HAVE_MPI
  // Only under a launcher: a plain `cementflow sweep` must not start an MPI singleton.
  const bool launched = env_int("OMPI_COMM_WORLD_SIZE") > 0 || env_int("PMI_SIZE") > 0 ||
                        env_int("PMIX_SIZE") > 0 || std::getenv("PMIX_RANK") != nullptr;
  if (!launched) return w;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &w.local_size);
  MPI_Comm_free(&node);
  w.active = true;
#else
  (void)argc;
  (void)argv;
#endif
  return w;
}

void mpi_stop(const MpiWorld& w) {
#ifdef CEMENTFLOW_HAVE_MPI
  if (w.active) MPI_Finalize();
#else
  (void)w;
#endif
}

void mpi_broadcast(const MpiWorld& w, std::vector<long long>& todo) {
#ifdef CEMENTFLOW_HAVE_MPI
  if (!w.active) return;
  long long n = static_cast<long long>(todo.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  todo.resize(static_cast<std::size_t>(n));
  if (n > 0) MPI_Bcast(todo.data(), static_cast<int>(n), MPI_LONG_LONG, 0, MPI_COMM_WORLD);
#else
  (void)w;
  (void)todo;
#endif
}

int mpi_broadcast_int(const MpiWorld& w, int value) {
#ifdef CEMENTFLOW_HAVE_MPI
  if (w.active) MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
#else
  (void)w;
#endif
  return value;
}

Dispatcher::Dispatcher(const MpiWorld& w, long long todo_size, const std::atomic<bool>* cancel)
    : w_(w), cancel_(cancel), todo_size_(todo_size) {}

long long Dispatcher::next() {
  const bool cancelled = cancel_ && cancel_->load();
  if (!w_.active || w_.size == 1 || w_.rank == 0) {
    service();
    if (cancelled || counter_ >= todo_size_) return -1;
    return counter_++;
  }
#ifdef CEMENTFLOW_HAVE_MPI
  if (cancelled || got_none_) return -1;
  int ask = 0;
  MPI_Request req;
  MPI_Isend(&ask, 1, MPI_INT, 0, kRequest, MPI_COMM_WORLD, &req);
  wait_polling(&req);
  long long pos = -1;
  MPI_Irecv(&pos, 1, MPI_LONG_LONG, 0, kAssign, MPI_COMM_WORLD, &req);
  wait_polling(&req);
  if (pos < 0) got_none_ = true;
  return pos;
#else
  return -1;
#endif
}

void Dispatcher::service() {
#ifdef CEMENTFLOW_HAVE_MPI
  if (!w_.active || w_.rank != 0 || w_.size == 1) return;
  while (true) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return;
    int msg = 0;
    MPI_Recv(&msg, 1, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (st.MPI_TAG == kStopped) {
      ++finished_;
      continue;
    }
    const bool cancelled = cancel_ && cancel_->load();
    long long pos = cancelled || counter_ >= todo_size_ ? -1 : counter_++;
    if (pos < 0) ++finished_;
    MPI_Request req;
    MPI_Isend(&pos, 1, MPI_LONG_LONG, st.MPI_SOURCE, kAssign, MPI_COMM_WORLD, &req);
    wait_polling(&req);
  }
#endif
}

void Dispatcher::finish() {
#ifdef CEMENTFLOW_HAVE_MPI
  if (!w_.active || w_.size == 1) return;
  if (w_.rank == 0) {
    while (finished_ < w_.size - 1) {
      service();
      if (finished_ < w_.size - 1) nap();
    }
  } else if (!got_none_) {
    int msg = 0;
    MPI_Request req;
    MPI_Isend(&msg, 1, MPI_INT, 0, kStopped, MPI_COMM_WORLD, &req);
    wait_polling(&req);
  }
  MPI_Request bar;
  MPI_Ibarrier(MPI_COMM_WORLD, &bar);
  wait_polling(&bar);
#endif
}

}  // namespace cementflow::cli
