// OpenAI /v1/audio/speech against the fake: pcm at 24 kHz, and its errors.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "core/audio/vad.hpp"
#include "providers/fake/openai_fake.hpp"
#include "providers/openai/speech_client.hpp"

using namespace va;
using va::fake::OpenAiFake;
using nlohmann::json;

namespace {

std::unique_ptr<TtsClient> speech_client(const OpenAiFake& fake, const std::string& key = "sk-fake-openai") {
    openai::SpeechSettings s;
    s.api_key = key;
    s.base_url = fake.base_url();
    auto c = openai::speech_factory(s)->create(json{{"tts", {{"provider", "openai"}, {"voice", "coral"}, {"speed", 1.25}}}});
    REQUIRE(c);
    return std::move(c).value();
}

}  // namespace

TEST_CASE("openai speech: a sentence comes back as 24 kHz PCM speech") {
    OpenAiFake fake({});
    auto tts = speech_client(fake);
    auto audio = tts->synthesize("Thank you for calling.");
    REQUIRE(audio);
    CHECK(audio->format.sample_rate == 24000);
    CHECK(audio->samples.size() > 12000);
    CHECK(level_dbfs(audio->samples) > -40.0);
    auto body = openai::speech_body({}, "Hi.");
    CHECK(body["response_format"] == "pcm");
    CHECK(body["model"] == "gpt-4o-mini-tts");
    CHECK(fake.speech_requests() == 1);
}

TEST_CASE("openai speech: errors are mapped, quota is permanent, a dropped stream is transient") {
    OpenAiFake fake({});
    auto wrong = speech_client(fake, "sk-wrong")->synthesize("Hello.");
    REQUIRE(!wrong);
    CHECK(wrong.error().code == ErrorCode::unauthenticated);
    CHECK(wrong.error().message.find("sk-wrong") == std::string::npos);

    auto tts = speech_client(fake);
    OpenAiFake::Fault quota_fault;
    quota_fault.kind = OpenAiFake::Fault::quota;
    fake.push_speech_fault(quota_fault);
    auto quota = tts->synthesize("Hello.");
    REQUIRE(!quota);
    CHECK(quota.error().code == ErrorCode::quota);

    OpenAiFake::Fault busy;
    busy.http_status = 503;
    fake.push_speech_fault(busy);
    auto unavailable = tts->synthesize("Hello.");
    REQUIRE(!unavailable);
    CHECK(unavailable.error().transient());

    OpenAiFake::Fault drop;
    drop.kind = OpenAiFake::Fault::drop_mid_stream;
    fake.push_speech_fault(drop);
    auto dropped = tts->synthesize("This reply is cut off in the middle of the audio stream.");
    REQUIRE(!dropped);
    CHECK(dropped.error().transient());
}

// Before, the whole sentence was read before the call heard any of it; now each piece is handed on as it arrives.
TEST_CASE("openai speech: speak() hands the sentence over in pieces, the same audio synthesize() gets") {
    OpenAiFake fake({});
    auto tts = speech_client(fake);
    REQUIRE(tts->streams());
    auto whole = tts->synthesize("Thank you for calling.");
    REQUIRE(whole);
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::int16_t> pieces;
    int chunks = 0;
    std::optional<Status> done;
    auto stream = tts->speak("Thank you for calling.", {[&](TtsAudio chunk) {
                                                            std::lock_guard lock(mutex);
                                                            CHECK(chunk.format.sample_rate == 24000);
                                                            ++chunks;
                                                            pieces.insert(pieces.end(), chunk.samples.begin(), chunk.samples.end());
                                                        },
                                                        [&](Status s) {
                                                            std::lock_guard lock(mutex);
                                                            done = std::move(s);
                                                            cv.notify_all();
                                                        }});
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done.has_value(); }));
    CHECK(*done);
    CHECK(chunks >= 1);
    CHECK(pieces == whole->samples);
}
