// Campaign contacts imported from CSV or JSON (see campaign_rules.hpp): E.164 phones checked, duplicates merged,
// bad rows reported by line without rejecting the good ones, extra columns kept as prompt variables.
#include "core/campaigns/campaign_rules.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "core/util/strings.hpp"
#include "core/util/utf8.hpp"

namespace va::campaigns {

namespace {

using Json = nlohmann::json;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

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
        field += trim_blanks(m_text.substr(begin, m_pos - begin));
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
    std::string name = to_lower(trim_blanks(header));
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
    if (trim_blanks(raw).empty()) return field + ": missing";
    return field + ": " + in_quotes(raw) + " is not an E.164 number";
}

std::string timezone_problem(const std::string& field, const std::string& raw) {
    return field + ": " + in_quotes(raw) + " is not a known IANA time zone";
}

void join_problem(std::string& all, const std::string& problem) {
    if (!all.empty()) all += "; ";
    all += problem;
}

}  // namespace


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


}  // namespace va::campaigns
