#include "support/daemon_process.hpp"

#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace va::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Failed assertions so far in this test binary; a daemon compares it at start and at destruction to decide
// whether its log is worth printing.
std::atomic<int> g_failed_assertions{0};

class FailureCounter : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;
    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) ++g_failed_assertions;
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureCounter)

std::string make_temp_dir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    return tmpl;
}

namespace {

// The child's argv and environment are built before fork: after fork in a threaded process only
// async-signal-safe calls are allowed, which rules out setenv and allocation.
struct ExecImage {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::vector<char*> argv;
    std::vector<char*> envp;

    ExecImage(std::vector<std::string> a, const Env& overrides, const std::vector<std::string>& cleared_prefixes)
        : args(std::move(a)) {
        for (char** e = environ; *e; ++e) {
            std::string entry = *e;
            std::string name = entry.substr(0, entry.find('='));
            bool drop = overrides.count(name) > 0;
            for (const auto& prefix : cleared_prefixes)
                if (name.rfind(prefix, 0) == 0) drop = true;
            if (!drop) env.push_back(std::move(entry));
        }
        for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);
        for (auto& s : env) envp.push_back(s.data());
        envp.push_back(nullptr);
    }
    // argv and envp point into args and env.
    ExecImage(const ExecImage&) = delete;
    ExecImage& operator=(const ExecImage&) = delete;
};

// Runs in the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const ExecImage& image, const char* cwd) {
    // Descriptors of other tests' sockets and pipes must not leak into the child, or a pipe reader would wait
    // for the child's exit to see EOF.
    close_range(3, ~0U, 0);
    if (cwd && chdir(cwd) != 0) _exit(126);
    execve(image.argv[0], image.argv.data(), image.envp.data());
    _exit(127);
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

DaemonProcess::DaemonProcess(Env env, std::vector<std::string> extra_args, std::string data_dir)
    : m_data_dir(std::move(data_dir)), m_failures_at_start(g_failed_assertions.load()) {
    if (m_data_dir.empty()) {
        m_data_dir = make_temp_dir("va-daemon");
        m_own_dir = true;
    }
    fs::path addr_file = fs::path(m_data_dir) / "voiceagentd.addr";
    fs::remove(addr_file);  // a restart on the same directory must not pick up the previous port
    if (!env.count("VOICEAGENT_LOG_LEVEL")) env["VOICEAGENT_LOG_LEVEL"] = "info";
    // The daemon announces its data directory to vactl there (core/util/daemon_announce.hpp): the test's own.
    if (!env.count("XDG_RUNTIME_DIR")) env["XDG_RUNTIME_DIR"] = m_data_dir + "/run";
    // VA_TEST_DAEMON runs the suite against another build, e.g. the code before a fix, to see a regression
    // test fail there (docs/testing.md).
    const char* other_daemon = std::getenv("VA_TEST_DAEMON");
    std::vector<std::string> args{other_daemon && *other_daemon ? other_daemon : VA_DAEMON_PATH, "--data-dir",
                                  m_data_dir};
    // A port of the test's choosing (a URL that must name it before the daemon starts), else any free one.
    if (std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end())
        args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    // The developer's own VOICEAGENT_* settings would change what is under test.
    ExecImage image(std::move(args), env, {"VOICEAGENT_"});
    std::string log_path = m_data_dir + "/daemon.log";
    int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid();
    m_pid = fork();
    if (m_pid == 0) {
        // A crashed or aborted test binary must not leave daemons behind. The signal follows the forking
        // thread, so a DaemonProcess must be created on the thread that runs the test (as all tests do).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(125);
        dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        // The data directory as working directory keeps a ./voiceagentd.toml of the caller's directory out.
        exec_child(image, m_data_dir.c_str());
    }
    close(log_fd);
    close(null_fd);
    if (m_pid < 0) throw std::runtime_error("fork failed");

    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
        std::ifstream in(addr_file);
        std::string addr;
        // The daemon writes the file atomically (rename), so a complete line means a complete address.
        if (in && std::getline(in, addr) && !addr.empty()) {
            m_port = std::stoi(addr.substr(addr.rfind(':') + 1));
            m_base_url = "http://" + addr;
            return;
        }
        if (!alive()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string why = alive() ? "did not write voiceagentd.addr within 20 s"
                              : "exited with status " + std::to_string(m_exit_status);
    std::string tail = log_tail(60);
    if (alive()) stop(SIGKILL, 5);
    if (m_own_dir) {
        std::error_code ec;
        fs::remove_all(m_data_dir, ec);
    }
    throw std::runtime_error("voiceagentd " + why + "; log:\n" + tail);
}

DaemonProcess::~DaemonProcess() {
    if (g_failed_assertions.load() > m_failures_at_start)
        std::cerr << "---- voiceagentd log (" << m_data_dir << "), last lines ----\n"
                  << log_tail(40) << "---- end of voiceagentd log ----\n";
    if (alive()) stop(SIGKILL, 5);
    if (m_own_dir) {
        std::error_code ec;
        fs::remove_all(m_data_dir, ec);
    }
}

std::string DaemonProcess::admin_key() const {
    std::ifstream in(fs::path(m_data_dir) / "admin.key");
    std::string key;
    std::getline(in, key);
    return key;
}

std::string DaemonProcess::log() const {
    std::ifstream in(fs::path(m_data_dir) / "daemon.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string DaemonProcess::log_tail(std::size_t lines) const {
    std::istringstream in(log());
    std::deque<std::string> last;
    for (std::string line; std::getline(in, line);) {
        last.push_back(std::move(line));
        if (last.size() > lines) last.pop_front();
    }
    std::string out;
    for (const auto& l : last) out += l + "\n";
    return out;
}

bool DaemonProcess::alive() const {
    if (m_pid <= 0 || m_reaped) return false;
    int status = 0;
    pid_t r = waitpid(m_pid, &status, WNOHANG);
    if (r == 0) return true;
    if (r == m_pid) m_exit_status = decode_status(status);
    m_reaped = true;
    return false;
}

int DaemonProcess::stop(int signal, int timeout_s) {
    if (m_pid <= 0) return -1;
    // Never signal a reaped pid: the number may already belong to another process.
    if (!alive()) return m_exit_status;
    kill(m_pid, signal);
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
        if (!alive()) return m_exit_status;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(m_pid, SIGKILL);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_reaped = true;
    m_exit_status = -1;
    return -1;
}

namespace {

ProcessResult run_image(const ExecImage& image, const std::string& input, int timeout_s, const std::string& cwd,
                        const std::string& interrupt_on = "") {
    // A child that exits without reading its stdin must not kill the test binary with SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        exec_child(image, cwd.empty() ? nullptr : cwd.c_str());
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (pid < 0) {
        for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) close(fd);
        throw std::runtime_error("fork failed");
    }
    // stdin is written from the poll loop so a child that writes much before reading cannot deadlock us.
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    int in_fd = in_pipe[1];
    if (input.empty()) {
        close(in_fd);
        in_fd = -1;
    }

    ProcessResult result;
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while ((fds[0].fd >= 0 || fds[1].fd >= 0) && Clock::now() < deadline) {
        fds[2].fd = in_fd;
        if (poll(fds, 3, 50) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
            } else {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            }
        }
        if (!interrupt_on.empty() && !result.interrupted && result.out.find(interrupt_on) != std::string::npos) {
            kill(pid, SIGINT);
            result.interrupted = true;
        }
        if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in_fd, input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0) close(in_fd);
    for (int i = 0; i < 2; ++i)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    // Output closed but the process lingers: give it a moment to exit before treating it as hung.
    for (auto grace = Clock::now() + std::chrono::seconds(2); r == 0 && Clock::now() < std::min(grace, deadline);) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        r = waitpid(pid, &status, WNOHANG);
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        result.timed_out = true;
        result.exit_code = -1;
        return result;
    }
    result.exit_code = decode_status(status);
    return result;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const Env& env, const std::string& input,
                          int timeout_s, const std::string& cwd) {
    return run_image(ExecImage(argv, env, {}), input, timeout_s, cwd);
}

ProcessResult run_process_interrupting(const std::vector<std::string>& argv, const Env& env,
                                      const std::string& interrupt_on, int timeout_s) {
    return run_image(ExecImage(argv, env, {}), "", timeout_s, "", interrupt_on);
}

ProcessResult run_vactl(const std::vector<std::string>& args, const Env& env, const std::string& stdin_text,
                        int timeout_s) {
    Env full = env;
    std::string own_home;
    if (!full.count("XDG_CONFIG_HOME")) {
        own_home = make_temp_dir("va-vactl");
        full["XDG_CONFIG_HOME"] = own_home;
    }
    // VA_TEST_VACTL: another vactl build, as VA_TEST_DAEMON is for the daemon (docs/testing.md).
    const char* other_vactl = std::getenv("VA_TEST_VACTL");
    std::vector<std::string> argv{other_vactl && *other_vactl ? other_vactl : VA_VACTL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    // The developer's VACTL_* and VOICEAGENT_* variables would pick another server, token or admin.key.
    ExecImage image(std::move(argv), full, {"VACTL_", "VOICEAGENT_"});
    auto result = run_image(image, stdin_text, timeout_s, full["XDG_CONFIG_HOME"]);
    if (!own_home.empty()) {
        std::error_code ec;
        fs::remove_all(own_home, ec);
    }
    return result;
}

}  // namespace va::test
