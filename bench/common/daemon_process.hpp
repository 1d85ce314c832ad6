// A voiceagentd started by a benchmark program itself, for benchmarks whose fakes live in the load generator and
// must be listening before the daemon starts (their URLs are the daemon's configuration): a fresh data directory,
// 127.0.0.1:0, access log off, warnings only, the given VOICEAGENT_* settings; stopped (SIGTERM, then SIGKILL
// after 10 s) and its directory removed when the object goes, or SIGTERM when the benchmark process dies. bench/daemon.sh is the same for scripts.
// Thread-safety: one owner thread.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace va::bench {

class DaemonProcess {
public:
    DaemonProcess(const std::string& path, const std::map<std::string, std::string>& env) {
        char dir[] = "/tmp/va-bench.XXXXXX";
        if (!mkdtemp(dir)) throw std::runtime_error("cannot create a data directory");
        m_data = dir;
        m_pid = fork();
        if (m_pid < 0) throw std::runtime_error("cannot fork");
        if (m_pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);  // a benchmark killed by its time limit takes its daemon along
            setenv("VOICEAGENT_LOG_ACCESS_LOG", "false", 1);
            setenv("VOICEAGENT_LOG_LEVEL", "warn", 1);
            for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
            execl(path.c_str(), path.c_str(), "--listen", "127.0.0.1:0", "--data-dir", m_data.c_str(), (char*)nullptr);
            _exit(127);
        }
        for (int i = 0; i < 300; ++i) {
            std::ifstream addr(m_data + "/voiceagentd.addr");
            std::string a;
            if (addr >> a && !a.empty()) {
                m_base = "http://" + a;
                break;
            }
            if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                m_pid = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::ifstream key(m_data + "/admin.key");
        key >> m_key;
        if (m_base.empty() || m_key.empty()) {
            stop();
            throw std::runtime_error("voiceagentd did not start (" + path + ")");
        }
    }
    ~DaemonProcess() { stop(); }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    int pid() const { return m_pid; }
    const std::string& base_url() const { return m_base; }
    const std::string& admin_key() const { return m_key; }

    void stop() {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            for (int i = 0; i < 100 && waitpid(m_pid, nullptr, WNOHANG) == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (waitpid(m_pid, nullptr, WNOHANG) == 0) {
                kill(m_pid, SIGKILL);
                waitpid(m_pid, nullptr, 0);
            }
            m_pid = -1;
        }
        if (!m_data.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(m_data, ec);
            m_data.clear();
        }
    }

private:
    std::string m_data, m_base, m_key;
    int m_pid = -1;
};

}  // namespace va::bench
