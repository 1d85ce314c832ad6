// vactl's connection to the daemon: where it is, which credential to present, and one request function that
// maps HTTP failures to vactl's exit codes. Also the local settings file ($XDG_CONFIG_HOME/vactl/config.json).
// Thread-safety: single-threaded use (one command per process).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace va::cli {

// Documented exit codes (docs/vactl.md).
enum ExitCode { kOk = 0, kError = 1, kUsage = 2, kAuth = 3, kNotFound = 4 };

// A failed command: what to print and how to exit. Thrown out of commands, caught once in run_vactl.
struct CliError : std::runtime_error {
    CliError(int exit_code, std::string message, nlohmann::json body = nullptr)
        : std::runtime_error(std::move(message)), code(exit_code), body(std::move(body)) {}
    int code;
    nlohmann::json body;  // the server's error JSON, when there was one
};

struct Settings {
    std::string server;
    std::string access_token;
    std::string refresh_token;
    std::string email;

    static std::string path();   // $XDG_CONFIG_HOME/vactl/config.json (XDG_CONFIG_HOME defaults to ~/.config)
    static Settings load();      // empty settings when the file does not exist
    void save() const;           // mode 0600, directory 0700, written atomically
};

struct GlobalOptions {
    std::string server;          // --server
    std::string token;           // --token
    std::string output = "table";  // -o table|json
};

class Client {
public:
    explicit Client(const GlobalOptions& options);

    const std::string& server() const { return m_server; }
    bool json_output() const { return m_json; }

    // Sends a request; returns the JSON body (null for 204). Throws CliError on failure. `auth` false sends
    // no credential (login, refresh).
    nlohmann::json request(const std::string& method, const std::string& path,
                           const std::optional<nlohmann::json>& body = std::nullopt, bool auth = true);

    Settings& settings() { return m_settings; }
    // The credential requests use (throws CliError(kAuth) when there is none), for WebSocket connections.
    std::string token();

private:
    std::string resolve_token();
    bool try_refresh();

    std::string m_server;
    std::string m_flag_token;
    bool m_json = false;
    Settings m_settings;
    std::string m_token_source;  // "flag", "env", "settings", "admin.key" or ""
};

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& text);

}  // namespace va::cli
