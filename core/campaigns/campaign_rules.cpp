// Campaign rules: calling windows and retry decisions (see campaign_rules.hpp; contact import is in
// contact_import.cpp).
#include "core/campaigns/campaign_rules.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <limits>
#include <utility>

#include "core/util/strings.hpp"

namespace va::campaigns {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 7> kDayShort = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kDayLong = {"monday", "tuesday", "wednesday", "thursday",
                                                      "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 3> kRetryable = {"busy", "no-answer", "failed"};

const date::time_zone* find_zone(const std::string& name) noexcept {
    if (name.empty()) return nullptr;
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        // Unknown names throw std::runtime_error; a missing tz database throws too, and neither may escape.
        return nullptr;
    }
}

// Field errors of one object, reported together so a user fixes all of them in one round trip.
struct FieldErrors {
    std::vector<FieldError> list;
    void add(std::string field, std::string reason) { list.push_back({std::move(field), std::move(reason)}); }
    bool empty() const { return list.empty(); }
    Error error() const {
        std::string message;
        for (const auto& e : list) {
            if (!message.empty()) message += "; ";
            message += e.field + ": " + e.reason;
        }
        return Error{ErrorCode::invalid_request, std::move(message), {}, list, 0};
    }
};

// An integer member within [lo, hi]; floats are refused rather than truncated, so 2.5 attempts is an error.
std::optional<std::int64_t> bounded_int(const Json& v, std::int64_t lo, std::int64_t hi) {
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(hi)) return std::nullopt;
        auto s = static_cast<std::int64_t>(u);
        return s >= lo ? std::optional<std::int64_t>(s) : std::nullopt;
    }
    if (v.is_number_integer()) {
        auto s = v.get<std::int64_t>();
        return (s >= lo && s <= hi) ? std::optional<std::int64_t>(s) : std::nullopt;
    }
    return std::nullopt;
}

// "HH:MM" (hour may have one digit) to minutes after midnight; max_minute is 1439 for a start, 1440 for an end.
std::optional<int> parse_hhmm(std::string_view s, int max_minute) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() - colon != 3) return std::nullopt;
    int hours = 0;
    for (std::size_t i = 0; i < colon; ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        hours = hours * 10 + (s[i] - '0');
    }
    if (s[colon + 1] < '0' || s[colon + 1] > '9' || s[colon + 2] < '0' || s[colon + 2] > '9') return std::nullopt;
    int minutes = (s[colon + 1] - '0') * 10 + (s[colon + 2] - '0');
    if (minutes > 59) return std::nullopt;
    int total = hours * 60 + minutes;
    if (total > max_minute) return std::nullopt;
    return total;
}

std::string format_hhmm(int minute) {
    std::string out = "00:00";
    int h = minute / 60, m = minute % 60;
    out[0] = static_cast<char>('0' + h / 10);
    out[1] = static_cast<char>('0' + h % 10);
    out[3] = static_cast<char>('0' + m / 10);
    out[4] = static_cast<char>('0' + m % 10);
    return out;
}

std::optional<int> parse_day(std::string_view name) {
    std::string l = to_lower(trim_blanks(name));
    for (std::size_t i = 0; i < kDayShort.size(); ++i) {
        if (l == kDayShort[i] || l == kDayLong[i]) return static_cast<int>(i);
    }
    return std::nullopt;
}

// --- calling window arithmetic -------------------------------------------------------------------------------------

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// Years 1..9999: far beyond any real schedule, and keeps day arithmetic in milliseconds from overflowing.
constexpr std::int64_t kMinMs = -62135596800000;
constexpr std::int64_t kMaxMs = 253402300799999;

using LocalMin = date::local_time<std::chrono::minutes>;
using SysMs = date::sys_time<std::chrono::milliseconds>;

// Local wall time to the instant it names. Ambiguous times (a DST fall-back) take the earlier instant; times in a
// gap (spring forward) become the transition itself, the first instant after the gap.
SysMs local_to_sys(const date::time_zone* zone, LocalMin local) {
    if (zone == nullptr) return SysMs{local.time_since_epoch()};
    auto info = zone->get_info(local);
    if (info.result == date::local_info::nonexistent) return SysMs{info.first.end.time_since_epoch()};
    return SysMs{local.time_since_epoch() - info.first.offset};
}

std::int64_t next_open_in(const CallingWindow& window, const date::time_zone* zone, std::int64_t now_ms) {
    SysMs now{std::chrono::milliseconds{now_ms}};
    date::local_time<std::chrono::milliseconds> local_now =
        zone != nullptr ? zone->to_local(now) : date::local_time<std::chrono::milliseconds>{now.time_since_epoch()};
    date::local_days today = date::floor<date::days>(local_now);

    int close_minute = window.end_minute > window.start_minute ? window.end_minute : window.end_minute + 24 * 60;
    std::int64_t best = kNever;
    // From yesterday, whose window may run past midnight into now, to a week ahead, where every weekday recurs.
    for (int offset = -1; offset <= 8; ++offset) {
        date::local_days day = today + date::days{offset};
        unsigned iso = date::weekday{day}.iso_encoding();  // 1 Monday ... 7 Sunday
        if ((window.days & (1u << (iso - 1))) == 0) continue;
        SysMs open = local_to_sys(zone, LocalMin{day} + std::chrono::minutes{window.start_minute});
        SysMs close = local_to_sys(zone, LocalMin{day} + std::chrono::minutes{close_minute});
        if (open <= now && now < close) return now_ms;
        if (open > now) best = std::min<std::int64_t>(best, open.time_since_epoch().count());
    }
    return best;
}

}  // namespace

bool valid_timezone(const std::string& name) { return find_zone(name) != nullptr; }

// --- calling window ------------------------------------------------------------------------------------------------

Result<CallingWindow> parse_window(const nlohmann::json& j) {
    if (!j.is_object()) return invalid_field("window", "must be an object");
    CallingWindow window;
    FieldErrors errors;
    bool start_ok = true, end_ok = true;
    for (auto& [key, value] : j.items()) {
        if (key == "start") {
            auto minute = value.is_string() ? parse_hhmm(value.get_ref<const std::string&>(), 24 * 60 - 1)
                                            : std::nullopt;
            if (minute) {
                window.start_minute = *minute;
            } else {
                start_ok = false;
                errors.add("window.start", "must be HH:MM (00:00-23:59)");
            }
        } else if (key == "end") {
            auto minute = value.is_string() ? parse_hhmm(value.get_ref<const std::string&>(), 24 * 60) : std::nullopt;
            if (minute) {
                window.end_minute = *minute;
            } else {
                end_ok = false;
                errors.add("window.end", "must be HH:MM (00:00-24:00)");
            }
        } else if (key == "days") {
            if (!value.is_array()) {
                errors.add("window.days", "must be an array of day names (mon..sun)");
                continue;
            }
            if (value.empty()) {
                errors.add("window.days", "at least one day");
                continue;
            }
            std::uint8_t days = 0;
            for (std::size_t i = 0; i < value.size(); ++i) {
                std::string field = "window.days[" + std::to_string(i) + "]";
                std::optional<int> day =
                    value[i].is_string() ? parse_day(value[i].get_ref<const std::string&>()) : std::nullopt;
                if (!day) {
                    errors.add(field, (value[i].is_string() ? in_quotes(value[i].get<std::string>()) : value[i].dump()) +
                                          " is not a day (mon..sun)");
                    continue;
                }
                days = static_cast<std::uint8_t>(days | (1u << *day));
            }
            window.days = days;
        } else if (key == "timezone") {
            if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
                errors.add("window.timezone", "must be an IANA time zone name (\"Asia/Kolkata\")");
            } else if (!valid_timezone(value.get<std::string>())) {
                errors.add("window.timezone", in_quotes(value.get<std::string>()) + " is not a known IANA time zone");
            } else {
                window.timezone = value.get<std::string>();
            }
        } else {
            // A misspelt member silently ignored could mean calling people at night in the wrong zone.
            errors.add("window." + key, "unknown member (expected start, end, days, timezone)");
        }
    }
    // 0..1440 is the whole day; any other equal pair is a window that never opens, almost certainly a typo.
    if (start_ok && end_ok && window.start_minute == window.end_minute % (24 * 60) &&
        !(window.start_minute == 0 && window.end_minute == 24 * 60)) {
        errors.add("window.end", "must differ from window.start");
    }
    if (!errors.empty()) return errors.error();
    return window;
}

nlohmann::json to_json(const CallingWindow& window) {
    Json days = Json::array();
    for (std::size_t i = 0; i < kDayShort.size(); ++i) {
        if (window.days & (1u << i)) days.push_back(std::string(kDayShort[i]));
    }
    return Json{{"start", format_hhmm(std::clamp(window.start_minute, 0, 24 * 60))},
                {"end", format_hhmm(std::clamp(window.end_minute, 0, 24 * 60))},
                {"days", std::move(days)},
                {"timezone", window.timezone}};
}

// Returns INT64_MAX ("never") when the window cannot open: no day allowed, or bounds that parse_window refuses.
// An unknown zone falls back to the window's zone, then UTC: a contact must not be dropped for a typo in its row.
std::int64_t next_window_open(const CallingWindow& window, const std::string& contact_timezone, std::int64_t now_ms) {
    if ((window.days & 0x7f) == 0) return kNever;
    bool whole_day = window.start_minute == 0 && window.end_minute == 24 * 60;
    if (window.start_minute < 0 || window.start_minute >= 24 * 60 || window.end_minute < 0 ||
        window.end_minute > 24 * 60 || (!whole_day && window.start_minute == window.end_minute % (24 * 60))) {
        return kNever;
    }
    if (now_ms < kMinMs || now_ms > kMaxMs) return now_ms;

    const date::time_zone* zone = find_zone(contact_timezone);
    if (zone == nullptr) zone = find_zone(window.timezone);
    if (zone == nullptr) zone = find_zone("UTC");
    try {
        return next_open_in(window, zone, now_ms);
    } catch (const std::exception&) {
        // The tz library may throw on corrupt zone data; plain UTC arithmetic cannot.
        return next_open_in(window, nullptr, now_ms);
    }
}

// --- retry policy --------------------------------------------------------------------------------------------------

Result<RetryPolicy> parse_retry(const nlohmann::json& j) {
    if (!j.is_object()) return invalid_field("retry", "must be an object");
    RetryPolicy policy;
    FieldErrors errors;
    for (auto& [key, value] : j.items()) {
        if (key == "max_attempts") {
            if (auto n = bounded_int(value, 1, 20)) {
                policy.max_attempts = static_cast<int>(*n);
            } else {
                errors.add("retry.max_attempts", "must be an integer from 1 to 20");
            }
        } else if (key == "backoff_s") {
            if (auto n = bounded_int(value, 0, 30 * 24 * 3600)) {
                policy.backoff_s = static_cast<int>(*n);
            } else {
                errors.add("retry.backoff_s", "must be an integer from 0 to 2592000 (30 days)");
            }
        } else if (key == "on") {
            if (!value.is_array()) {
                errors.add("retry.on", "must be an array of outcomes (busy, no-answer, failed)");
                continue;
            }
            policy.on.clear();
            for (std::size_t i = 0; i < value.size(); ++i) {
                std::string field = "retry.on[" + std::to_string(i) + "]";
                const Json& item = value[i];
                if (!item.is_string()) {
                    errors.add(field, "must be a string (busy, no-answer, failed)");
                    continue;
                }
                const auto& outcome = item.get_ref<const std::string&>();
                if (std::find(kRetryable.begin(), kRetryable.end(), outcome) == kRetryable.end()) {
                    errors.add(field, in_quotes(outcome) + " is not a retryable outcome (busy, no-answer, failed)");
                    continue;
                }
                if (std::find(policy.on.begin(), policy.on.end(), outcome) == policy.on.end()) {
                    policy.on.push_back(outcome);
                }
            }
        } else {
            errors.add("retry." + key, "unknown member (expected max_attempts, backoff_s, on)");
        }
    }
    if (!errors.empty()) return errors.error();
    return policy;
}

nlohmann::json to_json(const RetryPolicy& policy) {
    return Json{{"max_attempts", policy.max_attempts}, {"backoff_s", policy.backoff_s}, {"on", policy.on}};
}

std::string attempt_outcome(const std::string& call_status) {
    // Carriers and older rows spell some statuses differently (Exotel "no_answer", British "cancelled").
    std::string status = to_lower(trim_blanks(call_status));
    std::replace(status.begin(), status.end(), '_', '-');
    if (status == "completed") return "answered";
    if (status == "busy" || status == "no-answer" || status == "failed") return status;
    if (status == "canceled" || status == "cancelled") return "canceled";
    return "failed";
}

NextStep after_attempt(const RetryPolicy& policy, const std::string& outcome, int attempts, std::int64_t now_ms) {
    if (outcome == "answered") return NextStep{"done", 0};
    // A canceled call was stopped on purpose; retrying it would undo the cancel.
    bool retried = outcome != "canceled" && std::find(policy.on.begin(), policy.on.end(), outcome) != policy.on.end();
    if (retried && attempts < policy.max_attempts) {
        return NextStep{"pending", now_ms + static_cast<std::int64_t>(policy.backoff_s) * 1000};
    }
    return NextStep{"failed", 0};
}

}  // namespace va::campaigns
