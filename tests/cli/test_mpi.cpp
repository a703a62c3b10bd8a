// [mpi] data-parallel training through the real mpirun and binary: 1, 2 and
// 3 ranks give bit-identical weights and metrics, --resume with another rank
// count, Ctrl-C, a rank that dies, a rank that cannot read its data.  Every
// test reports itself skipped when convkit was built without MPI or mpirun
// is missing.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"
#include "support/train_runs.hpp"

using convkit::Checkpoint;
using convkit::load_checkpoint;
using convkit::test::check_same_run;
using convkit::test::read_file;
using convkit::test::temp_dir;
using convkit::test::wait_for_checkpoint;
namespace fs = std::filesystem;

namespace {

#ifdef CONVKIT_MPIEXEC
const std::string kMpirun = CONVKIT_MPIEXEC;
#else
const std::string kMpirun;
#endif

// True (and says so on stdout with the marker CTest counts as skipped) when the
// MPI tests cannot run here.
bool skip_without_mpi() {
  if (!kMpirun.empty() && fs::exists(kMpirun)) return false;
  std::printf("CONVKIT-TEST-SKIPPED: convkit was built without MPI or mpirun is not installed\n");
  return true;
}

// Batchnorm, dropout and augmentation: every per-batch random stream and
// every running statistic must come out the same for any rank count.
const std::string kNet = "CONV2-6/circular BN ReLU CONV2-6/circular ReLU GAP DROPOUT0.2 FC-3";

std::vector<std::string> train_args(const std::string& out, int epochs, int threads) {
  return {"train",
          "--data",
          "synthetic-edges",
          "--arch",
          kNet,
          "--lr",
          "0.01",
          "--epochs",
          std::to_string(epochs),
          "--batch",
          "48",
          "--augment",
          "crop:1,flip",
          "-o",
          out,
          "--threads",
          std::to_string(threads),
          "--quiet",
          "--schedule",
          "constant"};
}

// argv of `mpirun --oversubscribe -np N convkit args...` (N = 0: convkit alone).
std::vector<std::string> command(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (ranks > 0)
    argv = {kMpirun, "--oversubscribe", "--bind-to", "none", "-np", std::to_string(ranks)};
  argv.push_back(CONVKIT_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

pid_t spawn(const std::vector<std::string>& argv_s, const std::string& out_path,
            const std::string& err_path) {
  // The tests may run as root (containers, CI): Open MPI refuses that unless told.
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
#if defined(__SANITIZE_ADDRESS__)
  // Open MPI keeps allocations past MPI_Finalize, some in plugins it has
  // already unloaded, so LeakSanitizer cannot tell them from convkit's: the
  // ranks run without the leak check (the single-process tests keep it).
  setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
#endif
  std::vector<std::string> copy = argv_s;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);  // the test can stop the whole launch if it hangs
    const int devnull = open("/dev/null", O_RDWR);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Exit status (128 + signal when killed), or -1 when the process group had
// to be killed after `seconds`: a hang.
int wait_bounded(pid_t pid, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

struct Ran {
  int status;
  std::string out, err;
};

Ran run(const std::vector<std::string>& argv, const std::string& dir) {
  const pid_t pid = spawn(argv, dir + "/out.txt", dir + "/err.txt");
  const int status = wait_bounded(pid, 120);
  return {status, read_file(dir + "/out.txt"), read_file(dir + "/err.txt")};
}

// The pid of MPI rank `rank` among the descendants of `root`, or 0.
pid_t find_rank(pid_t root, int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    // Walk up the parents to root.
    pid_t p = pid;
    for (int depth = 0; depth < 8 && p > 1 && p != root; ++depth) {
      std::ifstream st("/proc/" + std::to_string(p) + "/stat");
      std::string line;
      std::getline(st, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) break;
      int ppid = 0;
      char state = 0;
      std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid);
      p = ppid;
    }
    if (p != root || pid == root) continue;
    std::ifstream env("/proc/" + name + "/environ", std::ios::binary);
    std::string var;
    while (std::getline(env, var, '\0'))
      if (var == want) return pid;
  }
  return 0;
}

}  // namespace

TEST_CASE("[mpi] two, three and four ranks train bit-identical to one process") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  // The reference: one process, no mpirun, two threads.
  const Ran one = run(command(0, train_args(dir + "/one.ckpt", 3, 2)), dir);
  REQUIRE(one.status == 0);
  const Checkpoint ref = load_checkpoint(dir + "/one.ckpt");
  // 48 images a batch in groups of 16: 3 groups, shared 1+2 by two ranks,
  // 1+1+1 by three, 0+1+1+1 by four; the last batch of the epoch
  // (540 = 11 x 48 + 12) is one group.
  for (const int ranks : {1, 2, 3, 4}) {
    CAPTURE(ranks);
    const std::string out = dir + "/np" + std::to_string(ranks) + ".ckpt";
    const Ran r = run(command(ranks, train_args(out, 3, ranks == 1 ? 2 : 1)), dir);
    REQUIRE(r.status == 0);
    check_same_run(load_checkpoint(out), ref);
    CHECK(load_checkpoint(out).settings == ref.settings);
    // Only rank 0 reports: one summary line per epoch, one "saved".
    const auto first_line = [](const std::string& s) { return s.substr(0, s.find('\n')); };
    CHECK(first_line(r.out) ==
          first_line(one.out) + (ranks > 1 ? ", " + std::to_string(ranks) + " processes" : ""));
    std::size_t summaries = 0;
    for (std::size_t p = r.out.find("epoch "); p != std::string::npos;
         p = r.out.find("epoch ", p + 1))
      summaries += r.out.compare(p, 8, "epoch 1/") == 0 || r.out.compare(p, 8, "epoch 2/") == 0 ||
                   r.out.compare(p, 8, "epoch 3/") == 0;
    CHECK(summaries == 3);
    CHECK(r.out.find("saved " + out) != std::string::npos);
    CHECK(r.out.find("saved " + out) == r.out.rfind("saved " + out));
  }
}

TEST_CASE("[mpi] --lr auto, --ema, label smoothing and Nesterov: bit-identical for 1 to 3 ranks") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  auto args = [&](const std::string& out, int threads) {
    auto a = train_args(out, 2, threads);
    const auto lr = std::find(a.begin(), a.end(), "--lr");
    a.erase(lr, lr + 2);  // the range test of --lr auto runs on every rank
    a.insert(a.end(),
             {"--ema", "0.9", "--label-smoothing", "0.1", "--optimizer", "sgd", "--nesterov"});
    return a;
  };
  const Ran one = run(command(0, args(dir + "/one.ckpt", 2)), dir);
  REQUIRE(one.status == 0);
  const Checkpoint ref = load_checkpoint(dir + "/one.ckpt");
  CHECK(ref.setting("lr_auto") == "1");
  for (const int ranks : {2, 3}) {
    CAPTURE(ranks);
    const std::string out = dir + "/np" + std::to_string(ranks) + ".ckpt";
    const Ran r = run(command(ranks, args(out, 1)), dir);
    REQUIRE(r.status == 0);
    check_same_run(load_checkpoint(out), ref);
    CHECK(load_checkpoint(out).settings == ref.settings);
    // Rank 0 alone reports the rate found.
    CHECK(r.out.find("--lr auto: range test") == r.out.rfind("--lr auto: range test"));
  }
}

TEST_CASE("[mpi] --resume continues with another rank count to the uninterrupted result") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  REQUIRE(run(command(0, train_args(dir + "/ref.ckpt", 4, 2)), dir).status == 0);
  // Two epochs on three ranks, then two more on two ranks, then check.
  REQUIRE(run(command(3, train_args(dir + "/part.ckpt", 2, 1)), dir).status == 0);
  REQUIRE(load_checkpoint(dir + "/part.ckpt").epoch == 2);
  const Ran r = run(command(2, {"train", "--resume", dir + "/part.ckpt", "--epochs", "4",
                                "--threads", "1", "--quiet"}),
                    dir);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("resuming after epoch 2, 2 processes") != std::string::npos);
  check_same_run(load_checkpoint(dir + "/part.ckpt"), load_checkpoint(dir + "/ref.ckpt"));
}

TEST_CASE("[mpi] SIGINT to mpirun stops every rank with a valid checkpoint that resumes exactly") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  const std::string ck = dir + "/s.ckpt";
  const pid_t pid =
      spawn(command(2, train_args(ck, 100000, 1)), dir + "/out.txt", dir + "/err.txt");
  REQUIRE(wait_for_checkpoint(ck, 1, pid));
  kill(pid, SIGINT);
  // mpirun passes the signal on; the ranks agree to stop after the same batch.
  const int status = wait_bounded(pid, 60);
  CHECK(status == 1);
  const std::string err = read_file(dir + "/err.txt");
  // Said at most once, by rank 0. mpirun may tear down its forwarding of the
  // ranks' stderr before rank 0's line reaches it (seen on a busy machine), so
  // the line itself is not required; the checkpoint below is.
  CHECK(err.find("interrupted") == err.rfind("interrupted"));
  if (err.find("interrupted") != std::string::npos)
    CHECK(err.find("--resume " + ck) != std::string::npos);
  const Checkpoint c = load_checkpoint(ck);
  REQUIRE(c.epoch >= 1);
  CHECK(c.history.size() == static_cast<std::size_t>(c.epoch));
  int files = 0;  // no temporary file is left behind
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().extension() == ".ckpt";
  CHECK(files == 1);
  // One more epoch in one process equals an uninterrupted run of that length.
  const int total = c.epoch + 1;
  REQUIRE(
      run(command(0, {"train", "--resume", ck, "--epochs", std::to_string(total), "--quiet"}), dir)
          .status == 0);
  REQUIRE(run(command(0, train_args(dir + "/ref.ckpt", total, 2)), dir).status == 0);
  check_same_run(load_checkpoint(ck), load_checkpoint(dir + "/ref.ckpt"));
}

TEST_CASE("[mpi] a rank that dies makes the job end with an error, not a hang") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  const std::string ck = dir + "/k.ckpt";
  const pid_t pid =
      spawn(command(2, train_args(ck, 100000, 1)), dir + "/out.txt", dir + "/err.txt");
  REQUIRE(wait_for_checkpoint(ck, 1, pid));
  const pid_t victim = find_rank(pid, 1);
  REQUIRE(victim > 0);
  kill(victim, SIGKILL);
  const int status = wait_bounded(pid, 60);
  CHECK(status != -1);  // not a hang
  CHECK(status != 0);
  CHECK(read_file(dir + "/err.txt").find("rank 1") != std::string::npos);
  CHECK(load_checkpoint(ck).epoch >= 1);  // still valid
}

TEST_CASE("[mpi] a rank that cannot read its data names the rank and the file") {
  if (skip_without_mpi()) return;
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/bad");
  std::ofstream(dir + "/bad/train-images-idx3-ubyte") << "garbage";
  std::ofstream(dir + "/bad/train-labels-idx1-ubyte") << "garbage";
  // Rank 0 reads the built-in set, rank 1 a broken directory (an MPMD launch).
  std::vector<std::string> argv = {kMpirun, "--oversubscribe", "--bind-to", "none", "-np", "1"};
  const std::vector<std::string> rest = {"--arch",  "CONV3-4 GAP FC-3", "-o", dir + "/x.ckpt",
                                         "--quiet", "--threads",        "1"};
  argv.insert(argv.end(), {CONVKIT_BINARY, "train", "--data", "synthetic-edges"});
  argv.insert(argv.end(), rest.begin(), rest.end());
  argv.insert(argv.end(), {":", "-np", "1", CONVKIT_BINARY, "train", "--data", dir + "/bad"});
  argv.insert(argv.end(), rest.begin(), rest.end());
  const Ran r = run(argv, dir);
  CHECK(r.status == 1);
  CHECK(r.err.find("convkit: error: rank 1 of 2: " + dir +
                   "/bad/train-images-idx3-ubyte: byte 0: not an IDX file") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/x.ckpt"));
}

TEST_CASE("[mpi] --micro-batch is stored in the checkpoint and cannot change on --resume") {
  const std::string dir = temp_dir();
  auto args = train_args(dir + "/m.ckpt", 1, 1);
  args.insert(args.end(), {"--micro-batch", "8"});
  REQUIRE(run(command(0, args), dir).status == 0);
  CHECK(load_checkpoint(dir + "/m.ckpt").setting("micro_batch") == "8");
  const Ran r = run(
      command(0, {"train", "--resume", dir + "/m.ckpt", "--epochs", "2", "--micro-batch", "16"}),
      dir);
  CHECK(r.status == 2);
  CHECK(r.err.find("--micro-batch cannot change on --resume") != std::string::npos);
}
