// Job queue throughput on SQLite: enqueue N jobs, then let a JobQueue with W workers claim and complete them with a
// handler that does nothing, and print the rates. What is measured is the queue's own cost per job (the store's
// claim, lease and completion writes), which bounds how fast campaigns can dispatch calls.
//   va_bench_jobs [JOBS=10000] [WORKERS=4] [DIR=/tmp]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "core/jobs/job_queue.hpp"
#include "core/util/time.hpp"

using namespace va;

int main(int argc, char** argv) {
    int jobs = argc > 1 ? std::atoi(argv[1]) : 10000;
    int workers = argc > 2 ? std::atoi(argv[2]) : 4;
    std::string base = argc > 3 ? argv[3] : "/tmp";
    std::string dir = base + "/va-bench-jobs-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    auto store = open_sqlite_store({dir + "/jobs.db", 5000, 8});
    if (!store) {
        std::fprintf(stderr, "cannot open the store: %s\n", store.error().message.c_str());
        return 1;
    }
    JobQueueOptions options;
    options.workers = workers;
    options.poll_ms = 50;
    JobQueue queue(**store, options);
    std::atomic<int> done{0};
    queue.handle("noop", [&](JobContext&) -> Status {
        ++done;
        return Ok{};
    });

    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    for (int i = 0; i < jobs; ++i) {
        if (auto j = queue.enqueue("noop", R"({"contact":"c)" + std::to_string(i) + "\"}"); !j) {
            std::fprintf(stderr, "enqueue failed: %s\n", j.error().message.c_str());
            return 1;
        }
    }
    double enqueue_s = std::chrono::duration<double>(clock::now() - t0).count();

    auto t1 = clock::now();
    queue.start();
    while (done < jobs) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    double run_s = std::chrono::duration<double>(clock::now() - t1).count();
    // Completion is recorded after the handler returns: wait for the last writes.
    queue.stop(5000);
    auto stats = queue.stats();
    auto left = (*store)->list_jobs("queued", "", {1, ""});
    std::printf("jobs: %d, workers: %d (SQLite, WAL, synchronous=NORMAL)\n", jobs, workers);
    std::printf("enqueue: %.0f jobs/s (one transaction each)\n", jobs / enqueue_s);
    std::printf("claim+run+complete: %.0f jobs/s (%.1f us per job)\n", jobs / run_s, run_s * 1e6 / jobs);
    std::printf("completed %llu, retried %llu, dead %llu, lost leases %llu, still queued %zu\n",
                (unsigned long long)stats.completed, (unsigned long long)stats.retried, (unsigned long long)stats.dead,
                (unsigned long long)stats.lost_leases, left ? left->items.size() : 0);
    store->reset();
    std::filesystem::remove_all(dir);
    return stats.completed == std::uint64_t(jobs) ? 0 : 1;
}
