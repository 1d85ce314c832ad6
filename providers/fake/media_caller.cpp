#include "providers/fake/media_caller.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>
#include <utility>

namespace va::fake {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

using Clock = std::chrono::steady_clock;

class CallerImpl final : public MediaCaller {
public:
    CallerImpl(net::io_context& io, std::string url, std::vector<std::pair<std::string, std::string>> headers,
               std::unique_ptr<Dialect> dialect, CallerScript script, std::function<void(const CallerResult&)> on_done,
               std::function<void()> on_ending)
        : m_io(io), m_resolver(io), m_ws(io), m_timer(io), m_url(std::move(url)), m_headers(std::move(headers)),
          m_dialect(std::move(dialect)), m_script(std::move(script)), m_on_done(std::move(on_done)),
          m_on_ending(std::move(on_ending)),
          m_frame(std::size_t(m_dialect->sample_rate() * m_dialect->frame_ms() / 1000)) {}

    void begin() {
        auto scheme_end = m_url.find("://");
        std::string rest = scheme_end == std::string::npos ? m_url : m_url.substr(scheme_end + 3);
        auto slash = rest.find('/');
        m_host = rest.substr(0, slash);
        m_target = slash == std::string::npos ? "/" : rest.substr(slash);
        std::string host = m_host, port = "80";
        if (auto colon = m_host.rfind(':'); colon != std::string::npos && m_host.find(']', colon) == std::string::npos) {
            host = m_host.substr(0, colon);
            port = m_host.substr(colon + 1);
        }
        if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
        auto self = shared();
        m_resolver.async_resolve(host, port, [self](beast::error_code ec, tcp::resolver::results_type results) {
            if (ec) return self->fail("resolve: " + ec.message());
            beast::get_lowest_layer(self->m_ws).expires_after(std::chrono::seconds(10));
            beast::get_lowest_layer(self->m_ws).async_connect(results, [self](beast::error_code ec, auto) {
                if (ec) return self->fail("connect: " + ec.message());
                self->handshake();
            });
        });
    }

    void end_from_carrier() override {
        net::post(m_io, [self = shared()] {
            if (self->m_finished || self->m_stopping) return;
            self->hang_up("carrier");
        });
    }

private:
    std::shared_ptr<CallerImpl> shared() { return std::static_pointer_cast<CallerImpl>(shared_from_this()); }

    void handshake() {
        beast::get_lowest_layer(m_ws).expires_never();
        m_ws.set_option(bws::stream_base::timeout{std::chrono::seconds(10), bws::stream_base::none(), false});
        m_ws.set_option(bws::stream_base::decorator([headers = m_headers](bws::request_type& req) {
            for (const auto& [k, v] : headers) req.set(k, v);
        }));
        auto self = shared();
        m_ws.async_handshake(m_host, m_target, [self](beast::error_code ec) {
            if (ec) return self->fail("handshake: " + ec.message());
            self->m_ws.text(true);
            self->m_started = Clock::now();
            self->m_result.started_steady_us =
                std::chrono::duration_cast<std::chrono::microseconds>(self->m_started.time_since_epoch()).count();
            self->m_wait_started_ms = 0;
            for (auto& m : self->m_dialect->opening()) self->send(std::move(m));
            for (const auto& m : self->m_script.junk) self->send(m);
            self->read();
            self->m_next_tick = self->m_started;
            self->tick();
        });
    }

    void read() {
        auto self = shared();
        m_ws.async_read(m_buffer, [self](beast::error_code ec, std::size_t) {
            if (ec) {
                if (!self->m_finished) {
                    self->m_result.close_code = int(self->m_ws.reason().code);
                    self->m_result.close_reason = std::string(self->m_ws.reason().reason.data(), self->m_ws.reason().reason.size());
                    if (self->m_result.ended_by.empty()) self->m_result.ended_by = "bot";
                    self->finish();
                }
                return;
            }
            std::string data = beast::buffers_to_string(self->m_buffer.data());
            self->m_buffer.consume(self->m_buffer.size());
            self->on_bot(data, !self->m_ws.got_text());
            self->read();
        });
    }

    void on_bot(std::string_view data, bool binary) {
        auto msg = m_dialect->parse(data, binary, m_result.violations);
        switch (msg.kind) {
            case Dialect::BotMessage::media:
                m_result.bot_media_us.push_back(
                    std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - m_started).count());
                m_queue.insert(m_queue.end(), msg.pcm.begin(), msg.pcm.end());
                m_enqueued += msg.pcm.size();
                m_bot_spoke = true;
                break;
            case Dialect::BotMessage::mark:
                if (m_queue.empty()) send(m_dialect->mark_echo(msg.mark_name)), m_result.marks_echoed.push_back(msg.mark_name);
                else m_marks.emplace_back(m_enqueued, msg.mark_name);
                break;
            case Dialect::BotMessage::clear:
                m_queue.clear();
                ++m_result.clears;
                m_result.queue_after_clear = 0;
                if (m_dialect->echo_marks_on_clear())
                    for (auto& [at, name] : m_marks) send(m_dialect->mark_echo(name)), m_result.marks_echoed.push_back(name);
                m_marks.clear();
                m_played = m_enqueued;
                break;
            case Dialect::BotMessage::ignored:
                break;
        }
    }

    std::int64_t now_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - m_started).count();
    }

    // One frame of the line: the person hears what is queued, and says what the script says.
    void tick() {
        if (m_finished || m_stopping) return;
        std::int64_t now = now_ms();
        play_out(now);
        act(now);
        if (m_finished) return;
        if (m_finished || m_stopping) return;
        m_next_tick += std::chrono::milliseconds(m_dialect->frame_ms());
        m_timer.expires_at(m_next_tick);
        m_timer.async_wait([self = shared()](beast::error_code ec) {
            if (!ec) self->tick();
        });
    }

    void play_out(std::int64_t now) {
        std::size_t n = std::min(m_frame, m_queue.size());
        for (std::size_t i = 0; i < n; ++i) {
            m_result.heard.push_back(m_queue.front());
            m_queue.pop_front();
        }
        m_result.heard.resize(m_result.heard.size() + (m_frame - n), 0);
        m_played += n;
        if (n > 0) {
            if (!m_playing) m_result.spans.push_back({now, now});
            m_playing = true;
            m_result.spans.back().end_ms = now + m_dialect->frame_ms();
            m_last_bot_audio_ms = now;
            if (m_bot_talking_since < 0) m_bot_talking_since = now;
        } else {
            m_playing = false;
            m_bot_talking_since = -1;
        }
        while (!m_marks.empty() && m_marks.front().first <= m_played) {
            send(m_dialect->mark_echo(m_marks.front().second));
            m_result.marks_echoed.push_back(m_marks.front().second);
            m_marks.pop_front();
        }
    }

    void act(std::int64_t now) {
        if (now >= m_script.max_call_ms) return hang_up("caller");
        if (m_script.vanish_after_bot_ms >= 0 && m_turn >= m_script.turns.size() && m_bot_talking_since >= 0 &&
            now - m_bot_talking_since >= m_script.vanish_after_bot_ms) {
            m_result.ended_by = "vanished";
            return finish();  // the socket just closes: no stop, no close frame
        }
        std::vector<std::int16_t> frame(m_frame, 0);
        if (m_speaking) {
            const auto& turn = m_script.turns[m_turn];
            if (!turn.dtmf.empty()) {
                if (m_pos < turn.dtmf.size()) send(m_dialect->dtmf(turn.dtmf[m_pos++]));
                if (m_pos >= turn.dtmf.size()) end_turn(now);
            } else {
                std::size_t n = std::min(m_frame, turn.audio.size() - m_pos);
                std::copy_n(turn.audio.begin() + std::ptrdiff_t(m_pos), n, frame.begin());
                m_pos += n;
                if (m_pos >= turn.audio.size()) end_turn(now);
            }
        } else if (m_turn < m_script.turns.size()) {
            const auto& turn = m_script.turns[m_turn];
            bool go = turn.after_ms >= 0 ? now - m_wait_started_ms >= turn.after_ms
                      : turn.barge_in_after_ms >= 0
                          ? m_bot_talking_since >= 0 && now - m_bot_talking_since >= turn.barge_in_after_ms
                          : (m_bot_spoke && m_queue.empty() && now - m_last_bot_audio_ms >= m_script.answer_silence_ms) ||
                                (!m_bot_spoke && now - m_wait_started_ms >= m_script.first_wait_ms);
            if (go) {
                m_speaking = true;
                m_pos = 0;
            }
        } else if ((m_bot_spoke && m_queue.empty() && now - m_last_bot_audio_ms >= m_script.hang_up_after_ms) ||
                   (!m_bot_spoke && now - m_wait_started_ms >= m_script.first_wait_ms)) {
            return hang_up("caller");
        }
        send(m_dialect->media(frame));
    }

    void end_turn(std::int64_t now) {
        m_result.turn_end_ms.push_back(now);
        m_speaking = false;
        ++m_turn;
        m_bot_spoke = false;
        m_wait_started_ms = now;
    }

    void ending() {
        if (auto fn = std::exchange(m_on_ending, nullptr)) fn();
    }

    void hang_up(const char* by) {
        if (m_result.ended_by.empty()) m_result.ended_by = by;
        ending();
        send(m_dialect->stop());
        m_stopping = true;
        m_close_after_writes = true;
        if (!m_writing) close();
    }

    void close() {
        m_timer.cancel();
        m_ws.async_close(bws::close_code::normal, [self = shared()](beast::error_code) { self->finish(); });
    }

    void send(std::string message) {
        if (m_finished) return;
        m_out.push_back(std::move(message));
        if (!m_writing) write_next();
    }

    void write_next() {
        if (m_out.empty()) {
            m_writing = false;
            if (m_close_after_writes && !m_finished) close();
            return;
        }
        m_writing = true;
        m_ws.async_write(net::buffer(m_out.front()), [self = shared()](beast::error_code ec, std::size_t) {
            self->m_out.pop_front();
            if (ec) {
                self->m_out.clear();
                self->m_writing = false;
                return;  // the read side reports the end
            }
            self->write_next();
        });
    }

    void fail(const std::string& what) {
        m_result.error = what;
        m_result.ended_by = "error";
        finish();
    }

    void finish() {
        if (m_finished) return;
        m_finished = true;
        m_timer.cancel();
        m_result.duration_ms = m_started == Clock::time_point{} ? 0 : now_ms();
        m_result.done = true;
        ending();
        beast::error_code ec;
        beast::get_lowest_layer(m_ws).socket().close(ec);
        if (m_on_done) m_on_done(m_result);
    }

    net::io_context& m_io;
    tcp::resolver m_resolver;
    bws::stream<beast::tcp_stream> m_ws;
    net::steady_timer m_timer;
    std::string m_url, m_host, m_target;
    std::vector<std::pair<std::string, std::string>> m_headers;
    std::unique_ptr<Dialect> m_dialect;
    CallerScript m_script;
    std::function<void(const CallerResult&)> m_on_done;
    std::function<void()> m_on_ending;
    std::size_t m_frame;

    beast::flat_buffer m_buffer;
    std::deque<std::string> m_out;
    bool m_writing = false;
    bool m_close_after_writes = false;
    bool m_stopping = false;
    bool m_finished = false;
    Clock::time_point m_started{}, m_next_tick{};

    std::deque<std::int16_t> m_queue;                          // bot audio not yet played
    std::deque<std::pair<std::size_t, std::string>> m_marks;   // (enqueued position, name)
    std::size_t m_enqueued = 0, m_played = 0;
    bool m_playing = false;
    std::int64_t m_bot_talking_since = -1;
    std::int64_t m_last_bot_audio_ms = 0;
    bool m_bot_spoke = false;  // since the caller last finished a turn
    std::int64_t m_wait_started_ms = 0;
    std::size_t m_turn = 0, m_pos = 0;
    bool m_speaking = false;
    CallerResult m_result;
};

}  // namespace

std::shared_ptr<MediaCaller> MediaCaller::start(net::io_context& io, std::string url,
                                                std::vector<std::pair<std::string, std::string>> headers,
                                                std::unique_ptr<Dialect> dialect, CallerScript script,
                                                std::function<void(const CallerResult&)> on_done,
                                                std::function<void()> on_ending) {
    auto caller = std::make_shared<CallerImpl>(io, std::move(url), std::move(headers), std::move(dialect),
                                               std::move(script), std::move(on_done), std::move(on_ending));
    net::post(io, [caller] { caller->begin(); });
    return caller;
}

}  // namespace va::fake
