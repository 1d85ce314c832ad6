// What every fake carrier shares: its REST server on loopback (cpp-httplib, one thread), the I/O thread the
// MediaCallers run on, the record of each call (FakeCall) that tests wait on, each call's lifecycle thread, the
// outcome plan (what the callee of each outbound call does), the count of calls in flight, and injectable REST
// faults. TwilioFake and ExotelFake add their own routes and wire formats.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/util/result.hpp"
#include "providers/fake/media_caller.hpp"

namespace boost::asio {
class io_context;
}

namespace va::fake {

struct FakeCall {
    std::string sid;
    std::string direction;  // outbound-api | inbound
    std::string to, from;
    std::string instructions;                 // TwiML, or the stream URL Exotel was given
    std::vector<std::string> statuses_sent;   // status callbacks delivered, in order
    std::vector<int> callback_answers;        // the daemon's HTTP status for each
    std::string transferred_to;               // Twilio: the number of a <Dial> the call was redirected to
    bool hung_up_by_api = false;              // Twilio: Status=completed through REST
    CallerResult caller;                      // what the person heard and did
    std::string outcome;                      // outbound: what the callee did (see OutcomePlan); inbound: empty
    bool ended = false;
};

// What the callee of an outbound call does:
//   answer     rings, answers, and the caller script talks to the stream in the call's instructions
//   completed  rings, answers and hangs up at once: no stream, a terminal "completed" with duration 0
//   busy | no-answer | failed  after the ring time, a terminal status with that name and no stream
bool is_call_outcome(std::string_view outcome);

// Per-number sequences: the n-th outbound call to a number takes entry n, the last entry repeating; every other
// number takes `default_outcome`.
struct OutcomePlan {
    std::string default_outcome = "answer";
    std::map<std::string, std::vector<std::string>> per_number;
};
// Checks every outcome of a plan (an empty sequence is refused too: it says nothing about the calls).
Status validate(const OutcomePlan& plan);
// {"+14155550100": ["busy", "answer"], "+14155550101": "no-answer", ...} (a lone string is a one-entry sequence).
Result<std::map<std::string, std::vector<std::string>>> parse_outcomes_json(std::string_view text);

class FakeCarrier {
public:
    // Throws std::invalid_argument when the plan names an unknown outcome (a test's or a command line's mistake).
    FakeCarrier(int port, OutcomePlan plan = {});
    ~FakeCarrier();
    FakeCarrier(const FakeCarrier&) = delete;
    FakeCarrier& operator=(const FakeCarrier&) = delete;

    httplib::Server& server() { return m_server; }
    // Starts serving (after the routes are added).
    void start();
    int port() const { return m_port; }

    void fail_next(int status, int count);
    // Counts a REST request; returns the injected failure status to answer with (0: none).
    int take_fault();
    int rest_requests() const;

    void update(const std::string& sid, const std::function<void(FakeCall&)>& fn);
    std::optional<FakeCall> find(const std::string& sid) const;
    std::optional<FakeCall> wait_for_end(const std::string& sid, std::chrono::milliseconds timeout);
    std::optional<FakeCall> wait_for_any_call(std::chrono::milliseconds timeout);
    std::vector<FakeCall> calls() const;

    // Replaces the outcome plan; sequences count calls from now on. An unknown outcome leaves the plan as it was.
    Status set_outcomes(OutcomePlan plan);
    // The outcome of the next outbound call to `number` (advances that number's sequence).
    std::string next_outcome(const std::string& number);

    // Calls in flight, for tests of a concurrency limit. An outbound call is active from the moment its REST
    // create is accepted (call_active) until the first of: its media stream closing (counted from the moment the
    // carrier's side sends stop, or the bot's close or a failure arrives), or just before its terminal status
    // callback would go out (call_over; later calls for the same sid are no-ops, so each call counts down once).
    // Inbound calls are not counted.
    void call_active(const std::string& sid);
    void call_over(const std::string& sid);
    int active_calls() const;
    int max_active_calls() const;
    // Starts a new high-water mark from the calls active now.
    void reset_max_active();

    // Calls that ended after `cursor` (a count this advances), in the order they ended: lets a reporter look at
    // each finished call once without copying every record each time.
    std::vector<FakeCall> ended_since(std::size_t& cursor) const;

    // Runs `fn` on a thread of its own (a call's lifecycle). Threads whose lifecycle has returned are joined when
    // the next one starts, so a long load run holds only the threads of calls still going; the rest are joined
    // when the fake stops.
    void start_lifecycle(std::function<void()> fn);
    // Lifecycle threads not joined yet: those still running and those finished since the last start (tests check
    // the bound with it).
    std::size_t lifecycle_threads() const;
    // Sleeps `duration` (a ring) unless the fake is stopping; false when it is.
    bool pause(std::chrono::milliseconds duration);
    // Streams to `url` as the carrier and plays the caller until either side ends; blocks, then stores the result.
    // The call stops being active (call_over) as soon as the stream starts to close: before the caller's or the
    // carrier's stop is sent, or when the bot's close arrives.
    CallerResult run_caller(const std::string& sid, const std::string& url,
                            std::vector<std::pair<std::string, std::string>> headers, std::unique_ptr<Dialect> dialect,
                            CallerScript script);
    // The carrier ends the stream of `sid` (a REST hang-up or new instructions); false when none is running.
    // With `wait`, returns once the stream has closed (or after `wait`), so the stop reaches the daemon before
    // the REST answer does: the order a daemon finds hardest, which real carriers do not rule out.
    bool end_stream(const std::string& sid, std::chrono::milliseconds wait = {});

private:
    struct Io;
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_server_thread;
    std::unique_ptr<Io> m_io;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, FakeCall> m_calls;
    std::vector<std::string> m_ended;  // sids in the order their calls ended
    std::map<std::string, std::shared_ptr<MediaCaller>> m_callers;
    std::map<std::uint64_t, std::thread> m_lifecycles;
    std::vector<std::uint64_t> m_lifecycles_done;  // returned, not yet joined
    std::uint64_t m_next_lifecycle = 0;
    bool m_stopping = false;
    OutcomePlan m_plan;
    std::map<std::string, std::size_t> m_calls_to;  // outbound calls per number since the plan was set
    std::set<std::string> m_active;
    int m_max_active = 0;
    int m_fail_status = 0, m_fail_count = 0, m_requests = 0;
};

// A random id: `prefix` and 32 hex digits (Twilio SIDs, Exotel's are opaque too).
std::string random_sid(const char* prefix);

}  // namespace va::fake
