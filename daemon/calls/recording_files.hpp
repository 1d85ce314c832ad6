// Where calls' recordings live on disk and how long they stay: <dir>/<call id>.wav, kept `retention_days` (0:
// forever), old ones swept at start-up and then at most hourly as calls are created. One place, so that another
// storage for recordings has one thing to stand beside.
// Thread-safety: configure() before calls start; the rest is then safe from any thread (the sweep's clock is atomic,
// and a sweep is claimed by one caller at a time).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace va {

class RecordingFiles {
public:
    void configure(std::string dir, bool enabled, int retention_days);
    bool enabled() const { return m_enabled; }
    // The file for a call's recording; empty when there is no directory or the id could leave it.
    std::string path(const std::string& call_id) const;
    // Whether a sweep is due at `now_ms` (an hour since the last): true for one caller only, who then sweeps.
    bool claim_sweep(std::int64_t now_ms);
    // Removes the recordings older than the retention period; how many went.
    std::size_t sweep(std::int64_t now_ms);

private:
    std::string m_dir;
    bool m_enabled = false;
    int m_retention_days = 0;
    std::atomic<std::int64_t> m_last_sweep_ms{0};
};

}  // namespace va
