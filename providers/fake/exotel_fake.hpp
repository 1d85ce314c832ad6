// A protocol-faithful fake of Exotel for tests and `va-fake exotel`: Calls/connect.json with HTTP Basic (API key
// and token), RestException error bodies and injectable faults, the Call Details API, and the carrier's part of
// each call: it streams to the StreamUrl (or, in flow mode, to the URL the Voicebot applet endpoint answers) as
// AgentStream does, then sends the terminal status callback in JSON, urlencoded or multipart form — or drops it,
// as Exotel may. Inbound calls start from place_inbound(), which asks the applet endpoint for the stream URL.
// Thread-safety: all public methods are safe from any thread.
#pragma once

#include <chrono>
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
        int ring_ms = 100;
        int frame_ms = 100;               // cadence of caller media (100 per the docs, 20 in an older one)
        std::string callback_format = "json";  // json | form | multipart (json only when asked for)
        bool drop_status_callback = false;
        std::string flow_applet_url;      // flow mode: the Voicebot applet's https endpoint
        bool lowercase_response = false;  // answer {"call":{"sid":...}} as the newer docs show
    };
    explicit ExotelFake(Options options);
    ~ExotelFake();
    ExotelFake(const ExotelFake&) = delete;
    ExotelFake& operator=(const ExotelFake&) = delete;

    int port() const;
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    Options& options() { return m_options; }

    void fail_next(int status, int count = 1);
    int rest_requests() const;

    // An inbound call to `to`: GETs the applet endpoint (with CallSid, From, To), then streams to its {"url"}.
    Result<std::string> place_inbound(const std::string& applet_url, const std::string& from, const std::string& to,
                                      CallerScript script);
    std::optional<FakeCall> wait_for_end(const std::string& sid, std::chrono::milliseconds timeout);
    std::optional<FakeCall> wait_for_any_call(std::chrono::milliseconds timeout);
    std::vector<FakeCall> calls() const;

private:
    struct Impl;
    Options m_options;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::fake
