#include "providers/fake/fake_carrier.hpp"
#include "providers/fake/fake_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <future>
#include <random>

namespace va::fake {

namespace net = boost::asio;

struct FakeCarrier::Io {
    net::io_context io;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(io)};
    std::thread thread{[this] { io.run(); }};
};

std::string random_sid(const char* prefix) {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mutex);
    std::string sid = prefix;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) sid += hex[rng() % 16];
    return sid;
}

FakeCarrier::FakeCarrier(int port) : m_io(std::make_unique<Io>()) {
    m_port = port ? (m_server.bind_to_port("127.0.0.1", port) ? port : -1) : m_server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake carrier cannot listen on 127.0.0.1:" + std::to_string(port));
}

void FakeCarrier::start() {
    serve_in_background(m_server, m_server_thread);
}

FakeCarrier::~FakeCarrier() {
    {
        std::lock_guard lock(m_mutex);
        for (auto& [sid, caller] : m_callers) caller->end_from_carrier();
    }
    m_server.stop();
    if (m_server_thread.joinable()) m_server_thread.join();
    std::vector<std::thread> lifecycles;
    {
        std::lock_guard lock(m_mutex);
        lifecycles.swap(m_lifecycles);
    }
    for (auto& t : lifecycles) t.join();
    m_io->work.reset();
    m_io->io.stop();
    m_io->thread.join();
}

void FakeCarrier::fail_next(int status, int count) {
    std::lock_guard lock(m_mutex);
    m_fail_status = status;
    m_fail_count = count;
}

int FakeCarrier::take_fault() {
    std::lock_guard lock(m_mutex);
    ++m_requests;
    if (m_fail_count <= 0) return 0;
    --m_fail_count;
    return m_fail_status;
}

int FakeCarrier::rest_requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

void FakeCarrier::update(const std::string& sid, const std::function<void(FakeCall&)>& fn) {
    {
        std::lock_guard lock(m_mutex);
        FakeCall& call = m_calls[sid];
        call.sid = sid;
        fn(call);
    }
    m_changed.notify_all();
}

std::optional<FakeCall> FakeCarrier::find(const std::string& sid) const {
    std::lock_guard lock(m_mutex);
    auto it = m_calls.find(sid);
    if (it == m_calls.end()) return std::nullopt;
    return it->second;
}

std::optional<FakeCall> FakeCarrier::wait_for_end(const std::string& sid, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    bool ended = m_changed.wait_for(lock, timeout, [&] {
        auto it = m_calls.find(sid);
        return it != m_calls.end() && it->second.ended;
    });
    if (!ended) return std::nullopt;
    return m_calls[sid];
}

std::optional<FakeCall> FakeCarrier::wait_for_any_call(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    if (!m_changed.wait_for(lock, timeout, [&] { return !m_calls.empty(); })) return std::nullopt;
    return m_calls.begin()->second;
}

std::vector<FakeCall> FakeCarrier::calls() const {
    std::lock_guard lock(m_mutex);
    std::vector<FakeCall> out;
    for (const auto& [sid, c] : m_calls) out.push_back(c);
    return out;
}

void FakeCarrier::start_lifecycle(std::function<void()> fn) {
    std::lock_guard lock(m_mutex);
    m_lifecycles.emplace_back(std::move(fn));
}

CallerResult FakeCarrier::run_caller(const std::string& sid, const std::string& url,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     std::unique_ptr<Dialect> dialect, CallerScript script) {
    std::promise<CallerResult> done;
    auto result = done.get_future();
    auto caller = MediaCaller::start(m_io->io, url, std::move(headers), std::move(dialect), std::move(script),
                                     [&done](const CallerResult& r) { done.set_value(r); });
    {
        std::lock_guard lock(m_mutex);
        m_callers[sid] = caller;
    }
    CallerResult r = result.get();
    {
        std::lock_guard lock(m_mutex);
        m_callers.erase(sid);
    }
    update(sid, [&](FakeCall& c) { c.caller = r; });
    return r;
}

bool FakeCarrier::end_stream(const std::string& sid) {
    std::shared_ptr<MediaCaller> caller;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_callers.find(sid); it != m_callers.end()) caller = it->second;
    }
    if (caller) caller->end_from_carrier();
    return caller != nullptr;
}

}  // namespace va::fake
