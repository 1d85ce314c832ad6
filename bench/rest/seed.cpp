// Seeds a voiceagentd database with calls (and their turns) so list benchmarks read realistic pages.
// Usage: va_bench_seed DB_PATH WORKSPACE_ID AGENT_ID COUNT. Run while the daemon is stopped or running (WAL).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/store/store.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s DB_PATH WORKSPACE_ID AGENT_ID COUNT\n", argv[0]);
        return 2;
    }
    auto store = va::open_sqlite_store(va::SqliteOptions{argv[1], 5000, 2});
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message.c_str());
        return 1;
    }
    int count = std::atoi(argv[4]);
    for (int i = 0; i < count; ++i) {
        va::Call call;
        call.id = va::new_id("call");
        call.workspace_id = argv[2];
        call.agent_id = argv[3];
        call.direction = i % 2 ? "inbound" : "outbound";
        call.channel = i % 2 ? "twilio" : "exotel";
        call.from_number = "+15550000001";
        call.to_number = "+15550000002";
        call.status = "completed";
        call.end_reason = "caller_hangup";
        call.metrics = R"({"voice_to_voice_ms_p50": 640})";
        call.created_at = call.started_at = va::now_ms();
        call.answered_at = call.started_at + 1200;
        call.ended_at = call.started_at + 65000;
        call.duration_s = 63.8;
        if (auto r = (*store)->create_call(call); !r) {
            std::fprintf(stderr, "%s\n", r.error().message.c_str());
            return 1;
        }
    }
    std::printf("seeded %d calls\n", count);
    return 0;
}
