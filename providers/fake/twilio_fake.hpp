// A protocol-faithful fake of Twilio for tests, benchmarks and `vactl calls simulate`: its REST API
// (Calls.json with HTTP Basic, call updates for hang-up and <Dial> transfers, Twilio's error bodies and
// injectable faults), and the carrier's part of each call: status callbacks signed with X-Twilio-Signature, and a
// MediaCaller that connects to the <Connect><Stream> URL from the TwiML (signed too) and plays the caller's
// script. Inbound calls start from place_inbound(), which posts the signed voice webhook as Twilio would.
// Outbound calls follow an outcome plan (answer, completed, busy, no-answer, failed; see FakeCarrier), and the
// fake counts how many are in flight at once.
// Thread-safety: all public methods are safe from any thread. Calls run on the fake's own threads. Options are
// read at construction and by each new call; change the script and outcomes through their setters.
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

class TwilioFake {
public:
    struct Options {
        std::string account_sid = "AC00000000000000000000000000000001";
        std::string auth_token = "fake-twilio-auth-token";
        int port = 0;                   // 0: any free port on 127.0.0.1
        CallerScript script;            // what the callee says on outbound calls
        int ring_ms = 100;              // between ringing and answer (or the busy, no-answer, failed status)
        std::string default_outcome = "answer";  // what the callee of an outbound call does (FakeCarrier)
        std::map<std::string, std::vector<std::string>> outcomes;  // by To number: the n-th call takes entry n
    };
    // Throws std::invalid_argument when the outcomes name an unknown one.
    explicit TwilioFake(Options options);
    ~TwilioFake();
    TwilioFake(const TwilioFake&) = delete;
    TwilioFake& operator=(const TwilioFake&) = delete;

    int port() const;
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    const Options& options() const { return m_options; }
    void set_script(CallerScript script);
    // Replaces the outcome plan (sequences count calls from now on). An unknown outcome or an empty sequence is a
    // test's mistake: std::invalid_argument, and the plan stays as it was.
    void set_outcomes(std::string default_outcome, std::map<std::string, std::vector<std::string>> outcomes = {});

    // Outbound calls in flight: from the accepted REST create to the stream's close or the terminal callback.
    int active_calls() const;
    int max_active_calls() const;
    void reset_max_active();  // the high-water mark starts again from the calls active now

    // The next `count` REST requests fail with `status` and Twilio's error body (401 20003, 429 20429, 500...).
    void fail_next(int status, int count = 1);
    int rest_requests() const;

    // An inbound call to `to`: posts the signed voice webhook to `voice_url`, then streams to the TwiML's URL.
    // Returns the call's SID; the call runs in the background (wait_for_end).
    Result<std::string> place_inbound(const std::string& voice_url, const std::string& from, const std::string& to,
                                      CallerScript script);

    // Waits until the call has ended (stream closed, final status callback sent) or the timeout passes.
    std::optional<FakeCall> wait_for_end(const std::string& sid, std::chrono::milliseconds timeout);
    std::vector<FakeCall> calls() const;
    std::optional<FakeCall> wait_for_any_call(std::chrono::milliseconds timeout);
    // Calls that ended since `cursor` (advanced), in the order they ended.
    std::vector<FakeCall> ended_since(std::size_t& cursor) const;

private:
    struct Impl;
    Options m_options;
    std::unique_ptr<Impl> m_impl;
};

// Finds <Stream url="..."> and its <Parameter name value/> in TwiML (XML entities decoded).
struct StreamTwiml {
    std::string url;
    std::vector<std::pair<std::string, std::string>> parameters;
    std::string dial;  // the number of a <Dial>, when that is what the TwiML does
};
StreamTwiml parse_twiml(const std::string& xml);

}  // namespace va::fake
