#include "daemon/calls/recording_files.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <system_error>

namespace va {

namespace {
constexpr std::int64_t kSweepEveryMs = 3'600'000;
}  // namespace

void RecordingFiles::configure(std::string dir, bool enabled, int retention_days) {
    m_dir = std::move(dir);
    m_enabled = enabled;
    m_retention_days = retention_days;
    if (enabled) {
        std::error_code ec;
        std::filesystem::create_directories(m_dir, ec);
        if (ec) spdlog::error("cannot create the recordings directory {}: {}", m_dir, ec.message());
    }
}

std::string RecordingFiles::path(const std::string& call_id) const {
    if (m_dir.empty() || call_id.find_first_of("/\\.") != std::string::npos) return {};
    return m_dir + "/" + call_id + ".wav";
}

bool RecordingFiles::claim_sweep(std::int64_t now_ms) {
    if (!m_enabled) return false;
    std::int64_t last = m_last_sweep_ms.load();
    return now_ms - last > kSweepEveryMs && m_last_sweep_ms.compare_exchange_strong(last, now_ms);
}

std::size_t RecordingFiles::sweep(std::int64_t now_ms) {
    m_last_sweep_ms.store(now_ms);
    if (m_retention_days <= 0 || m_dir.empty()) return 0;
    namespace fs = std::filesystem;
    auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * m_retention_days;
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
        if (!entry.is_regular_file(ec) || entry.path().extension() != ".wav") continue;
        if (entry.last_write_time(ec) < cutoff && fs::remove(entry.path(), ec)) ++removed;
    }
    if (removed) spdlog::info("removed {} recordings older than {} days", removed, m_retention_days);
    return removed;
}

}  // namespace va
