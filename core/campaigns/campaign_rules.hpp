// The rules of an outbound campaign that need no I/O: contacts imported from CSV or JSON (E.164 phones validated,
// duplicates merged, bad rows reported by line without rejecting the good ones, extra columns kept as prompt
// variables), the calling window in IANA time zones (the campaign's, or a contact's own), and the retry policy
// that decides what happens to a contact after each attempt.
// Thread-safety: all functions are pure (time zone data is read through date-tz, which is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va::campaigns {

// --- contacts ------------------------------------------------------------------------------------------------------

struct ContactRow {
    std::string phone;                                       // E.164, normalised ("+14155550100")
    std::string timezone;                                    // IANA name; empty: the campaign's
    nlohmann::json variables = nlohmann::json::object();     // every other column, as strings (CSV) or values (JSON)
    int line = 0;                                            // CSV: 1-based line of the row; JSON: 1-based item
};

struct ImportError {
    int line = 0;         // as ContactRow::line; 0 for a problem with the whole document (no phone column, ...)
    std::string message;  // names the field and why
};

struct ImportResult {
    std::vector<ContactRow> contacts;  // in document order, duplicates merged into the first occurrence
    std::vector<ImportError> errors;
    int duplicates = 0;                // rows merged into an earlier row with the same phone
};

// Normalises a phone number to E.164: spaces, dashes, dots and parentheses are dropped; it must then be "+"
// followed by 8 to 15 digits, the first not 0. A leading "00" stands for "+". nullopt when it is not a number.
std::optional<std::string> normalize_e164(std::string_view raw);

// Whether `name` is a time zone of the system's IANA database ("Asia/Kolkata", "UTC").
bool valid_timezone(const std::string& name);

// CSV per RFC 4180 (quoted fields, doubled quotes, CRLF or LF, a BOM is skipped), first line the header. The phone
// column is "phone" (or "phone_number", "number", "to"), case-insensitive; an optional "timezone" (or "tz")
// column; every other non-empty header becomes a variable name (lower-cased, spaces to "_"). Empty lines are
// skipped. A row with a bad phone, a bad time zone or the wrong number of fields is an error of its line.
ImportResult parse_contacts_csv(std::string_view text);

// JSON: an array of objects, or {"contacts": [...]}. Each object has "phone" (string), optional "timezone", and
// either "variables" (an object) or other top-level members, which become variables.
ImportResult parse_contacts_json(const nlohmann::json& document);

// --- calling window ------------------------------------------------------------------------------------------------

struct CallingWindow {
    int start_minute = 0;          // minutes after local midnight
    int end_minute = 24 * 60;      // exclusive; less than start_minute: the window runs past midnight
    std::uint8_t days = 0x7f;      // bit 0 Monday ... bit 6 Sunday: days on which the window opens
    std::string timezone = "UTC";  // IANA
};

// {"start": "09:00", "end": "18:00", "days": ["mon", ..., "sun"], "timezone": "Asia/Kolkata"}; every member
// optional (defaults: the whole day, every day, UTC). Errors name the member ("window.start: ...").
Result<CallingWindow> parse_window(const nlohmann::json& j);
nlohmann::json to_json(const CallingWindow& window);

// The earliest time at or after `now_ms` when a call may be placed, in `contact_timezone` when it is not empty
// (else the window's). Local times that do not exist (a DST gap) open at the first instant after the gap.
std::int64_t next_window_open(const CallingWindow& window, const std::string& contact_timezone, std::int64_t now_ms);

// --- retry policy --------------------------------------------------------------------------------------------------

struct RetryPolicy {
    int max_attempts = 3;                                           // 1..20
    int backoff_s = 600;                                            // wait before the next attempt, 0..30 days
    std::vector<std::string> on = {"busy", "no-answer", "failed"};  // which outcomes are retried
};

// {"max_attempts": 3, "backoff_s": 600, "on": ["busy", "no-answer", "failed"]}; every member optional. Errors
// name the member ("retry.on[1]: ...").
Result<RetryPolicy> parse_retry(const nlohmann::json& j);
nlohmann::json to_json(const RetryPolicy& policy);

// What a contact's attempt ended as, from its call's final status: completed -> "answered"; busy, no-answer,
// failed as they are; canceled -> "canceled"; anything else -> "failed".
std::string attempt_outcome(const std::string& call_status);

struct NextStep {
    std::string state;                // "pending" (try again) | "done" (answered) | "failed" (gave up)
    std::int64_t next_attempt_at = 0; // for pending
};
// After attempt number `attempts` (1-based) ended as `outcome`: answered -> done; an outcome the policy retries,
// with attempts left -> pending after backoff_s; otherwise failed.
NextStep after_attempt(const RetryPolicy& policy, const std::string& outcome, int attempts, std::int64_t now_ms);

}  // namespace va::campaigns
