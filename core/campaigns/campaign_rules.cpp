// Campaign rules: contact import, calling windows and retry decisions (see campaign_rules.hpp).
#include "core/campaigns/campaign_rules.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <limits>
#include <unordered_map>
#include <utility>

#include "core/util/utf8.hpp"

namespace va::campaigns {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 7> kDayShort = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kDayLong = {"monday", "tuesday", "wednesday", "thursday",
                                                      "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 3> kRetryable = {"busy", "no-answer", "failed"};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

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
    std::string l = lower(trim(name));
    for (std::size_t i = 0; i < kDayShort.size(); ++i) {
        if (l == kDayShort[i] || l == kDayLong[i]) return static_cast<int>(i);
    }
    return std::nullopt;
}

// A value that carries something worth keeping when a duplicate row is merged into an earlier one.
bool non_empty(const Json& v) {
    if (v.is_null()) return false;
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    return true;
}

// Collects contacts, merging duplicates into the first occurrence.
class ContactSink {
public:
    explicit ContactSink(ImportResult& result) : m_result(result) {}

    void add(ContactRow row) {
        auto it = m_index.find(row.phone);
        if (it == m_index.end()) {
            m_index.emplace(row.phone, m_result.contacts.size());
            m_result.contacts.push_back(std::move(row));
            return;
        }
        ContactRow& first = m_result.contacts[it->second];
        if (!row.timezone.empty()) first.timezone = row.timezone;
        for (auto& [key, value] : row.variables.items()) {
            if (non_empty(value)) first.variables[key] = value;
        }
        ++m_result.duplicates;
    }

private:
    ImportResult& m_result;
    std::unordered_map<std::string, std::size_t> m_index;
};

// --- CSV reader ----------------------------------------------------------------------------------------------------

struct CsvRecord {
    std::vector<std::string> fields;
    int line = 0;       // physical line where the record starts
    bool blank = false; // a line with nothing on it (or only spaces)
    std::string error;  // malformed quoting; the record's fields are not to be trusted
};

class CsvReader {
public:
    explicit CsvReader(std::string_view text) : m_text(text) {}

    bool next(CsvRecord& out) {
        if (m_pos >= m_text.size()) return false;
        out = CsvRecord{};
        out.line = m_line;
        bool only_field_unquoted = true;
        while (true) {
            std::string field;
            bool was_quoted = read_field(field, out);
            if (was_quoted) only_field_unquoted = false;
            out.fields.push_back(std::move(field));
            if (m_pos >= m_text.size()) break;
            char c = m_text[m_pos];
            if (c == ',') {
                ++m_pos;
                continue;
            }
            consume_line_break();
            break;
        }
        out.blank = only_field_unquoted && out.fields.size() == 1 && out.fields[0].empty();
        return true;
    }

private:
    bool at_line_break() const { return m_pos < m_text.size() && (m_text[m_pos] == '\n' || m_text[m_pos] == '\r'); }

    // CRLF, LF and a lone CR each end one physical line.
    void consume_line_break() {
        if (m_text[m_pos] == '\r' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '\n') ++m_pos;
        ++m_pos;
        ++m_line;
    }

    void read_unquoted(std::string& field) {
        std::size_t begin = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != ',' && !at_line_break()) ++m_pos;
        field += trim(m_text.substr(begin, m_pos - begin));
    }

    // Returns whether the field was quoted. Spaces around a quoted field are allowed (`a, "b"`), as spreadsheets
    // and hand-edited files produce them.
    bool read_field(std::string& field, CsvRecord& record) {
        std::size_t start = m_pos;
        while (m_pos < m_text.size() && is_blank(m_text[m_pos])) ++m_pos;
        if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
            m_pos = start;
            read_unquoted(field);
            return false;
        }
        ++m_pos;
        while (true) {
            if (m_pos >= m_text.size()) {
                if (record.error.empty()) record.error = "unterminated quoted field";
                return true;
            }
            char c = m_text[m_pos];
            if (c == '"') {
                if (m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '"') {
                    field += '"';
                    m_pos += 2;
                    continue;
                }
                ++m_pos;
                break;
            }
            // Line breaks inside quotes are kept verbatim but still advance the physical line count.
            if (c == '\r') {
                field += c;
                ++m_pos;
                if (m_pos < m_text.size() && m_text[m_pos] == '\n') {
                    field += '\n';
                    ++m_pos;
                }
                ++m_line;
                continue;
            }
            if (c == '\n') ++m_line;
            field += c;
            ++m_pos;
        }
        while (m_pos < m_text.size() && is_blank(m_text[m_pos])) ++m_pos;
        if (m_pos < m_text.size() && m_text[m_pos] != ',' && !at_line_break()) {
            // `"abc"def` is not RFC 4180; guessing what was meant could turn it into a different phone number.
            if (record.error.empty()) record.error = "unexpected character after a closing quote";
            read_unquoted(field);
        }
        return true;
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line = 1;
};

std::string column_name(std::string_view header) {
    std::string name = lower(trim(header));
    std::replace(name.begin(), name.end(), ' ', '_');
    return name;
}

// The first column named by the highest-priority alias.
std::optional<std::size_t> find_column(const std::vector<std::string>& names,
                                       std::initializer_list<std::string_view> aliases) {
    for (auto alias : aliases) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] == alias) return i;
        }
    }
    return std::nullopt;
}

std::string phone_problem(const std::string& field, const std::string& raw) {
    if (trim(raw).empty()) return field + ": missing";
    return field + ": " + in_quotes(raw) + " is not an E.164 number";
}

std::string timezone_problem(const std::string& field, const std::string& raw) {
    return field + ": " + in_quotes(raw) + " is not a known IANA time zone";
}

void join_problem(std::string& all, const std::string& problem) {
    if (!all.empty()) all += "; ";
    all += problem;
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

// --- contacts ------------------------------------------------------------------------------------------------------

std::optional<std::string> normalize_e164(std::string_view raw) {
    std::string kept;
    kept.reserve(raw.size());
    for (char c : raw) {
        if (c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')') continue;
        if (c == '+') {
            if (!kept.empty()) return std::nullopt;
            kept += c;
            continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        kept += c;
    }
    if (kept.rfind("00", 0) == 0) kept.replace(0, 2, "+");
    if (kept.size() < 2 || kept[0] != '+') return std::nullopt;
    std::size_t digits = kept.size() - 1;
    if (digits < 8 || digits > 15 || kept[1] == '0') return std::nullopt;
    return kept;
}

bool valid_timezone(const std::string& name) { return find_zone(name) != nullptr; }

ImportResult parse_contacts_csv(std::string_view text) {
    ImportResult result;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    // Values become prompt variables stored as JSON, and error messages quote them: bytes that are not UTF-8
    // (a spreadsheet saved as Latin-1) would fail later, at serialisation, as an internal error.
    if (auto bad = utf8_error_offset(text); bad != text.size()) {
        auto line = 1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n');
        result.errors.push_back({0, "csv: line " + std::to_string(line) + " is not valid UTF-8 (save the file as UTF-8)"});
        return result;
    }

    CsvReader reader(text);
    CsvRecord header;
    bool have_header = false;
    while (reader.next(header)) {
        if (!header.blank) {
            have_header = true;
            break;
        }
    }
    if (!have_header) {
        result.errors.push_back({0, "csv: empty document, expected a header line"});
        return result;
    }
    if (!header.error.empty()) {
        result.errors.push_back({header.line, "line " + std::to_string(header.line) + ": header: " + header.error});
        return result;
    }

    std::vector<std::string> names;
    names.reserve(header.fields.size());
    for (const auto& h : header.fields) names.push_back(column_name(h));
    auto phone_col = find_column(names, {"phone", "phone_number", "number", "to"});
    if (!phone_col) {
        result.errors.push_back({0, "header: no phone column (expected \"phone\", \"phone_number\", \"number\" or \"to\")"});
        return result;
    }
    auto tz_col = find_column(names, {"timezone", "tz"});

    ContactSink sink(result);
    CsvRecord record;
    while (reader.next(record)) {
        if (record.blank) continue;
        std::string prefix = "line " + std::to_string(record.line) + ": ";
        if (!record.error.empty()) {
            result.errors.push_back({record.line, prefix + record.error});
            continue;
        }
        if (record.fields.size() != names.size()) {
            result.errors.push_back({record.line, prefix + "expected " + std::to_string(names.size()) +
                                                      " fields, got " + std::to_string(record.fields.size())});
            continue;
        }
        std::string problems;
        ContactRow row;
        row.line = record.line;
        const std::string& raw_phone = record.fields[*phone_col];
        if (auto phone = normalize_e164(raw_phone)) {
            row.phone = *phone;
        } else {
            join_problem(problems, phone_problem(names[*phone_col], raw_phone));
        }
        if (tz_col && !record.fields[*tz_col].empty()) {
            const std::string& tz = record.fields[*tz_col];
            if (valid_timezone(tz)) {
                row.timezone = tz;
            } else {
                join_problem(problems, timezone_problem(names[*tz_col], tz));
            }
        }
        if (!problems.empty()) {
            result.errors.push_back({record.line, prefix + problems});
            continue;
        }
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (i == *phone_col || (tz_col && i == *tz_col) || names[i].empty()) continue;
            if (record.fields[i].empty()) continue;
            // A repeated header merges into one variable; the rightmost non-empty value wins.
            row.variables[names[i]] = record.fields[i];
        }
        sink.add(std::move(row));
    }
    return result;
}

ImportResult parse_contacts_json(const nlohmann::json& document) {
    ImportResult result;
    const Json* items = nullptr;
    if (document.is_array()) {
        items = &document;
    } else if (document.is_object() && document.contains("contacts") && document["contacts"].is_array()) {
        items = &document["contacts"];
    } else {
        result.errors.push_back({0, "contacts: expected an array of contacts or {\"contacts\": [...]}"});
        return result;
    }

    ContactSink sink(result);
    int number = 0;
    for (const Json& item : *items) {
        ++number;
        std::string prefix = "item " + std::to_string(number) + ": ";
        if (!item.is_object()) {
            result.errors.push_back({number, prefix + "must be an object"});
            continue;
        }
        std::string problems;
        ContactRow row;
        row.line = number;

        auto phone_it = item.find("phone");
        if (phone_it == item.end() || phone_it->is_null()) {
            join_problem(problems, "phone: missing");
        } else if (!phone_it->is_string()) {
            join_problem(problems, "phone: must be a string");
        } else if (auto phone = normalize_e164(phone_it->get_ref<const std::string&>())) {
            row.phone = *phone;
        } else {
            join_problem(problems, phone_problem("phone", phone_it->get<std::string>()));
        }

        auto tz_it = item.find("timezone");
        if (tz_it != item.end() && !tz_it->is_null()) {
            if (!tz_it->is_string()) {
                join_problem(problems, "timezone: must be a string");
            } else if (const auto& tz = tz_it->get_ref<const std::string&>(); !tz.empty()) {
                if (valid_timezone(tz)) {
                    row.timezone = tz;
                } else {
                    join_problem(problems, timezone_problem("timezone", tz));
                }
            }
        }

        auto vars_it = item.find("variables");
        if (vars_it != item.end() && !vars_it->is_null()) {
            if (vars_it->is_object()) {
                row.variables = *vars_it;
            } else {
                join_problem(problems, "variables: must be an object");
            }
            // With "variables" given, any other member would be dropped without a word: name it instead.
            for (auto& [key, value] : item.items())
                if (key != "phone" && key != "timezone" && key != "variables") join_problem(problems, key + ": unknown field");
        } else {
            for (auto& [key, value] : item.items()) {
                if (key == "phone" || key == "timezone" || key == "variables") continue;
                row.variables[key] = value;
            }
        }

        if (!problems.empty()) {
            result.errors.push_back({number, prefix + problems});
            continue;
        }
        sink.add(std::move(row));
    }
    return result;
}

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
    std::string status = lower(trim(call_status));
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
