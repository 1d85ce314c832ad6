// Process figures for /metrics (CPU seconds, resident memory, open file descriptors, threads, start time), read
// from /proc/self when scraped. Thread-safety: the gauges read /proc only; safe from any thread.
#pragma once

#include "core/util/metrics.hpp"

namespace va {

void register_process_metrics(MetricsRegistry& registry);

}  // namespace va
