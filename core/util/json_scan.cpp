#include "core/util/json_scan.hpp"

#include <cstring>

namespace va {

namespace {

constexpr std::size_t kMaxFields = 32;  // one bit each in the parents-entered mask
constexpr std::size_t kMaxNumberChars = 32;

// Recursive descent over the message; every function returns false to decline, leaving `p` wherever it was.
class Scanner {
public:
    Scanner(std::string_view text, std::span<JsonScanField> fields)
        : p(text.data()), end(text.data() + text.size()), m_fields(fields) {}

    bool run() {
        if (m_fields.size() > kMaxFields) return false;
        for (auto& f : m_fields) {
            f.kind = JsonKind::absent;
            f.text = {};
        }
        ws();
        if (p >= end || *p != '{') return false;
        static constexpr std::string_view top;
        if (!object(1, &top)) return false;
        ws();
        return p == end;
    }

private:
    void ws() {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
    }

    // `scope`: whose keys this object's keys are (the empty name: the message's own), nullptr when nothing asked
    // for lives in it.
    bool object(int depth, const std::string_view* scope) {
        if (depth > kMaxJsonScanDepth) return false;
        ++p;  // '{'
        ws();
        if (p < end && *p == '}') return ++p, true;
        for (;;) {
            if (p >= end || *p != '"') return false;
            std::string_view key;
            bool escaped = false;
            if (!string(key, escaped)) return false;
            ws();
            if (p >= end || *p != ':') return false;
            ++p;
            ws();
            JsonScanField* capture = nullptr;
            const std::string_view* children = nullptr;
            if (scope && !escaped) {  // the names asked for have no escapes, so an escaped key is none of them
                for (auto& f : m_fields) {
                    if (f.parent != *scope || f.key != key) continue;
                    if (f.kind != JsonKind::absent) return false;  // a duplicate: the last would win, decline
                    capture = &f;
                    break;
                }
                if (scope->empty() && !enter_parent(key, children)) return false;
            }
            if (!value(depth, capture, children)) return false;
            ws();
            if (p >= end) return false;
            if (*p == '}') return ++p, true;
            if (*p != ',') return false;
            ++p;
            ws();
        }
    }

    // A key of the message that is the parent of fields asked for: its object's keys are looked at (once).
    bool enter_parent(std::string_view key, const std::string_view*& children) {
        for (std::size_t i = 0; i < m_fields.size(); ++i) {
            if (m_fields[i].parent.empty() || m_fields[i].parent != key) continue;
            if (m_entered & (1u << i)) return false;  // a duplicate parent
            m_entered |= 1u << i;
            children = &m_fields[i].parent;
        }
        return true;
    }

    bool array(int depth) {
        if (depth > kMaxJsonScanDepth) return false;
        ++p;  // '['
        ws();
        if (p < end && *p == ']') return ++p, true;
        for (;;) {
            if (!value(depth, nullptr, nullptr)) return false;
            ws();
            if (p >= end) return false;
            if (*p == ']') return ++p, true;
            if (*p != ',') return false;
            ++p;
            ws();
        }
    }

    bool value(int depth, JsonScanField* capture, const std::string_view* children) {
        if (p >= end) return false;
        const char* start = p;
        JsonKind kind;
        switch (*p) {
            case '"': {
                std::string_view text;
                bool escaped = false;
                if (!string(text, escaped)) return false;
                if (capture) {
                    capture->kind = JsonKind::string;
                    capture->text = escaped ? unescape(text, capture->storage) : text;
                }
                return true;
            }
            case '{':
                if (!object(depth + 1, children)) return false;
                kind = JsonKind::object;
                break;
            case '[':
                if (!array(depth + 1)) return false;
                kind = JsonKind::array;
                break;
            case 't':
                if (!literal("true")) return false;
                kind = JsonKind::boolean;
                break;
            case 'f':
                if (!literal("false")) return false;
                kind = JsonKind::boolean;
                break;
            case 'n':
                if (!literal("null")) return false;
                kind = JsonKind::null;
                break;
            default:
                if (!number()) return false;
                kind = JsonKind::number;
                break;
        }
        if (capture) {
            capture->kind = kind;
            capture->text = kind == JsonKind::number ? std::string_view(start, std::size_t(p - start)) : std::string_view();
        }
        return true;
    }

    // At the opening quote. ASCII only, the short escapes only (\u is declined: surrogates are the full parser's).
    bool string(std::string_view& text, bool& escaped) {
        const char* start = ++p;
        while (p < end) {
            auto c = static_cast<unsigned char>(*p);
            if (c == '"') {
                text = std::string_view(start, std::size_t(p - start));
                ++p;
                return true;
            }
            if (c < 0x20 || c >= 0x80) return false;
            if (c == '\\') {
                escaped = true;
                if (++p >= end) return false;
                switch (*p) {
                    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': break;
                    default: return false;
                }
            }
            ++p;
        }
        return false;
    }

    // JSON's grammar without an exponent (declined: the full parser decides what a huge one means).
    bool number() {
        const char* start = p;
        if (*p == '-') ++p;
        if (p >= end) return false;
        if (*p == '0') {
            ++p;
        } else if (*p >= '1' && *p <= '9') {
            while (p < end && *p >= '0' && *p <= '9') ++p;
        } else {
            return false;
        }
        if (p < end && *p == '.') {
            ++p;
            const char* digits = p;
            while (p < end && *p >= '0' && *p <= '9') ++p;
            if (p == digits) return false;
        }
        if (p < end && (*p == 'e' || *p == 'E')) return false;
        return std::size_t(p - start) <= kMaxNumberChars;
    }

    bool literal(std::string_view word) {
        if (std::size_t(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return false;
        p += word.size();
        return true;
    }

    static std::string_view unescape(std::string_view raw, std::string& out) {
        out.clear();
        for (std::size_t i = 0; i < raw.size(); ++i) {
            char c = raw[i];
            if (c != '\\') {
                out += c;
                continue;
            }
            switch (raw[++i]) {  // validated: a short escape follows every backslash
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                default: out += raw[i]; break;  // " \ /
            }
        }
        return out;
    }

    const char* p;
    const char* end;
    std::span<JsonScanField> m_fields;
    std::uint32_t m_entered = 0;  // fields whose parent object was entered
};

}  // namespace

bool scan_json_fields(std::string_view message, std::span<JsonScanField> fields) {
    return Scanner(message, fields).run();
}

}  // namespace va
