// Result<T> and Error: the error-handling vocabulary of the whole code base (an expected-like type, since C++20
// has no std::expected). Error codes say whether a failure is permanent or transient; the REST layer maps them
// to HTTP statuses in one place. Value types: no shared state, safe to move between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace va {

enum class ErrorCode {
    invalid_request,   // bad input: which field and why (400)
    unauthenticated,   // missing or bad credentials (401)
    forbidden,         // authenticated but not allowed (403)
    not_found,         // absent, or belongs to another workspace (404)
    conflict,          // uniqueness or state conflict (409)
    too_large,         // body or field too large (413)
    unsupported_media_type,  // wrong Content-Type (415)
    unprocessable,     // well-formed but semantically invalid (422)
    rate_limited,      // slow down (429), transient
    timeout,           // transient
    unavailable,       // connectivity, draining, server error upstream; transient
    quota,             // provider quota exhausted; permanent until changed
    bad_gateway,       // an upstream (provider, peer daemon) answered with something unreadable (502); not retried
    internal,          // a bug or an unexpected failure (500)
};

const char* to_string(ErrorCode code);
// The code whose to_string() is `name`, if any.
std::optional<ErrorCode> error_code_from_string(std::string_view name);
// The HTTP status an error answers with (400 invalid_request ... 503 unavailable, 402 quota).
int http_status(ErrorCode code);

// One problem with one field of the input, for error `details`.
struct FieldError {
    std::string field;
    std::string reason;
};

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
    std::string provider;                // vendor that failed, empty for our own errors
    std::vector<FieldError> details;     // per-field reasons for invalid input
    int retry_after_s = 0;               // for rate_limited

    bool transient() const {
        return code == ErrorCode::rate_limited || code == ErrorCode::timeout || code == ErrorCode::unavailable;
    }
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message), {}, {}, 0}; }
inline Error invalid_field(std::string field, std::string reason) {
    std::string msg = field + ": " + reason;
    return Error{ErrorCode::invalid_request, std::move(msg), {}, {FieldError{std::move(field), std::move(reason)}}, 0};
}
inline Error not_found(std::string what) { return Error{ErrorCode::not_found, std::move(what) + " not found", {}, {}, 0}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(m_v); }
    const T& value() const& { assert(ok()); return std::get<0>(m_v); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(m_v); }
    Error&& take_error() { assert(!ok()); return std::get<1>(std::move(m_v)); }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: success carries nothing.
struct Ok {};
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Ok) {}
    Result(Error error) : m_error(std::move(error)), m_ok(false) {}
    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error& error() const { assert(!m_ok); return m_error; }
    Error&& take_error() { assert(!m_ok); return std::move(m_error); }

private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

}  // namespace va
