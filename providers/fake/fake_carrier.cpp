#include "providers/fake/fake_carrier.hpp"
#include "core/util/json.hpp"
#include "providers/fake/fake_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <random>
#include <stdexcept>

namespace va::fake {

namespace net = boost::asio;

struct FakeCarrier::Io {
    net::io_context io;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(io)};
    std::thread thread{[this] { io.run(); }};
    // Also reached when the carrier's constructor throws (a port in use, a bad outcome plan): the thread must not
    // be left joinable then.
    ~Io() {
        work.reset();
        io.stop();
        if (thread.joinable()) thread.join();
    }
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

bool is_call_outcome(std::string_view outcome) {
    return outcome == "answer" || outcome == "completed" || outcome == "busy" || outcome == "no-answer" ||
           outcome == "failed";
}

Status validate(const OutcomePlan& plan) {
    auto bad = [](const std::string& what, const std::string& outcome) {
        return invalid_field(what, "unknown outcome \"" + outcome + "\" (answer, completed, busy, no-answer or failed)");
    };
    if (!is_call_outcome(plan.default_outcome)) return bad("default_outcome", plan.default_outcome);
    for (const auto& [number, sequence] : plan.per_number) {
        if (sequence.empty()) return invalid_field("outcomes." + number, "an empty sequence");
        for (const auto& o : sequence)
            if (!is_call_outcome(o)) return bad("outcomes." + number, o);
    }
    return Ok{};
}

Result<std::map<std::string, std::vector<std::string>>> parse_outcomes_json(std::string_view text) {
    auto doc = parse_json(text);
    if (!doc.is_object()) return invalid_field("outcomes", "must be a JSON object of number -> [outcome, ...]");
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [number, value] : doc.items()) {
        auto& sequence = out[number];
        if (value.is_string()) {
            sequence.push_back(value.get<std::string>());
            continue;
        }
        if (!value.is_array()) return invalid_field("outcomes." + number, "must be an outcome or a list of outcomes");
        for (const auto& o : value) {
            if (!o.is_string()) return invalid_field("outcomes." + number, "outcomes are strings");
            sequence.push_back(o.get<std::string>());
        }
    }
    OutcomePlan plan;
    plan.per_number = out;
    if (auto s = validate(plan); !s) return s.take_error();
    return out;
}

FakeCarrier::FakeCarrier(int port, OutcomePlan plan) : m_io(std::make_unique<Io>()) {
    if (auto s = validate(plan); !s) throw std::invalid_argument(s.error().message);
    m_plan = std::move(plan);
    m_port = port ? (m_server.bind_to_port("127.0.0.1", port) ? port : -1) : m_server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake carrier cannot listen on 127.0.0.1:" + std::to_string(port));
}

void FakeCarrier::start() {
    serve_in_background(m_server, m_server_thread);
}

FakeCarrier::~FakeCarrier() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;  // rings cut short, no new streams: calls still in their lifecycle wind down quickly
        for (auto& [sid, caller] : m_callers) caller->end_from_carrier();
    }
    m_changed.notify_all();
    m_server.stop();
    if (m_server_thread.joinable()) m_server_thread.join();
    std::map<std::uint64_t, std::thread> lifecycles;
    {
        std::lock_guard lock(m_mutex);
        lifecycles.swap(m_lifecycles);
    }
    for (auto& [id, t] : lifecycles) t.join();
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
        bool was_ended = call.ended;
        fn(call);
        if (call.ended && !was_ended) m_ended.push_back(sid);
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

std::vector<FakeCall> FakeCarrier::ended_since(std::size_t& cursor) const {
    std::lock_guard lock(m_mutex);
    std::vector<FakeCall> out;
    for (; cursor < m_ended.size(); ++cursor)
        if (auto it = m_calls.find(m_ended[cursor]); it != m_calls.end()) out.push_back(it->second);
    return out;
}

Status FakeCarrier::set_outcomes(OutcomePlan plan) {
    if (auto s = validate(plan); !s) return s;
    std::lock_guard lock(m_mutex);
    m_plan = std::move(plan);
    m_calls_to.clear();
    return Ok{};
}

std::string FakeCarrier::next_outcome(const std::string& number) {
    std::lock_guard lock(m_mutex);
    auto it = m_plan.per_number.find(number);
    if (it == m_plan.per_number.end()) return m_plan.default_outcome;
    std::size_t n = m_calls_to[number]++;
    return it->second[std::min(n, it->second.size() - 1)];
}

void FakeCarrier::call_active(const std::string& sid) {
    std::lock_guard lock(m_mutex);
    if (m_active.insert(sid).second) m_max_active = std::max(m_max_active, int(m_active.size()));
}

void FakeCarrier::call_over(const std::string& sid) {
    std::lock_guard lock(m_mutex);
    m_active.erase(sid);
}

int FakeCarrier::active_calls() const {
    std::lock_guard lock(m_mutex);
    return int(m_active.size());
}

int FakeCarrier::max_active_calls() const {
    std::lock_guard lock(m_mutex);
    return m_max_active;
}

void FakeCarrier::reset_max_active() {
    std::lock_guard lock(m_mutex);
    m_max_active = int(m_active.size());
}

void FakeCarrier::start_lifecycle(std::function<void()> fn) {
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(m_mutex);
        for (auto id : m_lifecycles_done) {
            if (auto it = m_lifecycles.find(id); it != m_lifecycles.end()) {
                finished.push_back(std::move(it->second));
                m_lifecycles.erase(it);
            }
        }
        m_lifecycles_done.clear();
        std::uint64_t id = m_next_lifecycle++;
        // The thread cannot report itself done before it is in the map: reporting takes the lock held here.
        m_lifecycles.emplace(id, std::thread([this, id, fn = std::move(fn)] {
                                 fn();
                                 std::lock_guard done(m_mutex);
                                 m_lifecycles_done.push_back(id);
                             }));
    }
    // Outside the lock: a finished thread may still be on its way out of the lock it took to report.
    for (auto& t : finished) t.join();
}

std::size_t FakeCarrier::lifecycle_threads() const {
    std::lock_guard lock(m_mutex);
    return m_lifecycles.size();
}

bool FakeCarrier::pause(std::chrono::milliseconds duration) {
    std::unique_lock lock(m_mutex);
    return !m_changed.wait_for(lock, duration, [this] { return m_stopping; });
}

CallerResult FakeCarrier::run_caller(const std::string& sid, const std::string& url,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     std::unique_ptr<Dialect> dialect, CallerScript script) {
    std::promise<CallerResult> done;
    auto result = done.get_future();
    {
        // Started under the lock that the destructor takes to end every stream, so none slips past it.
        std::lock_guard lock(m_mutex);
        if (m_stopping) {
            m_active.erase(sid);
            CallerResult r;
            r.ended_by = "carrier";
            r.done = true;
            return r;
        }
        m_callers[sid] = MediaCaller::start(
            m_io->io, url, std::move(headers), std::move(dialect), std::move(script),
            [&done](const CallerResult& r) { done.set_value(r); }, [this, sid] { call_over(sid); });
    }
    CallerResult r = result.get();
    {
        std::lock_guard lock(m_mutex);
        m_callers.erase(sid);
    }
    update(sid, [&](FakeCall& c) { c.caller = r; });
    return r;
}

bool FakeCarrier::end_stream(const std::string& sid, std::chrono::milliseconds wait) {
    std::shared_ptr<MediaCaller> caller;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_callers.find(sid); it != m_callers.end()) caller = it->second;
    }
    if (!caller) return false;
    caller->end_from_carrier();
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, wait, [&] { return m_stopping || !m_callers.contains(sid); });
    return true;
}

}  // namespace va::fake
