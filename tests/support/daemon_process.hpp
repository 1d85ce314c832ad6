// Test support: runs the real voiceagentd as a child process on loopback with a fresh temporary data directory,
// and runs vactl (or any program) to completion with pipes and a timeout. A DaemonProcess is owned by one test
// thread; its const accessors may be read from helper threads. When an assertion fails while a daemon lives, its
// destructor prints the tail of the daemon's log to stderr, so a failing test shows what the daemon said. Create a
// DaemonProcess on the test's own thread: the daemon is killed when the thread that started it exits (so a crashed
// test binary leaves no daemon behind).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace va::test {

using Env = std::map<std::string, std::string>;

class DaemonProcess {
public:
    // Starts `voiceagentd --listen 127.0.0.1:0 --data-dir DIR extra_args...` with `env` added to the environment
    // and waits (up to 20 s) for DIR/voiceagentd.addr; throws with the daemon's log when it does not come up.
    // `data_dir` empty means a new temporary directory under /tmp, removed by the destructor.
    explicit DaemonProcess(Env env = {}, std::vector<std::string> extra_args = {}, std::string data_dir = "");
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    const std::string& base_url() const { return m_base_url; }
    int port() const { return m_port; }
    const std::string& data_dir() const { return m_data_dir; }
    std::string admin_key() const;  // DIR/admin.key without its newline; empty when absent
    std::string log() const;
    std::string log_tail(std::size_t lines = 40) const;
    bool alive() const;
    pid_t pid() const { return m_pid; }

    // Sends `signal` and waits up to `timeout_s` for the exit; returns the exit status (128+signal when killed by
    // one), or -1 when it had to be killed with SIGKILL after the timeout.
    int stop(int signal = 15, int timeout_s = 20);

private:
    std::string m_data_dir;
    bool m_own_dir = false;
    std::string m_base_url;
    int m_port = 0;
    pid_t m_pid = -1;
    int m_failures_at_start = 0;
    // waitpid reaps once: the status is kept so alive() and stop() agree after the child has gone.
    mutable bool m_reaped = false;
    mutable int m_exit_status = -1;
};

struct ProcessResult {
    int exit_code = -1;  // 128+signal when killed by one; -1 when killed for exceeding the timeout
    std::string out;
    std::string err;
    bool timed_out = false;
    bool interrupted = false;  // SIGINT was sent (run_process_interrupting)
};

// Runs a program to completion (SIGKILL after `timeout_s`), with `env` added to the environment, `input` on
// stdin and, when `cwd` is not empty, that working directory.
ProcessResult run_process(const std::vector<std::string>& argv, const Env& env = {}, const std::string& input = "",
                          int timeout_s = 60, const std::string& cwd = "");

// Like run_process, and sends SIGINT (a user's Ctrl-C) once the program's stdout contains `interrupt_on`.
ProcessResult run_process_interrupting(const std::vector<std::string>& argv, const Env& env,
                                      const std::string& interrupt_on, int timeout_s = 60);

// Runs vactl with `args`. XDG_CONFIG_HOME and the working directory are a temporary directory unless `env` sets
// XDG_CONFIG_HOME, so the developer's settings and ./var/admin.key are never read or written; VACTL_* and
// VOICEAGENT_*_DIR variables of the developer's environment are cleared unless `env` sets them.
ProcessResult run_vactl(const std::vector<std::string>& args, const Env& env = {}, const std::string& stdin_text = "",
                        int timeout_s = 60);

// A new directory /tmp/<prefix>-XXXXXX (mkdtemp); throws when it cannot be created.
std::string make_temp_dir(const std::string& prefix);

}  // namespace va::test
