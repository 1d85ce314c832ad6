#include "daemon/server/process_metrics.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace va {

namespace {

// Fields of /proc/self/stat after the command name (which may hold spaces, so split after its closing paren).
std::vector<std::string> stat_fields() {
    std::ifstream in("/proc/self/stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    std::vector<std::string> fields;
    if (close == std::string::npos) return fields;
    std::istringstream rest(line.substr(close + 2));
    std::string f;
    while (rest >> f) fields.push_back(f);
    return fields;  // fields[0] is field 3 (state)
}

double field(const std::vector<std::string>& f, std::size_t stat_index) {
    std::size_t i = stat_index - 3;
    return i < f.size() ? std::stod(f[i]) : 0.0;
}

double boot_time_s() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> value;
            return value;
        }
        in.ignore(1 << 16, '\n');
    }
    return 0;
}

}  // namespace

void register_process_metrics(MetricsRegistry& registry) {
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    registry.gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", [] {
        auto f = stat_fields();
        return (field(f, 14) + field(f, 15)) / ticks;
    });
    registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [] {
        std::ifstream in("/proc/self/statm");
        double size = 0, resident = 0;
        in >> size >> resident;
        return resident * page;
    });
    registry.gauge("process_open_fds", "Number of open file descriptors.", [] {
        std::error_code ec;
        double n = 0;
        for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
            ++n;
        return n;
    });
    registry.gauge("process_threads", "Number of OS threads in the process.", [] { return field(stat_fields(), 20); });
    static const double start = boot_time_s() + field(stat_fields(), 22) / ticks;
    registry.gauge("process_start_time_seconds", "Start time of the process since the epoch in seconds.",
                   [] { return start; });
}

}  // namespace va
