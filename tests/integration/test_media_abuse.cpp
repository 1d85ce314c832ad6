// Caller media that is not what it claims, end to end: a local client and a Twilio stream each send 20 MiB of
// caller audio as fast as the socket takes it. The daemon keeps to real time plus its allowance: the recording
// stays about as long as the call, its memory does not grow with the flood, the drop is in the call's metrics, and
// it keeps answering.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/ws_client.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::cli::WsClient;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kFloodBytes = 20 * 1024 * 1024;
// Generous: the flood itself is 20 MiB, and the unguarded daemon grew by several times that.
constexpr std::int64_t kMaxGrowthBytes = 60 * 1024 * 1024;

// A small ASan quarantine, so freed buffers are reused and resident memory measures what is held, not what
// churned through (no effect on a build without ASan).
va::test::Env small_quarantine(va::test::Env env = {}) {
    const char* inherited = std::getenv("ASAN_OPTIONS");
    env["ASAN_OPTIONS"] = std::string(inherited && *inherited ? std::string(inherited) + ":" : "") + "quarantine_size_mb=4";
    return env;
}

// A figure of /proc/<pid>/status in bytes ("VmRSS:   12345 kB"); -1 when absent.
std::int64_t status_bytes(const DaemonProcess& d, const std::string& field) {
    std::ifstream status("/proc/" + std::to_string(d.pid()) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
    return -1;
}

// The daemon's resident memory now, with its peak reset to it (Linux's clear_refs 5), so that peak_bytes() later
// tells the most it held in between.
std::int64_t reset_peak(const DaemonProcess& d) {
    std::ofstream("/proc/" + std::to_string(d.pid()) + "/clear_refs") << "5";
    return status_bytes(d, "VmRSS");
}

std::int64_t peak_bytes(const DaemonProcess& d) { return status_bytes(d, "VmHWM"); }

// A stereo PCM16 WAV at `rate` no longer than `seconds` (plus its header).
std::uintmax_t wav_bytes_for(double seconds, int rate) { return std::uintmax_t(seconds * rate * 4) + 4096; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

json read_until(WsClient& ws, const std::string& type) {
    while (auto m = ws.read_message()) {
        if (m->binary) continue;
        json msg = json::parse(m->data);
        if (msg.value("type", "") == type) return msg;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("media: a local client sending 20 MiB of audio at once is held to real time") {
    DaemonProcess d(small_quarantine());
    Api api(d.base_url(), d.admin_key());
    json agent = {{"name", "flooded"},
                  {"first_message", "Hi."},
                  {"silence", {{"timeout_ms", 60000}}},
                  {"script", {{"intents", json::array()}, {"fallback", "Okay."}}}};
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    auto t0 = Clock::now();
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "flooded"}, {"channel", "local"}, {"caller_lines", {"x"}}}).json();
    std::string id = created["call"]["id"];
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    REQUIRE(read_until(media, "listening").is_object());

    std::int64_t before = reset_peak(d);
    REQUIRE(before > 0);
    std::string frame(64 * 1024, '\0');  // 2 s of a loud square wave per message
    for (std::size_t i = 0; i < frame.size() / 2; ++i) {
        std::int16_t s = i % 40 < 20 ? 12000 : -12000;
        std::memcpy(frame.data() + 2 * i, &s, 2);
    }
    for (std::int64_t sent = 0; sent < kFloodBytes; sent += std::int64_t(frame.size())) media.send_binary(frame);
    // The echo of a mark sent after the flood: the daemon has taken all of it.
    media.send_text(R"({"type":"mark","name":"after-flood"})");
    auto mark = read_until(media, "mark");
    REQUIRE(mark.is_object());
    CHECK(mark["name"] == "after-flood");
    std::int64_t growth = peak_bytes(d) - before;
    INFO("daemon peak memory growth " << growth / 1024 << " KiB");
    CHECK(growth < kMaxGrowthBytes);
    CHECK(api.get("/healthz").status == 200);

    media.send_text(R"({"type":"hangup"})");
    REQUIRE(read_until(media, "end").is_object());
    json call = wait_for_call(api, id, "completed");
    double elapsed = seconds_since(t0);
    // The call heard no more than the wall clock plus the 2 s allowance; the rest was dropped and counted.
    auto wav = std::filesystem::path(d.data_dir()) / "recordings" / (id + ".wav");
    REQUIRE(std::filesystem::exists(wav));
    INFO("recording " << std::filesystem::file_size(wav) << " bytes after " << elapsed << " s");
    CHECK(std::filesystem::file_size(wav) <= wav_bytes_for(elapsed + 2.5, 16000));
    json caller_audio = call["metrics"]["caller_audio"];
    INFO(call["metrics"].dump());
    CHECK(caller_audio["dropped_ms"].get<std::int64_t>() > 600'000);
    CHECK(caller_audio["admitted_ms"].get<double>() <= (elapsed + 2.5) * 1000);
}

TEST_CASE("media: a Twilio stream sending 20 MiB of audio at once is held to real time") {
    va::fake::TwilioFake fake{va::fake::TwilioFake::Options{}};
    DaemonProcess d(small_quarantine({{"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
                                      {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
                                      {"VOICEAGENT_TWILIO_API_BASE_URL", fake.base_url()}}));
    Api api(d.base_url(), d.admin_key());
    json agent = example_agent("receptionist.json");
    agent["stt"] = {{"provider", "scripted"}, {"script", json::array()}, {"endpointing_ms", 500}};
    auto created = api.post("/api/v1/agents", agent);
    REQUIRE(created.status == 201);
    REQUIRE(api.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"},
                                        {"agent_id", created.json()["id"]}}).status == 201);

    // Right after the stream's start, 20 MiB of mu-law (a byte a sample: 44 minutes at 8 kHz) in media messages of
    // a second each, as fast as the socket takes them; then the caller hangs up once the greeting is over.
    va::fake::CallerScript script;
    auto dialect = va::fake::twilio_dialect("MZflood", "CAflood", fake.options().account_sid, json::object());
    std::vector<std::int16_t> second(8000);
    for (std::size_t i = 0; i < second.size(); ++i) second[i] = std::int16_t(i % 40 < 20 ? 12000 : -12000);
    const std::string message = dialect->media(second);
    script.junk.assign(std::size_t(kFloodBytes / 8000), message);
    std::int64_t before = reset_peak(d);
    REQUIRE(before > 0);
    auto t0 = Clock::now();
    auto sid = fake.place_inbound(d.base_url() + "/api/v1/webhooks/twilio/voice", "+15557654321", "+15550001111", script);
    REQUIRE(sid);
    auto ended = fake.wait_for_end(*sid, std::chrono::seconds(90));
    REQUIRE(ended);
    CHECK(ended->caller.ended_by == "caller");
    json call = wait_for_call(api, call_by_provider_id(api, *sid)["id"], "completed");
    double elapsed = seconds_since(t0);
    std::int64_t growth = peak_bytes(d) - before;
    INFO("daemon peak memory growth " << growth / 1024 << " KiB");
    CHECK(growth < kMaxGrowthBytes);
    CHECK(api.get("/healthz").status == 200);

    auto wav = std::filesystem::path(d.data_dir()) / "recordings" / (call["id"].get<std::string>() + ".wav");
    REQUIRE(std::filesystem::exists(wav));
    INFO("recording " << std::filesystem::file_size(wav) << " bytes after " << elapsed << " s");
    CHECK(std::filesystem::file_size(wav) <= wav_bytes_for(elapsed + 2.5, 8000));
    INFO(call["metrics"].dump());
    CHECK(call["metrics"]["caller_audio"]["dropped_ms"].get<std::int64_t>() > 2'000'000);
}
