// Campaign rules against the system's IANA database: calling windows across DST changes, half-hour zones,
// midnight and day filters; contact import from CSV and JSON with bad rows kept apart by line; retry decisions.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "core/campaigns/campaign_rules.hpp"

using namespace va;
using namespace va::campaigns;
using nlohmann::json;

namespace {

// Milliseconds since the epoch of a UTC civil time (days_from_civil, H. Hinnant), so expectations are written as
// the UTC instant a reader can check against the zone's published offset.
std::int64_t utc_ms(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = era * 146097 + doe - 719468;
    return ((days * 24 + hh) * 60 + mm) * 60000 + ss * 1000;
}

CallingWindow window_of(const json& j) {
    auto parsed = parse_window(j);
    INFO((parsed ? std::string() : parsed.error().message));
    REQUIRE(parsed);
    return parsed.value();
}

std::string error_of(const Result<CallingWindow>& r) {
    REQUIRE_FALSE(r);
    return r.error().message;
}

std::string error_of(const Result<RetryPolicy>& r) {
    REQUIRE_FALSE(r);
    return r.error().message;
}

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

}  // namespace

// --- phones and zones ----------------------------------------------------------------------------------------------

TEST_CASE("campaigns: normalize_e164 drops separators and accepts 00 for +") {
    CHECK(normalize_e164("+14155550100") == std::optional<std::string>("+14155550100"));
    CHECK(normalize_e164("+1 (415) 555-0100") == std::optional<std::string>("+14155550100"));
    CHECK(normalize_e164(" +91 98765.43210 ") == std::optional<std::string>("+919876543210"));
    CHECK(normalize_e164("0044 20 7946 0958") == std::optional<std::string>("+442079460958"));
    CHECK(normalize_e164("+12345678") == std::optional<std::string>("+12345678"));            // 8 digits
    CHECK(normalize_e164("+123456789012345") == std::optional<std::string>("+123456789012345"));  // 15 digits
}

TEST_CASE("campaigns: normalize_e164 refuses what is not an international number") {
    CHECK_FALSE(normalize_e164(""));
    CHECK_FALSE(normalize_e164("+"));
    CHECK_FALSE(normalize_e164("4155550100"));         // national: no country code
    CHECK_FALSE(normalize_e164("+1234567"));           // 7 digits
    CHECK_FALSE(normalize_e164("+1234567890123456"));  // 16 digits
    CHECK_FALSE(normalize_e164("+04155550100"));       // country code cannot start with 0
    CHECK_FALSE(normalize_e164("000441234567"));       // "00" then 0
    CHECK_FALSE(normalize_e164("+1 415 555 CALL"));    // letters
    CHECK_FALSE(normalize_e164("abc"));
    CHECK_FALSE(normalize_e164("+1415+5550100"));  // a second plus
    CHECK_FALSE(normalize_e164("+1415555/0100"));  // not a separator we drop
}

TEST_CASE("campaigns: valid_timezone knows the IANA database and nothing else") {
    CHECK(valid_timezone("UTC"));
    CHECK(valid_timezone("Asia/Kolkata"));
    CHECK(valid_timezone("America/New_York"));
    CHECK(valid_timezone("Europe/London"));
    CHECK_FALSE(valid_timezone(""));
    CHECK_FALSE(valid_timezone("Mars/Olympus_Mons"));
    CHECK_FALSE(valid_timezone("asia/kolkata"));  // names are case-sensitive
    CHECK_FALSE(valid_timezone("../../etc/passwd"));
    CHECK_FALSE(valid_timezone("IST"));
}

// --- calling window: parsing ---------------------------------------------------------------------------------------

TEST_CASE("campaigns: parse_window reads every member and defaults the missing ones") {
    auto w = window_of(json{{"start", "09:00"}, {"end", "18:30"}, {"days", {"mon", "TUE", "Wednesday", "fri"}},
                            {"timezone", "Asia/Kolkata"}});
    CHECK(w.start_minute == 9 * 60);
    CHECK(w.end_minute == 18 * 60 + 30);
    CHECK(w.days == 0b0010111);
    CHECK(w.timezone == "Asia/Kolkata");

    auto d = window_of(json::object());
    CHECK(d.start_minute == 0);
    CHECK(d.end_minute == 24 * 60);
    CHECK(d.days == 0x7f);
    CHECK(d.timezone == "UTC");

    auto late = window_of(json{{"start", "9:05"}});  // one-digit hour, end defaults to midnight
    CHECK(late.start_minute == 9 * 60 + 5);
    CHECK(late.end_minute == 24 * 60);

    auto whole = window_of(json{{"start", "00:00"}, {"end", "24:00"}});
    CHECK(whole.start_minute == 0);
    CHECK(whole.end_minute == 24 * 60);

    auto night = window_of(json{{"start", "22:00"}, {"end", "02:00"}});
    CHECK(night.start_minute == 22 * 60);
    CHECK(night.end_minute == 2 * 60);

    auto dup = window_of(json{{"days", {"sun", "Sunday", "SUN", "sat"}}});
    CHECK(dup.days == 0b1100000);
}

TEST_CASE("campaigns: parse_window errors name the member") {
    CHECK(error_of(parse_window(json{{"start", "9am"}})) == "window.start: must be HH:MM (00:00-23:59)");
    CHECK(error_of(parse_window(json{{"start", "24:00"}})) == "window.start: must be HH:MM (00:00-23:59)");
    CHECK(error_of(parse_window(json{{"start", 900}})) == "window.start: must be HH:MM (00:00-23:59)");
    CHECK(error_of(parse_window(json{{"start", "09:60"}})) == "window.start: must be HH:MM (00:00-23:59)");
    CHECK(error_of(parse_window(json{{"start", "123:00"}})) == "window.start: must be HH:MM (00:00-23:59)");
    CHECK(error_of(parse_window(json{{"end", "24:01"}})) == "window.end: must be HH:MM (00:00-24:00)");
    CHECK(error_of(parse_window(json{{"end", "25:00"}})) == "window.end: must be HH:MM (00:00-24:00)");
    CHECK(error_of(parse_window(json{{"end", "18:0"}})) == "window.end: must be HH:MM (00:00-24:00)");
    CHECK(error_of(parse_window(json{{"start", "09:00"}, {"end", "09:00"}})) ==
          "window.end: must differ from window.start");
    CHECK(error_of(parse_window(json{{"end", "00:00"}})) == "window.end: must differ from window.start");
    CHECK(error_of(parse_window(json{{"days", json::array()}})) == "window.days: at least one day");
    CHECK(error_of(parse_window(json{{"days", "mon"}})) == "window.days: must be an array of day names (mon..sun)");
    CHECK(error_of(parse_window(json{{"days", {"mon", "funday"}}})) ==
          "window.days[1]: \"funday\" is not a day (mon..sun)");
    CHECK(error_of(parse_window(json{{"days", {"mon", 3}}})) == "window.days[1]: 3 is not a day (mon..sun)");
    CHECK(error_of(parse_window(json{{"timezone", "Mars/Base"}})) ==
          "window.timezone: \"Mars/Base\" is not a known IANA time zone");
    CHECK(error_of(parse_window(json{{"timezone", ""}})).rfind("window.timezone: ", 0) == 0);
    CHECK(error_of(parse_window(json{{"timezone", 5.5}})).rfind("window.timezone: ", 0) == 0);
    CHECK(error_of(parse_window(json{{"tz", "UTC"}})).rfind("window.tz: unknown member", 0) == 0);
    CHECK(error_of(parse_window(json::array())) == "window: must be an object");
    CHECK(error_of(parse_window(json())) == "window: must be an object");
}

TEST_CASE("campaigns: parse_window reports every bad member at once, as invalid_request with details") {
    auto r = parse_window(json{{"start", "nine"}, {"days", {"xyz"}}, {"timezone", "Nowhere"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_request);
    REQUIRE(r.error().details.size() == 3);
    CHECK(r.error().details[0].field == "window.days[0]");
    CHECK(r.error().details[1].field == "window.start");
    CHECK(r.error().details[2].field == "window.timezone");
    CHECK(r.error().message.find("window.start: must be HH:MM") != std::string::npos);
    CHECK(r.error().message.find("; ") != std::string::npos);
}

TEST_CASE("campaigns: a window survives to_json and back") {
    auto w = window_of(json{{"start", "21:15"}, {"end", "24:00"}, {"days", {"sat", "mon"}},
                            {"timezone", "Europe/London"}});
    json j = to_json(w);
    CHECK(j == json{{"start", "21:15"}, {"end", "24:00"}, {"days", {"mon", "sat"}}, {"timezone", "Europe/London"}});
    auto back = window_of(j);
    CHECK(back.start_minute == w.start_minute);
    CHECK(back.end_minute == w.end_minute);
    CHECK(back.days == w.days);
    CHECK(back.timezone == w.timezone);

    CHECK(to_json(CallingWindow{}) ==
          json{{"start", "00:00"}, {"end", "24:00"}, {"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
               {"timezone", "UTC"}});
}

// --- calling window: next opening ----------------------------------------------------------------------------------

TEST_CASE("campaigns: next_window_open in UTC: inside, before, after, and the exclusive end") {
    auto w = window_of(json{{"start", "09:00"}, {"end", "17:00"}});
    // 2024-01-01 is a Monday.
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 12, 0)) == utc_ms(2024, 1, 1, 12, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 9, 0)) == utc_ms(2024, 1, 1, 9, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 8, 59, 59)) == utc_ms(2024, 1, 1, 9, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 16, 59, 59)) == utc_ms(2024, 1, 1, 16, 59, 59));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 17, 0)) == utc_ms(2024, 1, 2, 9, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 12, 31, 23, 0)) == utc_ms(2025, 1, 1, 9, 0));  // across a year
    // Milliseconds are kept, not rounded to the minute.
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 12, 0) + 123) == utc_ms(2024, 1, 1, 12, 0) + 123);
}

TEST_CASE("campaigns: the default window is always open") {
    CallingWindow always;
    CHECK(next_window_open(always, "", utc_ms(2024, 3, 10, 3, 17)) == utc_ms(2024, 3, 10, 3, 17));
    CHECK(next_window_open(always, "Asia/Kolkata", utc_ms(2024, 3, 10, 23, 59)) == utc_ms(2024, 3, 10, 23, 59));
    CHECK(next_window_open(always, "America/New_York", utc_ms(2024, 3, 10, 7, 0)) == utc_ms(2024, 3, 10, 7, 0));
}

TEST_CASE("campaigns: Asia/Kolkata is UTC+05:30 all year") {
    auto w = window_of(json{{"start", "09:00"}, {"end", "18:00"}, {"timezone", "Asia/Kolkata"}});
    // 09:00 IST = 03:30 UTC, 18:00 IST = 12:30 UTC.
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 2, 0)) == utc_ms(2024, 1, 1, 3, 30));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 3, 30)) == utc_ms(2024, 1, 1, 3, 30));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 12, 29)) == utc_ms(2024, 1, 1, 12, 29));
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 12, 30)) == utc_ms(2024, 1, 2, 3, 30));
    // 20:00 UTC on Jan 1 is already 01:30 on Jan 2 in India: the opening is that same local day.
    CHECK(next_window_open(w, "", utc_ms(2024, 1, 1, 20, 0)) == utc_ms(2024, 1, 2, 3, 30));
    CHECK(next_window_open(w, "", utc_ms(2024, 7, 1, 2, 0)) == utc_ms(2024, 7, 1, 3, 30));
}

TEST_CASE("campaigns: a contact's own zone overrides the window's") {
    auto w = window_of(json{{"start", "09:00"}, {"end", "17:00"}, {"timezone", "Asia/Kolkata"}});
    // 2024-01-02 12:00 UTC: 17:30 in Kolkata (closed), 07:00 in New York (opens 09:00 EST = 14:00 UTC).
    std::int64_t now = utc_ms(2024, 1, 2, 12, 0);
    CHECK(next_window_open(w, "America/New_York", now) == utc_ms(2024, 1, 2, 14, 0));
    CHECK(next_window_open(w, "", now) == utc_ms(2024, 1, 3, 3, 30));
    CHECK(next_window_open(w, "Europe/London", now) == now);  // 12:00 GMT
    // An unknown contact zone falls back to the window's rather than losing the contact.
    CHECK(next_window_open(w, "Not/AZone", now) == utc_ms(2024, 1, 3, 3, 30));
    // A window whose own zone is unknown (built by hand, not parsed) runs in UTC.
    CallingWindow bad = w;
    bad.timezone = "Nowhere/Special";
    CHECK(next_window_open(bad, "", utc_ms(2024, 1, 2, 8, 0)) == utc_ms(2024, 1, 2, 9, 0));
}

TEST_CASE("campaigns: America/New_York spring forward: 02:30 does not exist, the window opens at 03:00 EDT") {
    // 2024-03-10 (Sunday): 02:00 EST jumps to 03:00 EDT, at 07:00 UTC.
    auto w = window_of(json{{"start", "02:30"}, {"end", "05:00"}, {"timezone", "America/New_York"}});
    CHECK(next_window_open(w, "", utc_ms(2024, 3, 10, 5, 0)) == utc_ms(2024, 3, 10, 7, 0));  // from 00:00 EST
    CHECK(next_window_open(w, "", utc_ms(2024, 3, 10, 7, 0)) == utc_ms(2024, 3, 10, 7, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 3, 10, 8, 30)) == utc_ms(2024, 3, 10, 8, 30));  // 04:30 EDT
    // 05:00 EDT = 09:00 UTC closes it; the next day 02:30 EDT exists again (06:30 UTC).
    CHECK(next_window_open(w, "", utc_ms(2024, 3, 10, 9, 0)) == utc_ms(2024, 3, 11, 6, 30));
    // The day before, 02:30 EST = 07:30 UTC.
    CHECK(next_window_open(w, "", utc_ms(2024, 3, 9, 5, 0)) == utc_ms(2024, 3, 9, 7, 30));

    // A business-hours window keeps local 09:00 across the change: 14:00 UTC before, 13:00 UTC after.
    auto office = window_of(json{{"start", "09:00"}, {"end", "17:00"}, {"timezone", "America/New_York"}});
    CHECK(next_window_open(office, "", utc_ms(2024, 3, 9, 12, 0)) == utc_ms(2024, 3, 9, 14, 0));
    CHECK(next_window_open(office, "", utc_ms(2024, 3, 10, 12, 0)) == utc_ms(2024, 3, 10, 13, 0));
    // 21:59 UTC on Mar 9 = 16:59 EST (open); 22:00 UTC = 17:00 EST (closed), next is 09:00 EDT.
    CHECK(next_window_open(office, "", utc_ms(2024, 3, 9, 21, 59)) == utc_ms(2024, 3, 9, 21, 59));
    CHECK(next_window_open(office, "", utc_ms(2024, 3, 9, 22, 0)) == utc_ms(2024, 3, 10, 13, 0));
}

TEST_CASE("campaigns: America/New_York fall back: an ambiguous opening takes the first occurrence") {
    // 2024-11-03: 02:00 EDT falls back to 01:00 EST at 06:00 UTC; 01:30 happens at 05:30 and at 06:30 UTC.
    auto w = window_of(json{{"start", "01:30"}, {"end", "06:00"}, {"timezone", "America/New_York"}});
    CHECK(next_window_open(w, "", utc_ms(2024, 11, 3, 4, 0)) == utc_ms(2024, 11, 3, 5, 30));
    CHECK(next_window_open(w, "", utc_ms(2024, 11, 3, 6, 15)) == utc_ms(2024, 11, 3, 6, 15));  // 01:15 EST
    // 06:00 EST = 11:00 UTC closes it; the next day 01:30 EST = 06:30 UTC.
    CHECK(next_window_open(w, "", utc_ms(2024, 11, 3, 11, 0)) == utc_ms(2024, 11, 4, 6, 30));
}

TEST_CASE("campaigns: Europe/London switches between GMT and BST") {
    auto office = window_of(json{{"start", "09:00"}, {"end", "17:00"}, {"timezone", "Europe/London"}});
    CHECK(next_window_open(office, "", utc_ms(2024, 1, 15, 6, 0)) == utc_ms(2024, 1, 15, 9, 0));  // GMT
    CHECK(next_window_open(office, "", utc_ms(2024, 7, 15, 6, 0)) == utc_ms(2024, 7, 15, 8, 0));  // BST
    CHECK(next_window_open(office, "", utc_ms(2024, 7, 15, 15, 59)) == utc_ms(2024, 7, 15, 15, 59));
    CHECK(next_window_open(office, "", utc_ms(2024, 7, 15, 16, 0)) == utc_ms(2024, 7, 16, 8, 0));

    // 2024-03-31: 01:00 GMT jumps to 02:00 BST at 01:00 UTC; 01:15 local does not exist.
    auto gap = window_of(json{{"start", "01:15"}, {"end", "03:00"}, {"timezone", "Europe/London"}});
    CHECK(next_window_open(gap, "", utc_ms(2024, 3, 31, 0, 0)) == utc_ms(2024, 3, 31, 1, 0));
    CHECK(next_window_open(gap, "", utc_ms(2024, 3, 31, 1, 59)) == utc_ms(2024, 3, 31, 1, 59));  // 02:59 BST
    CHECK(next_window_open(gap, "", utc_ms(2024, 3, 31, 2, 0)) == utc_ms(2024, 4, 1, 0, 15));    // 01:15 BST

    // A contact in London on a New York window: the contact's rules apply.
    auto ny = window_of(json{{"start", "09:00"}, {"end", "17:00"}, {"timezone", "America/New_York"}});
    CHECK(next_window_open(ny, "Europe/London", utc_ms(2024, 7, 15, 6, 0)) == utc_ms(2024, 7, 15, 8, 0));
}

TEST_CASE("campaigns: a window past midnight belongs to the day it opens") {
    // 2024-06-14 is a Friday.
    auto w = window_of(json{{"start", "22:00"}, {"end", "02:00"}, {"days", {"fri"}}});
    CHECK(next_window_open(w, "", utc_ms(2024, 6, 14, 21, 0)) == utc_ms(2024, 6, 14, 22, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 6, 14, 23, 30)) == utc_ms(2024, 6, 14, 23, 30));
    // Saturday 01:00: still Friday's window, though Saturday is not an allowed day.
    CHECK(next_window_open(w, "", utc_ms(2024, 6, 15, 1, 0)) == utc_ms(2024, 6, 15, 1, 0));
    CHECK(next_window_open(w, "", utc_ms(2024, 6, 15, 2, 0)) == utc_ms(2024, 6, 21, 22, 0));
    // Sunday 01:00: Saturday opened no window.
    CHECK(next_window_open(w, "", utc_ms(2024, 6, 16, 1, 0)) == utc_ms(2024, 6, 21, 22, 0));

    // Every day, 20:00-00:00 ends exactly at midnight, and "24:00" means the same.
    auto evening = window_of(json{{"start", "20:00"}, {"end", "00:00"}});
    auto evening24 = window_of(json{{"start", "20:00"}, {"end", "24:00"}});
    for (const auto& e : {evening, evening24}) {
        CHECK(next_window_open(e, "", utc_ms(2024, 6, 14, 23, 59)) == utc_ms(2024, 6, 14, 23, 59));
        CHECK(next_window_open(e, "", utc_ms(2024, 6, 15, 0, 0)) == utc_ms(2024, 6, 15, 20, 0));
    }

    // Past midnight in Kolkata: 21:00-01:00 IST is 15:30-19:30 UTC.
    auto ist = window_of(json{{"start", "21:00"}, {"end", "01:00"}, {"timezone", "Asia/Kolkata"}});
    CHECK(next_window_open(ist, "", utc_ms(2024, 6, 14, 19, 0)) == utc_ms(2024, 6, 14, 19, 0));
    CHECK(next_window_open(ist, "", utc_ms(2024, 6, 14, 19, 30)) == utc_ms(2024, 6, 15, 15, 30));
}

TEST_CASE("campaigns: day-of-week filters skip to the next allowed day") {
    auto weekdays = window_of(json{{"start", "09:00"}, {"end", "17:00"}, {"days", {"mon", "tue", "wed", "thu", "fri"}}});
    // 2024-06-14 Friday, 15 Saturday, 17 Monday.
    CHECK(next_window_open(weekdays, "", utc_ms(2024, 6, 14, 10, 0)) == utc_ms(2024, 6, 14, 10, 0));
    CHECK(next_window_open(weekdays, "", utc_ms(2024, 6, 14, 18, 0)) == utc_ms(2024, 6, 17, 9, 0));
    CHECK(next_window_open(weekdays, "", utc_ms(2024, 6, 15, 10, 0)) == utc_ms(2024, 6, 17, 9, 0));

    // Only on Wednesday, asked on a Wednesday after closing: a full week later.
    auto wed = window_of(json{{"start", "09:00"}, {"end", "10:00"}, {"days", {"wednesday"}}});
    CHECK(next_window_open(wed, "", utc_ms(2024, 6, 12, 11, 0)) == utc_ms(2024, 6, 19, 9, 0));

    // The weekday is the contact's local one: Monday 01:00 in Kolkata is still Sunday in UTC.
    auto monday = window_of(json{{"start", "00:30"}, {"end", "08:00"}, {"days", {"mon"}}});
    // 2024-06-16 (Sunday) 20:00 UTC = Monday 01:30 IST.
    CHECK(next_window_open(monday, "Asia/Kolkata", utc_ms(2024, 6, 16, 20, 0)) == utc_ms(2024, 6, 16, 20, 0));
    CHECK(next_window_open(monday, "", utc_ms(2024, 6, 16, 20, 0)) == utc_ms(2024, 6, 17, 0, 30));
}

TEST_CASE("campaigns: a window that can never open yields the never sentinel") {
    CallingWindow none;
    none.days = 0;
    CHECK(next_window_open(none, "", utc_ms(2024, 1, 1)) == kNever);
    CallingWindow empty;
    empty.start_minute = empty.end_minute = 600;
    CHECK(next_window_open(empty, "", utc_ms(2024, 1, 1)) == kNever);
    CallingWindow out_of_range;
    out_of_range.start_minute = -5;
    CHECK(next_window_open(out_of_range, "", utc_ms(2024, 1, 1)) == kNever);
}

// --- CSV -----------------------------------------------------------------------------------------------------------

TEST_CASE("campaigns: CSV with a header, extra columns as variables, and per-row zones") {
    auto r = parse_contacts_csv(
        "Phone,Name,Timezone,Account Id\n"
        "+1 415 555 0100,Alice,America/New_York,A-1\n"
        "+91 98765 43210,Bob,,B-2\n");
    CHECK(r.errors.empty());
    CHECK(r.duplicates == 0);
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].phone == "+14155550100");
    CHECK(r.contacts[0].timezone == "America/New_York");
    CHECK(r.contacts[0].variables == json{{"name", "Alice"}, {"account_id", "A-1"}});
    CHECK(r.contacts[0].line == 2);
    CHECK(r.contacts[1].phone == "+919876543210");
    CHECK(r.contacts[1].timezone.empty());
    CHECK(r.contacts[1].variables == json{{"name", "Bob"}, {"account_id", "B-2"}});
    CHECK(r.contacts[1].line == 3);
}

TEST_CASE("campaigns: CSV quoted fields keep commas, doubled quotes and line breaks, lines stay physical") {
    auto r = parse_contacts_csv(
        "phone,note,city\n"
        "+14155550100,\"says \"\"hi\"\", then leaves\",\"San Francisco, CA\"\n"
        "+14155550101,\"two\nlines\",Paris\n"
        "+14155550102,  spaced out  ,  \"quoted\"  \n"
        "not-a-phone,x,y\n");
    REQUIRE(r.contacts.size() == 3);
    CHECK(r.contacts[0].variables["note"] == "says \"hi\", then leaves");
    CHECK(r.contacts[0].variables["city"] == "San Francisco, CA");
    CHECK(r.contacts[1].variables["note"] == "two\nlines");
    CHECK(r.contacts[1].line == 3);
    // Unquoted fields are trimmed; spaces around a quoted field are not part of it.
    CHECK(r.contacts[2].variables["note"] == "spaced out");
    CHECK(r.contacts[2].variables["city"] == "quoted");
    CHECK(r.contacts[2].line == 5);  // the quoted newline pushed it one line down
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 6);
    CHECK(r.errors[0].message == "line 6: phone: \"not-a-phone\" is not an E.164 number");
}

TEST_CASE("campaigns: CSV with a BOM, CRLF line ends and blank lines") {
    auto r = parse_contacts_csv(
        "\xEF\xBB\xBFphone,name\r\n"
        "\r\n"
        "+442079460958,\"Ann\r\nSmith\"\r\n"
        "   \r\n"
        "+442079460959,Ben\r\n"
        "\r\n");
    CHECK(r.errors.empty());
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].phone == "+442079460958");
    CHECK(r.contacts[0].line == 3);
    CHECK(r.contacts[0].variables["name"] == "Ann\r\nSmith");
    CHECK(r.contacts[1].line == 6);
    CHECK(r.contacts[1].variables["name"] == "Ben");

    // Without the BOM stripped, the first header would be "\xEF\xBB\xBFphone" and no phone column found.
    auto no_trailing_newline = parse_contacts_csv("\xEF\xBB\xBF" "Phone\n+14155550100");
    CHECK(no_trailing_newline.errors.empty());
    REQUIRE(no_trailing_newline.contacts.size() == 1);
}

TEST_CASE("campaigns: CSV bad rows are reported by line and good rows are kept") {
    auto r = parse_contacts_csv(
        "phone,name,tz\n"                            // 1
        "+14155550100,Alice,America/Los_Angeles\n"   // 2
        "+1415555,Short,\n"                          // 3: too few digits
        "+14155550102,Carol\n"                       // 4: 2 fields
        "+14155550103,Dan,Mars/Base\n"               // 5: bad zone
        ",Empty,\n"                                  // 6: no phone
        "+14155550104,Eve,UTC,extra\n"               // 7: 4 fields
        "letters,Fay,Nowhere\n"                      // 8: two problems, one error
        "+14155550105,\"Gus\"x,UTC\n"                // 9: junk after a closing quote
        "0014155550106,Hal,Europe/London\n");        // 10
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].phone == "+14155550100");
    CHECK(r.contacts[0].timezone == "America/Los_Angeles");
    CHECK(r.contacts[0].line == 2);
    CHECK(r.contacts[1].phone == "+14155550106");
    CHECK(r.contacts[1].line == 10);
    CHECK(r.contacts[1].variables == json{{"name", "Hal"}});

    REQUIRE(r.errors.size() == 7);
    CHECK(r.errors[0].line == 3);
    CHECK(r.errors[0].message == "line 3: phone: \"+1415555\" is not an E.164 number");
    CHECK(r.errors[1].line == 4);
    CHECK(r.errors[1].message == "line 4: expected 3 fields, got 2");
    CHECK(r.errors[2].line == 5);
    CHECK(r.errors[2].message == "line 5: tz: \"Mars/Base\" is not a known IANA time zone");
    CHECK(r.errors[3].line == 6);
    CHECK(r.errors[3].message == "line 6: phone: missing");
    CHECK(r.errors[4].line == 7);
    CHECK(r.errors[4].message == "line 7: expected 3 fields, got 4");
    CHECK(r.errors[5].line == 8);
    CHECK(r.errors[5].message ==
          "line 8: phone: \"letters\" is not an E.164 number; tz: \"Nowhere\" is not a known IANA time zone");
    CHECK(r.errors[6].line == 9);
    CHECK(r.errors[6].message == "line 9: unexpected character after a closing quote");
}

TEST_CASE("campaigns: CSV unterminated quote is an error of the row where it starts") {
    auto r = parse_contacts_csv(
        "phone,name\n"
        "+14155550100,Alice\n"
        "+14155550101,\"Bob\n"
        "+14155550102,Carol\n");
    REQUIRE(r.contacts.size() == 1);
    CHECK(r.contacts[0].phone == "+14155550100");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 3);
    CHECK(r.errors[0].message == "line 3: unterminated quoted field");

    auto header = parse_contacts_csv("phone,\"name\n+14155550100,Alice\n");
    CHECK(header.contacts.empty());
    REQUIRE(header.errors.size() == 1);
    CHECK(header.errors[0].line == 1);
}

TEST_CASE("campaigns: CSV duplicates merge into the first row, later non-empty values win") {
    auto r = parse_contacts_csv(
        "phone,name,plan,timezone\n"
        "+1 415 555 0100,Alice,,\n"
        "+14155550101,Bob,basic,\n"
        "(415) 555-0100,,gold,Asia/Kolkata\n"  // no country code: an error, not a duplicate
        "+1-415-555-0100,Alicia,gold,America/Chicago\n"
        "001 415 555 0100,,platinum,\n");
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.duplicates == 2);
    CHECK(r.contacts[0].phone == "+14155550100");
    CHECK(r.contacts[0].line == 2);
    CHECK(r.contacts[0].timezone == "America/Chicago");
    CHECK(r.contacts[0].variables == json{{"name", "Alicia"}, {"plan", "platinum"}});
    CHECK(r.contacts[1].phone == "+14155550101");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 4);
}

TEST_CASE("campaigns: CSV phone column aliases, and no phone column at all") {
    for (const char* header : {"Phone Number", "NUMBER", "to", " phone "}) {
        auto r = parse_contacts_csv(std::string(header) + ",name\n+14155550100,Al\n");
        INFO(header);
        CHECK(r.errors.empty());
        REQUIRE(r.contacts.size() == 1);
        CHECK(r.contacts[0].variables == json{{"name", "Al"}});
    }
    // "phone" wins over the other aliases, which then are ordinary variables.
    auto both = parse_contacts_csv("to,phone\n+14155550199,+14155550100\n");
    REQUIRE(both.contacts.size() == 1);
    CHECK(both.contacts[0].phone == "+14155550100");
    CHECK(both.contacts[0].variables == json{{"to", "+14155550199"}});

    auto none = parse_contacts_csv("name,email\nAlice,a@example.com\n");
    CHECK(none.contacts.empty());
    REQUIRE(none.errors.size() == 1);
    CHECK(none.errors[0].line == 0);
    CHECK(none.errors[0].message.find("no phone column") != std::string::npos);

    auto empty = parse_contacts_csv("");
    CHECK(empty.contacts.empty());
    REQUIRE(empty.errors.size() == 1);
    CHECK(empty.errors[0].line == 0);
}

TEST_CASE("campaigns: CSV empty header names are ignored, empty values omitted") {
    auto r = parse_contacts_csv("phone,,Name\n+14155550100,ignored,\n+14155550101,x,Zed\n");
    CHECK(r.errors.empty());
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].variables == json::object());
    CHECK(r.contacts[1].variables == json{{"name", "Zed"}});
}

// --- JSON ----------------------------------------------------------------------------------------------------------

TEST_CASE("campaigns: JSON array and {contacts: [...]} forms") {
    json items = json::array({
        {{"phone", "+1 415 555 0100"}, {"timezone", "America/New_York"}, {"variables", {{"name", "Al"}, {"age", 41}}}},
        {{"phone", "+919876543210"}, {"name", "Bo"}, {"vip", true}, {"tags", {"a", "b"}}},
    });
    for (const json& doc : {items, json{{"contacts", items}}}) {
        auto r = parse_contacts_json(doc);
        CHECK(r.errors.empty());
        REQUIRE(r.contacts.size() == 2);
        CHECK(r.contacts[0].phone == "+14155550100");
        CHECK(r.contacts[0].timezone == "America/New_York");
        CHECK(r.contacts[0].variables == json{{"name", "Al"}, {"age", 41}});
        CHECK(r.contacts[0].line == 1);
        CHECK(r.contacts[1].phone == "+919876543210");
        CHECK(r.contacts[1].timezone.empty());
        // Without "variables", the other members are the variables, with their JSON types.
        CHECK(r.contacts[1].variables == json{{"name", "Bo"}, {"vip", true}, {"tags", {"a", "b"}}});
        CHECK(r.contacts[1].line == 2);
    }
}

TEST_CASE("campaigns: JSON bad items are reported by item number, good ones kept") {
    json doc = json::array({
        {{"phone", "+14155550100"}},
        {{"phone", 14155550101}},
        {{"phone", "abc"}},
        "not an object",
        {{"name", "no phone"}},
        {{"phone", "+14155550105"}, {"timezone", "Mars/Base"}},
        {{"phone", "+14155550106"}, {"timezone", 5}},
        {{"phone", "+14155550107"}, {"variables", "x"}},
        {{"phone", "+14155550108"}, {"timezone", nullptr}},
    });
    auto r = parse_contacts_json(doc);
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].line == 1);
    CHECK(r.contacts[1].line == 9);
    CHECK(r.contacts[1].timezone.empty());
    REQUIRE(r.errors.size() == 7);
    CHECK(r.errors[0].line == 2);
    CHECK(r.errors[0].message == "item 2: phone: must be a string");
    CHECK(r.errors[1].line == 3);
    CHECK(r.errors[1].message == "item 3: phone: \"abc\" is not an E.164 number");
    CHECK(r.errors[2].message == "item 4: must be an object");
    CHECK(r.errors[3].message == "item 5: phone: missing");
    CHECK(r.errors[4].message == "item 6: timezone: \"Mars/Base\" is not a known IANA time zone");
    CHECK(r.errors[5].message == "item 7: timezone: must be a string");
    CHECK(r.errors[6].message == "item 8: variables: must be an object");
    CHECK(r.errors[6].line == 8);
}

TEST_CASE("campaigns: a JSON item with \"variables\" names any other member instead of dropping it") {
    json doc = json::array({{{"phone", "+14155550100"}, {"variables", {{"name", "Al"}}}, {"name", "Bo"}}});
    auto r = parse_contacts_json(doc);
    CHECK(r.contacts.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message == "item 1: name: unknown field");
}

TEST_CASE("campaigns: JSON duplicates merge, and documents of the wrong shape") {
    json doc = json::object();
    doc["contacts"] = json::array({
        {{"phone", "+14155550100"}, {"name", "Al"}, {"plan", "basic"}},
        {{"phone", "+1 (415) 555-0100"}, {"name", ""}, {"plan", "gold"}, {"timezone", "Europe/London"}},
    });
    auto r = parse_contacts_json(doc);
    CHECK(r.errors.empty());
    CHECK(r.duplicates == 1);
    REQUIRE(r.contacts.size() == 1);
    CHECK(r.contacts[0].line == 1);
    CHECK(r.contacts[0].timezone == "Europe/London");
    CHECK(r.contacts[0].variables == json{{"name", "Al"}, {"plan", "gold"}});

    for (const json& bad : {json{{"phone", "+14155550100"}}, json{{"contacts", "x"}}, json("x"), json(), json(3)}) {
        auto b = parse_contacts_json(bad);
        INFO(bad.dump());
        CHECK(b.contacts.empty());
        REQUIRE(b.errors.size() == 1);
        CHECK(b.errors[0].line == 0);
    }
    auto empty = parse_contacts_json(json::array());
    CHECK(empty.contacts.empty());
    CHECK(empty.errors.empty());
}

// --- retry policy --------------------------------------------------------------------------------------------------

TEST_CASE("campaigns: parse_retry reads members and keeps defaults") {
    auto d = parse_retry(json::object());
    REQUIRE(d);
    CHECK(d->max_attempts == 3);
    CHECK(d->backoff_s == 600);
    CHECK(d->on == std::vector<std::string>{"busy", "no-answer", "failed"});

    auto p = parse_retry(json{{"max_attempts", 5}, {"backoff_s", 0}, {"on", {"busy", "busy", "no-answer"}}});
    REQUIRE(p);
    CHECK(p->max_attempts == 5);
    CHECK(p->backoff_s == 0);
    CHECK(p->on == std::vector<std::string>{"busy", "no-answer"});

    auto never = parse_retry(json{{"on", json::array()}});
    REQUIRE(never);
    CHECK(never->on.empty());

    auto edges = parse_retry(json{{"max_attempts", 20}, {"backoff_s", 2592000}});
    REQUIRE(edges);
    CHECK(to_json(edges.value()) ==
          json{{"max_attempts", 20}, {"backoff_s", 2592000}, {"on", {"busy", "no-answer", "failed"}}});
    auto back = parse_retry(to_json(p.value()));
    REQUIRE(back);
    CHECK(back->max_attempts == 5);
    CHECK(back->on == p->on);
}

TEST_CASE("campaigns: parse_retry errors name the member") {
    CHECK(error_of(parse_retry(json{{"max_attempts", 0}})) == "retry.max_attempts: must be an integer from 1 to 20");
    CHECK(error_of(parse_retry(json{{"max_attempts", 21}})) == "retry.max_attempts: must be an integer from 1 to 20");
    CHECK(error_of(parse_retry(json{{"max_attempts", 2.5}})) == "retry.max_attempts: must be an integer from 1 to 20");
    CHECK(error_of(parse_retry(json{{"max_attempts", "3"}})) == "retry.max_attempts: must be an integer from 1 to 20");
    CHECK(error_of(parse_retry(json{{"backoff_s", -1}})) ==
          "retry.backoff_s: must be an integer from 0 to 2592000 (30 days)");
    CHECK(error_of(parse_retry(json{{"backoff_s", 2592001}})) ==
          "retry.backoff_s: must be an integer from 0 to 2592000 (30 days)");
    CHECK(error_of(parse_retry(json{{"backoff_s", 18446744073709551615ull}})) ==
          "retry.backoff_s: must be an integer from 0 to 2592000 (30 days)");
    CHECK(error_of(parse_retry(json{{"on", "busy"}})) == "retry.on: must be an array of outcomes (busy, no-answer, failed)");
    CHECK(error_of(parse_retry(json{{"on", {"busy", "answered"}}})) ==
          "retry.on[1]: \"answered\" is not a retryable outcome (busy, no-answer, failed)");
    CHECK(error_of(parse_retry(json{{"on", {"canceled"}}})) ==
          "retry.on[0]: \"canceled\" is not a retryable outcome (busy, no-answer, failed)");
    CHECK(error_of(parse_retry(json{{"on", {"busy", 7}}})) == "retry.on[1]: must be a string (busy, no-answer, failed)");
    CHECK(error_of(parse_retry(json{{"attempts", 3}})).rfind("retry.attempts: unknown member", 0) == 0);
    CHECK(error_of(parse_retry(json::array())) == "retry: must be an object");
    CHECK(error_of(parse_retry(json(5))) == "retry: must be an object");

    auto many = parse_retry(json{{"max_attempts", 0}, {"backoff_s", "x"}});
    REQUIRE_FALSE(many);
    CHECK(many.error().code == ErrorCode::invalid_request);
    CHECK(many.error().details.size() == 2);
}

TEST_CASE("campaigns: attempt_outcome maps call statuses") {
    CHECK(attempt_outcome("completed") == "answered");
    CHECK(attempt_outcome("busy") == "busy");
    CHECK(attempt_outcome("no-answer") == "no-answer");
    CHECK(attempt_outcome("no_answer") == "no-answer");
    CHECK(attempt_outcome("failed") == "failed");
    CHECK(attempt_outcome("canceled") == "canceled");
    CHECK(attempt_outcome("cancelled") == "canceled");
    CHECK(attempt_outcome("Completed") == "answered");
    CHECK(attempt_outcome("ringing") == "failed");
    CHECK(attempt_outcome("") == "failed");
}

TEST_CASE("campaigns: after_attempt retries what the policy names while attempts are left") {
    RetryPolicy policy;  // 3 attempts, 600 s, busy/no-answer/failed
    const std::int64_t now = utc_ms(2024, 6, 14, 10, 0);

    auto done = after_attempt(policy, "answered", 1, now);
    CHECK(done.state == "done");

    auto busy = after_attempt(policy, "busy", 1, now);
    CHECK(busy.state == "pending");
    CHECK(busy.next_attempt_at == now + 600'000);
    CHECK(after_attempt(policy, "no-answer", 2, now).state == "pending");
    CHECK(after_attempt(policy, "no-answer", 3, now).state == "failed");  // attempts used up
    CHECK(after_attempt(policy, "failed", 4, now).state == "failed");
    CHECK(after_attempt(policy, "canceled", 1, now).state == "failed");
    CHECK(after_attempt(policy, "answered", 3, now).state == "done");

    RetryPolicy busy_only;
    busy_only.on = {"busy"};
    busy_only.backoff_s = 2592000;
    busy_only.max_attempts = 20;
    auto later = after_attempt(busy_only, "busy", 19, now);
    CHECK(later.state == "pending");
    CHECK(later.next_attempt_at == now + 2'592'000'000LL);  // 30 days in ms does not overflow an int
    CHECK(after_attempt(busy_only, "busy", 20, now).state == "failed");
    CHECK(after_attempt(busy_only, "no-answer", 1, now).state == "failed");

    // Canceled is never retried, even by a policy built by hand that lists it.
    RetryPolicy odd;
    odd.on = {"canceled"};
    CHECK(after_attempt(odd, "canceled", 1, now).state == "failed");

    RetryPolicy once;
    once.max_attempts = 1;
    CHECK(after_attempt(once, "busy", 1, now).state == "failed");

    // From a call status to the next step, as the campaign runner chains them.
    CHECK(after_attempt(policy, attempt_outcome("completed"), 1, now).state == "done");
    CHECK(after_attempt(policy, attempt_outcome("no-answer"), 1, now).state == "pending");
}

// Found by the contacts_csv fuzz harness: a Latin-1 byte was kept in a variable, and storing the contact (JSON)
// threw, a 500 instead of a 400 naming the line.
TEST_CASE("campaigns: parse_contacts_csv refuses text that is not UTF-8, naming its line") {
    auto latin1 = parse_contacts_csv("phone,name\n+14155550100,Ana\n+14155550101,Jos\xE9\n");
    CHECK(latin1.contacts.empty());
    REQUIRE(latin1.errors.size() == 1);
    CHECK(latin1.errors[0].line == 0);
    CHECK(latin1.errors[0].message == "csv: line 3 is not valid UTF-8 (save the file as UTF-8)");

    auto utf8 = parse_contacts_csv("\xEF\xBB\xBFphone,name\n+14155550101,Jos\xC3\xA9\n");
    REQUIRE(utf8.contacts.size() == 1);
    CHECK(utf8.contacts[0].variables.dump() == "{\"name\":\"Jos\xC3\xA9\"}");
}
