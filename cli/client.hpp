// vactl's connection to the daemon: which server, which credential (flag, environment, settings, or the daemon's
// admin.key on loopback), one exchange function, and the single mapping from HTTP answers to vactl's exit codes.
// Thread-safety: single-threaded use (one command per process).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/settings.hpp"
#include "core/util/result.hpp"

namespace va::cli {

// Documented exit codes (docs/vactl.md).
enum ExitCode { kOk = 0, kError = 1, kUsage = 2, kAuth = 3, kNotFound = 4 };

// A failed command: what to print and how to exit. Commands throw it and run() catches it, the way CLI11 reports
// its own parse errors; it never leaves vactl.
struct CliError : std::runtime_error {
    CliError(int exit_code, std::string message, nlohmann::json body = nullptr)
        : std::runtime_error(std::move(message)), code(exit_code), body(std::move(body)) {}
    int code;
    nlohmann::json body;  // the server's error JSON, when there was one
};

struct GlobalOptions {
    std::string server;            // --server
    std::string token;             // --token
    std::string output = "table";  // -o, --output: table or json
};

// One HTTP answer. `body` is null when the answer was empty or not JSON.
struct Response {
    int status = 0;
    nlohmann::json body;
};

// 401/403 -> kAuth, 404 -> kNotFound, other failures -> kError, 2xx -> kOk.
int exit_code_for_status(int status);
// The CliError for a failed answer: the server's error message (or "HTTP <status>") and its body.
CliError error_for_response(const Response& response);

// "--server > $VACTL_SERVER > settings > http://127.0.0.1:8700", normalised (scheme added, trailing '/' removed).
std::string resolve_server(const std::string& flag, const Settings& settings);
// Whether the URL's host is exactly 127.0.0.1, ::1 or localhost: the only hosts admin.key is ever sent to (another
// 127.x address may be anyone's listener).
bool is_loopback_url(const std::string& url);
// The admin.key of the daemon at `server` on this machine, from the data directory the user configured
// ($VOICEAGENT_DATA_DIR, $VOICEAGENT_STORAGE_DATA_DIR) or, when none is, the one that daemon announced for its port
// (core/util/daemon_announce.hpp); never from the working directory. Trimmed; empty when none.
std::string read_admin_key(const std::string& server);

class Client {
public:
    enum class Auth { none, token };

    // Reads the settings file and the environment; throws CliError(kUsage) for a bad --output.
    explicit Client(const GlobalOptions& options);

    const std::string& server() const { return m_server; }
    bool json_output() const { return m_json; }
    Settings& settings() { return m_settings; }
    // "flag", "env", "settings", "admin.key", or "" before the first authenticated request / with no credential.
    const std::string& token_source() const { return m_token_source; }

    // One exchange. With Auth::token a 401 on a saved access token refreshes it once (saving the new tokens) and
    // retries. Transport failures (connection refused, timeouts) are errors; any HTTP status is a Response.
    Result<Response> send(const std::string& method, const std::string& path,
                          const std::optional<nlohmann::json>& body = std::nullopt, Auth auth = Auth::token);

    // send() for command bodies: the JSON of a 2xx answer (null for 204), else throws the mapped CliError.
    nlohmann::json request(const std::string& method, const std::string& path,
                           const std::optional<nlohmann::json>& body = std::nullopt, Auth auth = Auth::token);

    // request() with a body that is not JSON (a CSV file): `content_type` names it.
    nlohmann::json request_text(const std::string& method, const std::string& path, const std::string& text,
                                const std::string& content_type);

    // The credential requests present; throws CliError(kAuth) when there is none (also for WebSocket use).
    std::string token();

private:
    struct Payload {
        std::string text;
        std::string content_type = "application/json";
    };
    static std::optional<Payload> json_payload(const std::optional<nlohmann::json>& body);
    Result<Response> send_payload(const std::string& method, const std::string& path,
                                  const std::optional<Payload>& body, Auth auth);
    nlohmann::json checked(Result<Response> answer);
    Result<Response> exchange(const std::string& method, const std::string& path, const std::optional<Payload>& body,
                              const std::string& token);
    bool refresh();

    std::string m_server;
    std::string m_flag_token;
    bool m_json = false;
    bool m_refreshed = false;
    Settings m_settings;
    std::string m_token_source;
};

// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

}  // namespace va::cli
