// A small WebSocket client for vactl (chat calls, event streams, voice calls). Beast stays inside ws_client.cpp.
// Thread-safety: until start_duplex() one thread uses an instance (blocking reads and writes, in turn). After it,
// messages arrive on the client's own I/O thread and post_text/post_binary/close may be called from any thread.
#pragma once

#include <functional>
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

    // Full duplex for live audio: reading continues on an I/O thread owned by this client, which calls
    // `on_message` for each message and `on_closed` once (with the close reason) when the connection ends.
    // The blocking calls above must not be used afterwards.
    void start_duplex(std::function<void(Message)> on_message, std::function<void(std::string)> on_closed);
    void post_text(std::string message);
    void post_binary(std::string bytes);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_close_reason;
};

}  // namespace va::cli
