// How vactl finds the owner key of a daemon on this machine without trusting its working directory: at start the
// daemon announces, in a directory private to its user, which address it listens on and which data directory
// (hence admin.key) it serves; vactl believes an announcement only when the directory and file belong to the
// user running it and are writable by no one else, and the daemon that wrote it is still running.
// Directory: $XDG_RUNTIME_DIR/voiceagentd, else $XDG_STATE_HOME/voiceagentd, else $HOME/.local/state/voiceagentd;
// one file per port, daemon-<port>.json: {"address", "data_dir" (absolute), "pid"}.
// Thread-safety: plain functions on the file system; safe from any thread (writes are atomic renames).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va {

struct DaemonAnnouncement {
    std::string address;   // "127.0.0.1:8700"
    std::string data_dir;  // absolute
    long pid = 0;
};

// Where this process announces (the first of the directories above that its environment names).
std::filesystem::path announce_dir();
std::filesystem::path announce_path(int port);
// Every directory an announcement may be in, in that order: a daemon started under sudo or another session may
// have had another XDG_RUNTIME_DIR than the vactl reading it.
std::vector<std::filesystem::path> announce_dirs();

// Written 0600 in a 0700 directory, atomically.
Status write_announcement(int port, const DaemonAnnouncement& announcement);
// The announcement for `port` in the first of announce_dirs() that has one that can be believed; nullopt if none.
std::optional<DaemonAnnouncement> read_announcement(int port);
// Removes the announcement for `port` if it still names `pid` (a newer daemon on the port keeps its own).
void remove_announcement(int port, long pid);

}  // namespace va
