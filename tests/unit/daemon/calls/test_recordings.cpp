#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/store/store.hpp"
#include "core/util/metrics.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/event_bus.hpp"

using namespace va;
namespace fs = std::filesystem;

TEST_CASE("recordings older than the retention are swept, newer ones kept") {
    auto store = std::move(open_sqlite_store({":memory:", 1000, 1})).value();
    EventBus events;
    MetricsRegistry metrics;
    CallManager calls(*store, events, metrics);
    fs::path dir = fs::temp_directory_path() / "va-recordings-sweep";
    fs::remove_all(dir);
    calls.set_recordings(dir.string(), true, 30);
    REQUIRE(fs::is_directory(dir));
    std::string old_path = calls.recording_path("call_old"), new_path = calls.recording_path("call_new");
    std::ofstream(old_path) << "RIFF";
    std::ofstream(new_path) << "RIFF";
    std::ofstream(dir / "notes.txt") << "not a recording";
    fs::last_write_time(old_path, fs::file_time_type::clock::now() - std::chrono::hours(24 * 31));
    CHECK(calls.sweep_recordings() == 1);
    CHECK_FALSE(fs::exists(old_path));
    CHECK(fs::exists(new_path));
    CHECK(fs::exists(dir / "notes.txt"));
    // Ids that could leave the directory get no path at all.
    CHECK(calls.recording_path("../etc/passwd").empty());
    fs::remove_all(dir);
}

TEST_CASE("retention 0 keeps recordings forever") {
    auto store = std::move(open_sqlite_store({":memory:", 1000, 1})).value();
    EventBus events;
    MetricsRegistry metrics;
    CallManager calls(*store, events, metrics);
    fs::path dir = fs::temp_directory_path() / "va-recordings-keep";
    fs::remove_all(dir);
    calls.set_recordings(dir.string(), true, 0);
    std::string path = calls.recording_path("call_ancient");
    std::ofstream(path) << "RIFF";
    fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(24 * 3650));
    CHECK(calls.sweep_recordings() == 0);
    CHECK(fs::exists(path));
    fs::remove_all(dir);
}
