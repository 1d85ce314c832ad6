// Test support for vactl: a canned-answer HTTP server on 127.0.0.1 (a real socket, an ephemeral port) that records
// what it was asked, and a way to run vactl in-process with its own settings directory, environment, stdin, and
// captured stdout/stderr. Thread-safety: the server thread only calls the handler and appends to the log under a
// mutex; everything else runs on the test's thread.
#pragma once

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands/commands.hpp"
#include "support/http_capture_server.hpp"

namespace va::cli::test {

struct Seen {
    std::string method;
    std::string path;                           // without the query
    std::map<std::string, std::string> query;
    std::string authorization;
    nlohmann::json body;                        // null when empty
};

struct Reply {
    int status = 200;
    nlohmann::json body;                        // null sends an empty body
};

class FakeDaemon {
public:
    std::function<Reply(const Seen&)> handler = [](const Seen&) { return Reply{404, nullptr}; };

    FakeDaemon() {
        auto serve = [this](const httplib::Request& req, httplib::Response& res) {
            Seen seen{req.method, req.path, {}, req.get_header_value("Authorization"), nullptr};
            for (const auto& [k, v] : req.params) seen.query[k] = v;
            if (!req.body.empty()) seen.body = nlohmann::json::parse(req.body, nullptr, false);
            Reply reply;
            {
                std::lock_guard lock(m_mutex);
                m_seen.push_back(seen);
                reply = handler(seen);
            }
            res.status = reply.status;
            if (!reply.body.is_null()) res.set_content(reply.body.dump(), "application/json");
        };
        for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) m_server.route(method, ".*", serve);
        m_server.start();
    }
    std::string url() const { return m_server.url(); }
    std::vector<Seen> seen() {
        std::lock_guard lock(m_mutex);
        return m_seen;
    }

private:
    std::mutex m_mutex;
    std::vector<Seen> m_seen;
    va::test::HttpCaptureServer m_server;  // last: stopped before what its handler uses is destroyed
};

inline nlohmann::json api_error(const std::string& code, const std::string& message,
                                nlohmann::json details = nlohmann::json::array()) {
    nlohmann::json error{{"code", code}, {"message", message}};
    if (!details.empty()) error["details"] = std::move(details);
    return nlohmann::json{{"error", error}};
}

inline nlohmann::json page(nlohmann::json items, nlohmann::json next = nullptr) {
    return nlohmann::json{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

// Sets (or, with nullopt, unsets) environment variables for one scope.
class ScopedEnv {
public:
    ScopedEnv(std::initializer_list<std::pair<std::string, std::optional<std::string>>> vars) {
        for (const auto& [name, value] : vars) {
            const char* old = std::getenv(name.c_str());
            m_saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }
    ~ScopedEnv() {
        for (auto it = m_saved.rbegin(); it != m_saved.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

inline std::string make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "va-cli-XXXXXX").string();
    const char* dir = ::mkdtemp(pattern.data());
    if (!dir) throw std::runtime_error("mkdtemp failed");
    return dir;
}

struct CliRun {
    int code = -1;
    std::string out;
    std::string err;
    nlohmann::json out_json() const { return nlohmann::json::parse(out, nullptr, false); }
};

// A settings directory, working directory (so no ./var/admin.key is found) and clean environment (no VACTL_*,
// no admin.key variables) for vactl runs.
class CliFixture {
public:
    CliFixture()
        : m_old_cwd(std::filesystem::current_path()),
          m_dir(make_temp_dir()),
          // XDG_RUNTIME_DIR: the daemons' announcements (admin.key lookup) of this test only.
          m_env({{"XDG_CONFIG_HOME", m_dir},
                 {"XDG_RUNTIME_DIR", m_dir + "/run"},
                 {"XDG_STATE_HOME", std::nullopt},
                 {"HOME", m_dir},
                 {"VACTL_SERVER", std::nullopt},
                 {"VACTL_TOKEN", std::nullopt},
                 {"VOICEAGENT_DATA_DIR", std::nullopt},
                 {"VOICEAGENT_STORAGE_DATA_DIR", std::nullopt}}) {
        std::filesystem::current_path(m_dir);
    }
    ~CliFixture() {
        std::filesystem::current_path(m_old_cwd);
        std::filesystem::remove_all(m_dir);
    }
    const std::string& dir() const { return m_dir; }

    // Runs vactl with these arguments exactly as main() does, stdin reading `input`.
    CliRun run(const std::vector<std::string>& args, const std::string& input = "") const {
        std::ostringstream out, err;
        std::istringstream in(input);
        auto* old_out = std::cout.rdbuf(out.rdbuf());
        auto* old_err = std::cerr.rdbuf(err.rdbuf());
        auto* old_in = std::cin.rdbuf(in.rdbuf());
        CliRun result;
        {
            Context ctx;
            CLI::App app{"vactl", "vactl"};
            add_global_options(app, ctx);
            register_auth(app, ctx);
            register_agents(app, ctx);
            register_numbers(app, ctx);
            register_calls(app, ctx);
            register_users(app, ctx);
            register_keys(app, ctx);
            std::vector<const char*> argv{"vactl"};
            for (const auto& a : args) argv.push_back(a.c_str());
            result.code = va::cli::run(app, ctx, static_cast<int>(argv.size()), argv.data());
        }
        std::cout.rdbuf(old_out);
        std::cerr.rdbuf(old_err);
        std::cin.rdbuf(old_in);
        std::cin.clear();
        result.out = out.str();
        result.err = err.str();
        return result;
    }

private:
    std::filesystem::path m_old_cwd;
    std::string m_dir;
    ScopedEnv m_env;
};

}  // namespace va::cli::test
