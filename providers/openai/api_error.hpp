// OpenAI's error answers ({"error": {"message", "type", "code"}}, provider-protocols.md 4.1) as Errors, shared by
// the chat and speech clients. Pure function, thread-safe.
#pragma once

#include <string_view>

#include "core/util/result.hpp"
#include "providers/common/http_client.hpp"

namespace va::openai {

// `who` names the server in the message ("the LLM server answered 429: ..."); insufficient_quota is a quota
// error (never retried), other statuses map as error_code_for_status says.
Error api_error(std::string_view who, const HttpResult& response);

}  // namespace va::openai
