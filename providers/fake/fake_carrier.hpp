// What every fake carrier shares: its REST server on loopback (cpp-httplib, one thread), the I/O thread the
// MediaCallers run on, the record of each call (FakeCall) that tests wait on, each call's lifecycle thread, and
// injectable REST faults. TwilioFake and ExotelFake add their own routes and wire formats.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
    bool ended = false;
};

class FakeCarrier {
public:
    explicit FakeCarrier(int port);
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

    // Runs `fn` on a thread of its own (a call's lifecycle); joined when the fake stops.
    void start_lifecycle(std::function<void()> fn);
    // Streams to `url` as the carrier and plays the caller until either side ends; blocks, then stores the result.
    CallerResult run_caller(const std::string& sid, const std::string& url,
                            std::vector<std::pair<std::string, std::string>> headers, std::unique_ptr<Dialect> dialect,
                            CallerScript script);
    // The carrier ends the stream of `sid` (a REST hang-up or new instructions); false when none is running.
    bool end_stream(const std::string& sid);

private:
    struct Io;
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_server_thread;
    std::unique_ptr<Io> m_io;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, FakeCall> m_calls;
    std::map<std::string, std::shared_ptr<MediaCaller>> m_callers;
    std::vector<std::thread> m_lifecycles;
    int m_fail_status = 0, m_fail_count = 0, m_requests = 0;
};

// A random id: `prefix` and 32 hex digits (Twilio SIDs, Exotel's are opaque too).
std::string random_sid(const char* prefix);

}  // namespace va::fake
