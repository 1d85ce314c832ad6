#include "support/daemon_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace va::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string make_temp_dir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

namespace {

std::vector<char*> c_args(std::vector<std::string>& args) {
    std::vector<char*> out;
    for (auto& a : args) out.push_back(a.data());
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

DaemonProcess::DaemonProcess(std::map<std::string, std::string> env, std::vector<std::string> extra_args,
                             std::string data_dir)
    : m_data_dir(std::move(data_dir)) {
    if (m_data_dir.empty()) {
        m_data_dir = make_temp_dir("va-daemon");
        m_own_dir = true;
    }
    fs::remove(fs::path(m_data_dir) / "voiceagentd.addr");
    std::vector<std::string> args{VA_DAEMON_PATH, "--listen", "127.0.0.1:0", "--data-dir", m_data_dir};
    for (auto& a : extra_args) args.push_back(a);
    std::string log_path = m_data_dir + "/daemon.log";
    m_pid = fork();
    if (m_pid == 0) {
        int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        if (!env.count("VOICEAGENT_LOG_LEVEL")) setenv("VOICEAGENT_LOG_LEVEL", "info", 1);
        auto argv = c_args(args);
        execv(argv[0], argv.data());
        _exit(127);
    }
    auto deadline = Clock::now() + std::chrono::seconds(20);
    fs::path addr_file = fs::path(m_data_dir) / "voiceagentd.addr";
    while (Clock::now() < deadline) {
        std::ifstream in(addr_file);
        std::string addr;
        if (in && std::getline(in, addr) && !addr.empty()) {
            m_port = std::stoi(addr.substr(addr.rfind(':') + 1));
            m_base_url = "http://" + addr;
            return;
        }
        if (!alive()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("voiceagentd did not start; log:\n" + log());
}

DaemonProcess::~DaemonProcess() {
    if (m_pid > 0 && alive()) stop(SIGKILL, 5);
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

bool DaemonProcess::alive() const {
    if (m_pid <= 0) return false;
    int status = 0;
    return waitpid(m_pid, &status, WNOHANG) == 0;
}

int DaemonProcess::stop(int signal, int timeout_s) {
    if (m_pid <= 0) return -1;
    kill(m_pid, signal);
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    int status = 0;
    while (Clock::now() < deadline) {
        pid_t r = waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            m_pid = -1;
            return decode_status(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(m_pid, SIGKILL);
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return -1;
}

ProcessResult run_process(const std::vector<std::string>& argv_in, const std::map<std::string, std::string>& env,
                          const std::string& input, int timeout_s) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
    std::vector<std::string> args = argv_in;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
        for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        auto argv = c_args(args);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    (void)!write(in_pipe[1], input.data(), input.size());
    close(in_pipe[1]);
    ProcessResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    int open_fds = 2;
    while (open_fds > 0 && Clock::now() < deadline) {
        if (poll(fds, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    if (open_fds > 0) kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_code = decode_status(status);
    return result;
}

nlohmann::json HttpResult::json() const { return nlohmann::json::parse(body, nullptr, false); }

namespace {

HttpResult convert(const httplib::Result& r) {
    HttpResult out;
    if (!r) return out;
    out.status = r->status;
    out.body = r->body;
    for (const auto& [k, v] : r->headers) {
        std::string name = k;
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = v;
    }
    return out;
}

}  // namespace

HttpResult Api::raw(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type) const {
    httplib::Client client(m_base);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!m_token.empty()) headers.emplace("Authorization", "Bearer " + m_token);
    for (const auto& [k, v] : m_extra) headers.emplace(k, v);
    if (method == "GET") return convert(client.Get(path, headers));
    if (method == "DELETE") return convert(client.Delete(path, headers));
    if (method == "POST") return convert(client.Post(path, headers, body, content_type));
    if (method == "PUT") return convert(client.Put(path, headers, body, content_type));
    return convert(client.Patch(path, headers, body, content_type));
}

HttpResult Api::get(const std::string& path) const { return raw("GET", path, "", ""); }
HttpResult Api::del(const std::string& path) const { return raw("DELETE", path, "", ""); }
HttpResult Api::post(const std::string& path, const nlohmann::json& body) const {
    return raw("POST", path, body.dump(), "application/json");
}
HttpResult Api::put(const std::string& path, const nlohmann::json& body) const {
    return raw("PUT", path, body.dump(), "application/json");
}
HttpResult Api::patch(const std::string& path, const nlohmann::json& body) const {
    return raw("PATCH", path, body.dump(), "application/json");
}

RawConnection::RawConnection(int port) {
    m_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(m_fd);
        m_fd = -1;
    }
}

RawConnection::~RawConnection() {
    if (m_fd >= 0) close(m_fd);
}

void RawConnection::send(const std::string& bytes) {
    if (m_fd >= 0) (void)!::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

std::string RawConnection::read_all(int timeout_ms) {
    std::string out;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (m_fd >= 0 && Clock::now() < deadline) {
        pollfd p{m_fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        char buf[4096];
        ssize_t n = recv(m_fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string raw_exchange(int port, const std::string& bytes, int timeout_ms) {
    RawConnection c(port);
    c.send(bytes);
    return c.read_all(timeout_ms);
}

}  // namespace va::test
