#include "core/util/daemon_announce.hpp"

#include "core/util/json.hpp"
#include "core/util/strings.hpp"
#include "core/util/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

namespace va {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Ours and writable by no one else: another local user must not be able to plant or replace it.
bool private_to_us(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return false;
    return st.st_uid == ::geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// Running and ours (a signal to another user's process fails with EPERM).
bool alive(long pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0; }

}  // namespace

std::vector<fs::path> announce_dirs() {
    std::vector<fs::path> dirs;
    if (auto runtime = env_or_empty("XDG_RUNTIME_DIR"); !runtime.empty()) dirs.push_back(fs::path(runtime) / "voiceagentd");
    if (auto state = env_or_empty("XDG_STATE_HOME"); !state.empty()) dirs.push_back(fs::path(state) / "voiceagentd");
    auto home = env_or_empty("HOME");
    dirs.push_back(fs::path(home.empty() ? "/" : home) / ".local" / "state" / "voiceagentd");
    return dirs;
}

fs::path announce_dir() { return announce_dirs().front(); }

fs::path announce_path(int port) { return announce_dir() / ("daemon-" + std::to_string(port) + ".json"); }

Status write_announcement(int port, const DaemonAnnouncement& announcement) {
    std::string text = json{{"address", announcement.address}, {"data_dir", announcement.data_dir},
                            {"pid", announcement.pid}}.dump() + "\n";
    return write_private_file(announce_path(port), text);
}

namespace {

std::optional<DaemonAnnouncement> read_announcement_in(const fs::path& dir, int port) {
    fs::path file = dir / ("daemon-" + std::to_string(port) + ".json");
    if (!private_to_us(dir) || !private_to_us(file)) return std::nullopt;
    std::ifstream in(file);
    json j = parse_json(std::string(std::istreambuf_iterator<char>(in), {}));
    if (!j.is_object()) return std::nullopt;
    DaemonAnnouncement a;
    auto text = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    a.address = text("address");
    a.data_dir = text("data_dir");
    if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) a.pid = it->get<long>();
    // A stale file (the daemon died without removing it) must not send the key to whoever took the port since.
    if (a.data_dir.empty() || !fs::path(a.data_dir).is_absolute() || !alive(a.pid)) return std::nullopt;
    return a;
}

}  // namespace

std::optional<DaemonAnnouncement> read_announcement(int port) {
    for (const auto& dir : announce_dirs())
        if (auto a = read_announcement_in(dir, port)) return a;
    return std::nullopt;
}

void remove_announcement(int port, long pid) {
    fs::path file = announce_path(port);
    std::ifstream in(file);
    json j = parse_json(std::string(std::istreambuf_iterator<char>(in), {}));
    if (!j.is_object() || j.value("pid", 0L) != pid) return;
    std::error_code ec;
    fs::remove(file, ec);
}

}  // namespace va
