// A protocol-faithful fake of Exotel for tests and `va-fake exotel`: Calls/connect.json with HTTP Basic (API key
// and token), RestException error bodies and injectable faults, the Call Details API, and the carrier's part of
// each call: it streams to the StreamUrl (or, in flow mode, to the URL the Voicebot applet endpoint answers) as
// AgentStream does, then sends the terminal status callback in JSON, urlencoded or multipart form — or drops it,
// as Exotel may. Inbound calls start from place_inbound(), which asks the applet endpoint for the stream URL.
// Outbound calls follow an outcome plan keyed by `From`, the number Exotel dials (answer, completed, busy,
// no-answer, failed; see FakeCarrier): the terminal callback's Status says which. The fake counts calls in flight.
// Thread-safety: all public methods are safe from any thread. options() hands out the live Options, which new
// calls read without a lock: change them only while no call is being placed. The outcome plan lives in the
// carrier from construction on: change it with set_outcomes, not through options().
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.hpp"
#include "providers/fake/fake_carrier.hpp"

namespace va::fake {

class ExotelFake {
public:
    struct Options {
        std::string account_sid = "fakeaccount1";
        std::string api_key = "fake-exotel-key";
        std::string api_token = "fake-exotel-token";
        int port = 0;
        CallerScript script;              // what the callee says on outbound calls
        int ring_ms = 100;                // from the create to the answer (or the busy, no-answer, failed status)
        int frame_ms = 100;               // cadence of caller media (100 per the docs, 20 in an older one)
        std::string callback_format = "json";  // json | form | multipart (json only when asked for)
        bool drop_status_callback = false;
        std::string flow_applet_url;      // flow mode: the Voicebot applet's https endpoint
        bool lowercase_response = false;  // answer {"call":{"sid":...}} as the newer docs show
        std::string default_outcome = "answer";  // what the callee of an outbound call does (FakeCarrier)
        std::map<std::string, std::vector<std::string>> outcomes;  // by From number: the n-th call takes entry n
    };
    // Throws std::invalid_argument when the outcomes name an unknown one.
    explicit ExotelFake(Options options);
    ~ExotelFake();
    ExotelFake(const ExotelFake&) = delete;
    ExotelFake& operator=(const ExotelFake&) = delete;

    int port() const;
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    Options& options() { return m_options; }

    void fail_next(int status, int count = 1);
    int rest_requests() const;

    // Replaces the outcome plan (sequences count calls from now on). An unknown outcome or an empty sequence is a
    // test's mistake: std::invalid_argument, and the plan stays as it was.
    void set_outcomes(std::string default_outcome, std::map<std::string, std::vector<std::string>> outcomes = {});
    // Outbound calls in flight: from the accepted Calls/connect to the stream's close or the terminal callback.
    int active_calls() const;
    int max_active_calls() const;
    void reset_max_active();  // the high-water mark starts again from the calls active now

    // An inbound call to `to`: GETs the applet endpoint (with CallSid, From, To), then streams to its {"url"}.
    Result<std::string> place_inbound(const std::string& applet_url, const std::string& from, const std::string& to,
                                      CallerScript script);
    std::optional<FakeCall> wait_for_end(const std::string& sid, std::chrono::milliseconds timeout);
    std::optional<FakeCall> wait_for_any_call(std::chrono::milliseconds timeout);
    std::vector<FakeCall> calls() const;
    // Calls that ended since `cursor` (advanced), in the order they ended.
    std::vector<FakeCall> ended_since(std::size_t& cursor) const;

private:
    struct Impl;
    Options m_options;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::fake
