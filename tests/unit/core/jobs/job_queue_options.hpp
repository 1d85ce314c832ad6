// Test support for the job queue tests: options that make a queue react in milliseconds rather than seconds.
// Thread-safety: plain values.
#pragma once

#include <string>

#include "core/jobs/job_queue.hpp"

namespace va::test {

inline JobQueueOptions fast_queue(int workers = 2, std::string owner = "", int lease_ms = 2000) {
    JobQueueOptions o;
    o.owner = std::move(owner);
    o.workers = workers;
    o.poll_ms = 20;
    o.lease_ms = lease_ms;
    o.heartbeat_ms = 200;
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 100;
    return o;
}

}  // namespace va::test
