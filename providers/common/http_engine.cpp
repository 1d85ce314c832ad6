#include "providers/common/http_engine.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/util/guard.hpp"
#include "providers/common/curl_easy.hpp"

namespace va {

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// One request or timer. The engine's thread owns the transfer state; `cancelled` and `callback_mutex` are what the
// handle's thread shares with it.
struct HttpEngine::Job {
    HttpRequest request;
    HttpStreamCallbacks callbacks;
    bool is_timer = false;
    std::function<void()> timer_fn;
    std::int64_t due_ms = 0;

    HttpResult result;
    HttpStream stream;
    std::unique_ptr<detail::CurlEasy> easy;
    std::unique_ptr<detail::StreamState> state;
    bool counted = false;  // still in the engine's in-flight count

    std::atomic<bool> cancelled{false};
    std::mutex callback_mutex;  // held while one of this job's callbacks runs

    // Runs a callback unless the job was cancelled; an exception from it is logged and counts as "stop".
    bool deliver(const std::function<void()>& fn) {
        std::lock_guard lock(callback_mutex);
        if (cancelled.load()) return false;
        return run_guarded("http engine callback", fn);
    }
};

class HttpEngine::Loop {
public:
    explicit Loop(HttpEngine& owner) : m_owner(owner), m_multi(curl_multi_init()) {
        m_thread = std::thread([this] { run_loop_guarded("http engine", [this] { run(); }); });
    }
    ~Loop() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        curl_multi_wakeup(m_multi);
        m_thread.join();
        for (auto& [easy, job] : m_active) curl_multi_remove_handle(m_multi, easy);
        m_active.clear();
        curl_multi_cleanup(m_multi);
    }

    void add(std::shared_ptr<Job> job) { enqueue(m_adds, std::move(job)); }
    void remove(std::shared_ptr<Job> job) { enqueue(m_removes, std::move(job)); }
    bool on_thread() const { return std::this_thread::get_id() == m_thread_id.load(); }

private:
    void enqueue(std::vector<std::shared_ptr<Job>>& queue, std::shared_ptr<Job> job) {
        {
            std::lock_guard lock(m_mutex);
            queue.push_back(std::move(job));
        }
        curl_multi_wakeup(m_multi);
    }

    void run() {
        m_thread_id = std::this_thread::get_id();
        for (;;) {
            std::vector<std::shared_ptr<Job>> adds, removes;
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping) return;
                adds.swap(m_adds);
                removes.swap(m_removes);
            }
            for (auto& job : removes) drop(*job);
            for (auto& job : adds) start(job);
            fire_timers();
            int running = 0;
            curl_multi_perform(m_multi, &running);
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(m_multi, &left))
                if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
            // libcurl shortens the wait to its own next timeout; ours is the next timer.
            int wait_ms = 1000;
            if (!m_timers.empty())
                wait_ms = int(std::clamp<std::int64_t>(m_timers.begin()->first - steady_ms(), 0, 1000));
            curl_multi_poll(m_multi, nullptr, 0, wait_ms, nullptr);
        }
    }

    void start(const std::shared_ptr<Job>& job) {
        if (job->cancelled) return uncount(*job);
        if (job->is_timer) {
            m_timers.emplace(job->due_ms, job);
            return;
        }
        job->easy = std::make_unique<detail::CurlEasy>(job->request, job->result);
        if (!job->easy->curl) {
            uncount(*job);
            job->deliver([&] { job->callbacks.on_done(make_error(ErrorCode::internal, "libcurl could not start a request")); });
            return;
        }
        Job* raw = job.get();
        job->stream.cancelled = &job->cancelled;
        job->stream.on_body = [raw](const HttpResult& head, std::string_view piece) {
            bool more = false;
            raw->deliver([&] { more = raw->callbacks.on_body(head, piece); });
            return more;
        };
        job->state = std::make_unique<detail::StreamState>(detail::StreamState{&job->stream, &job->result, job->easy->curl.get()});
        detail::stream_into(*job->state);
        curl_multi_add_handle(m_multi, job->easy->curl.get());
        m_active.emplace(job->easy->curl.get(), job);
    }

    void fire_timers() {
        std::int64_t now = steady_ms();
        while (!m_timers.empty() && m_timers.begin()->first <= now) {
            auto job = m_timers.begin()->second;
            m_timers.erase(m_timers.begin());
            uncount(*job);
            job->deliver(job->timer_fn);
        }
    }

    void drop(Job& job) {
        if (job.is_timer) {
            for (auto [it, end] = m_timers.equal_range(job.due_ms); it != end; ++it)
                if (it->second.get() == &job) {
                    uncount(job);
                    m_timers.erase(it);
                    break;
                }
            return;
        }
        if (!job.easy) return;  // not started yet (start() sees it cancelled) or already finished
        CURL* easy = job.easy->curl.get();
        if (m_active.erase(easy)) {
            curl_multi_remove_handle(m_multi, easy);
            uncount(job);
        }
    }

    void finish(CURL* easy, CURLcode rc) {
        auto it = m_active.find(easy);
        if (it == m_active.end()) return;
        auto job = it->second;
        m_active.erase(it);
        curl_multi_remove_handle(m_multi, easy);
        uncount(*job);
        // Stopped by the reader: the status so far; by a cancellation: nobody is told.
        Result<HttpResult> outcome = job->state->stopped
                                         ? Result<HttpResult>(job->result)
                                         : detail::transfer_outcome(easy, rc, job->request, job->result, "HTTP stream from ");
        job->deliver([&] { job->callbacks.on_done(std::move(outcome)); });
        job->state.reset();
        job->easy.reset();  // the connection goes back to the multi handle's cache now, not when the handle dies
    }

    void uncount(Job& job) {
        if (!job.counted) return;
        job.counted = false;
        --m_owner.m_in_flight;
    }

    HttpEngine& m_owner;
    CURLM* m_multi;
    std::mutex m_mutex;
    std::vector<std::shared_ptr<Job>> m_adds, m_removes;
    bool m_stopping = false;
    // The engine thread's own state.
    std::unordered_map<CURL*, std::shared_ptr<Job>> m_active;
    std::multimap<std::int64_t, std::shared_ptr<Job>> m_timers;
    std::atomic<std::thread::id> m_thread_id{};
    std::thread m_thread;
};

class HttpEngine::JobHandle final : public HttpEngine::Handle {
public:
    JobHandle(HttpEngine& engine, std::shared_ptr<Job> job) : m_engine(engine), m_job(std::move(job)) {}
    ~JobHandle() override { cancel(); }
    void cancel() override {
        if (m_job->cancelled.exchange(true)) return;
        if (!m_engine.m_loop->on_thread()) {
            std::lock_guard wait_out_a_running_callback(m_job->callback_mutex);
        }
        m_engine.withdraw(m_job);
    }

private:
    HttpEngine& m_engine;
    std::shared_ptr<Job> m_job;
};

HttpEngine::HttpEngine() {
    detail::curl_global_once();
    m_loop = std::make_unique<Loop>(*this);
}

HttpEngine::~HttpEngine() = default;

HttpEngine& HttpEngine::shared() {
    // Never destroyed: provider streams of calls still ending at exit may use it to the last moment.
    static HttpEngine* engine = new HttpEngine();
    return *engine;
}

void HttpEngine::submit(std::shared_ptr<Job> job) {
    job->counted = true;
    std::size_t now = ++m_in_flight;
    for (std::size_t peak = m_peak.load(); now > peak && !m_peak.compare_exchange_weak(peak, now);) {
    }
    m_loop->add(std::move(job));
}

void HttpEngine::withdraw(std::shared_ptr<Job> job) { m_loop->remove(std::move(job)); }

std::unique_ptr<HttpEngine::Handle> HttpEngine::stream(HttpRequest request, HttpStreamCallbacks callbacks) {
    auto job = std::make_shared<Job>();
    job->request = std::move(request);
    job->callbacks = std::move(callbacks);
    if (!job->callbacks.on_body) job->callbacks.on_body = [](const HttpResult&, std::string_view) { return true; };
    if (!job->callbacks.on_done) job->callbacks.on_done = [](Result<HttpResult>) {};
    submit(job);
    return std::make_unique<JobHandle>(*this, std::move(job));
}

std::unique_ptr<HttpEngine::Handle> HttpEngine::after(int delay_ms, std::function<void()> fn) {
    auto job = std::make_shared<Job>();
    job->is_timer = true;
    job->timer_fn = std::move(fn);
    job->due_ms = steady_ms() + std::max(0, delay_ms);
    submit(job);
    return std::make_unique<JobHandle>(*this, std::move(job));
}

}  // namespace va
