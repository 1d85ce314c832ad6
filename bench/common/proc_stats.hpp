// What the benchmarks read about the daemon's process (CPU seconds, resident memory, from /proc) and the
// percentile they report. Header-only: each benchmark is a single small program.
// Thread-safety: free functions.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace va::bench {

// User plus system CPU time of process `pid`, in seconds.
inline double cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string f;
    std::vector<std::string> fields;
    while (rest >> f) fields.push_back(f);
    return (std::stod(fields[11]) + std::stod(fields[12])) / double(sysconf(_SC_CLK_TCK));
}

// Resident set size of process `pid`, in bytes.
inline double rss_bytes(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
    double size = 0, resident = 0;
    in >> size >> resident;
    return resident * double(sysconf(_SC_PAGESIZE));
}

// Private anonymous resident memory of `pid` (heap, stacks: what calls allocate), in bytes. RSS also counts the
// pages of the binary and its libraries the first calls fault in, which are shared and paid once, not per call.
inline double rss_anon_bytes(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    double kib = 0;
    while (in >> key) {
        if (key == "RssAnon:") {
            in >> kib;
            return kib * 1024;
        }
        in.ignore(4096, '\n');
    }
    return 0;
}

// The nearest-rank percentile (p in 0..1) of `v`; 0 when empty.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(std::ceil(p * double(v.size()))) - 1)];
}

}  // namespace va::bench
