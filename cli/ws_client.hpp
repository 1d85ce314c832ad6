// A small blocking WebSocket client for vactl (chat calls, event streams). Beast stays inside ws_client.cpp.
// Thread-safety: one thread uses an instance (reads and writes are sequential).
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace va::cli {

class WsClient {
public:
    // Connects to `url` (ws:// or http://, the path included) sending `Authorization: Bearer token`.
    // Throws CliError on failure (exit code from the HTTP status of a refused upgrade).
    WsClient(const std::string& url, const std::string& token);
    ~WsClient();
    void send_text(const std::string& message);
    void send_binary(const std::string& bytes);
    struct Message {
        bool binary = false;
        std::string data;
    };
    // The next message of either kind; nullopt when the connection closed.
    std::optional<Message> read_message();
    // The next text message (binary ones are skipped); nullopt when the server closed the connection
    // (close_reason() says why).
    std::optional<std::string> read();
    const std::string& close_reason() const { return m_close_reason; }
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_close_reason;
};

}  // namespace va::cli
