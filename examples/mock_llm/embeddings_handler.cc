// POST /v1/embeddings in the OpenAI wire format: deterministic unit-norm vectors seeded by a hash
// of each input, as floats or base64 (little-endian float32).
#include <bit>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cstring>

#include "examples/mock_llm/handlers.h"
#include "examples/mock_llm/synth.h"

namespace sy::mock {
namespace {

constexpr int kDefaultDimensions = 16;
constexpr int64_t kMaxDimensions = 8192;
constexpr size_t kMaxInputs = 2048;

struct EmbeddingInput {
  uint64_t seed;
  int64_t tokens;
};

void badRequest(Reply& reply, std::string_view message, std::string_view param) {
  setOpenAiError(reply, 400, message, "invalid_request_error", param);
}

bool isTokenArray(const boost::json::value& v) {
  const boost::json::array* arr = v.if_array();
  if (arr == nullptr || arr->empty()) {
    return false;
  }
  for (const boost::json::value& t : *arr) {
    if (!t.is_int64() && !t.is_uint64()) {
      return false;
    }
  }
  return true;
}

EmbeddingInput tokenInput(const boost::json::array& tokens) {
  uint64_t seed = fnv1a({});
  for (const boost::json::value& t : tokens) {
    const uint64_t raw = t.is_int64() ? static_cast<uint64_t>(t.get_int64()) : t.get_uint64();
    seed = fnv1a(std::string_view(reinterpret_cast<const char*>(&raw), sizeof(raw)), seed);
  }
  return EmbeddingInput{seed, static_cast<int64_t>(tokens.size())};
}

// Collects the inputs; false (and a 400 reply) if `input` has none of the accepted shapes:
// a string, an array of strings, an array of token ids, or an array of token-id arrays.
bool collectInputs(const boost::json::value& input, std::vector<EmbeddingInput>& out,
                   Reply& reply) {
  auto add_string = [&out](const boost::json::string& s) {
    const std::string_view text(s.data(), s.size());
    out.push_back(EmbeddingInput{fnv1a(text), estimatePromptTokens(text.size(), 0)});
  };
  if (input.is_string()) {
    if (input.get_string().empty()) {
      badRequest(reply, "'$.input' is invalid: an empty string is not allowed.", "input");
      return false;
    }
    add_string(input.get_string());
    return true;
  }
  if (isTokenArray(input)) {
    out.push_back(tokenInput(input.get_array()));
    return true;
  }
  const boost::json::array* arr = input.if_array();
  if (arr == nullptr || arr->empty() || arr->size() > kMaxInputs) {
    badRequest(reply,
               "'$.input' is invalid: expected a non-empty string or an array of 1.." +
                   std::to_string(kMaxInputs) + " strings or token arrays.",
               "input");
    return false;
  }
  for (const boost::json::value& item : *arr) {
    if (item.is_string() && !item.get_string().empty()) {
      add_string(item.get_string());
    } else if (isTokenArray(item)) {
      out.push_back(tokenInput(item.get_array()));
    } else {
      badRequest(reply,
                 "'$.input' is invalid: every item must be a non-empty string or a "
                 "non-empty array of token ids.",
                 "input");
      return false;
    }
  }
  return true;
}

void appendFloats(std::string& out, const std::vector<float>& vec) {
  out += '[';
  char buf[32];
  for (size_t i = 0; i < vec.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), vec[i]);
    (void)ec;  // 32 bytes always hold the shortest float form
    out.append(buf, end);
  }
  out += ']';
}

void appendBase64Floats(std::string& out, std::vector<float>& vec) {
  if constexpr (std::endian::native == std::endian::big) {
    for (float& f : vec) {
      f = std::bit_cast<float>(std::byteswap(std::bit_cast<uint32_t>(f)));
    }
  }
  out += '"';
  appendBase64(out, vec.data(), vec.size() * sizeof(float));
  out += '"';
}

}  // namespace

void handleEmbeddings(const Request& request, ServerState& state, Reply& reply) {
  JsonBody json(request.body());
  if (!json.ok()) {
    return badRequest(
        reply, "We could not parse the JSON body of your request. (" + json.errorMessage() + ")",
        {});
  }
  const boost::json::object* obj = json.value().if_object();
  if (obj == nullptr) {
    return badRequest(reply, "Invalid request body: expected a JSON object.", {});
  }
  const boost::json::value* model = obj->if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return setOpenAiError(reply, 400, "Missing required parameter: 'model'.",
                          "invalid_request_error", "model", "missing_required_parameter");
  }
  const boost::json::value* input = obj->if_contains("input");
  if (input == nullptr) {
    return setOpenAiError(reply, 400, "Missing required parameter: 'input'.",
                          "invalid_request_error", "input", "missing_required_parameter");
  }
  int64_t dimensions = 0;
  if (!optionalPositiveInt(*obj, "dimensions", dimensions) || dimensions > kMaxDimensions) {
    return badRequest(
        reply,
        "Invalid 'dimensions': expected an integer in 1.." + std::to_string(kMaxDimensions) + ".",
        "dimensions");
  }
  bool base64 = false;
  if (const boost::json::value* fmt = obj->if_contains("encoding_format")) {
    if (!fmt->is_string() || (fmt->get_string() != "float" && fmt->get_string() != "base64")) {
      return badRequest(reply, "Invalid 'encoding_format': expected 'float' or 'base64'.",
                        "encoding_format");
    }
    base64 = fmt->get_string() == "base64";
  }
  std::vector<EmbeddingInput> inputs;
  if (!collectInputs(*input, inputs, reply)) {
    return;
  }
  auto controls = effectiveControls(state.controls.forRequest(), request, {});
  if (!controls) {
    return badRequest(reply, controls.error().message, {});
  }
  if (applyFailureControls(*controls, Provider::OpenAi, false, reply)) {
    return;
  }
  addRequestId("x-request-id", state, reply);
  const int dims = dimensions > 0 ? static_cast<int>(dimensions) : kDefaultDimensions;
  std::string& b = reply.body;
  b += "{\"object\":\"list\",\"data\":[";
  std::vector<float> vec;
  int64_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    b += i == 0 ? "{" : ",{";
    b += "\"object\":\"embedding\",\"index\":";
    appendInt(b, static_cast<int64_t>(i));
    b += ",\"embedding\":";
    embeddingVector(inputs[i].seed, dims, vec);
    if (base64) {
      appendBase64Floats(b, vec);
    } else {
      appendFloats(b, vec);
    }
    b += '}';
    tokens += inputs[i].tokens;
  }
  b += "],\"model\":";
  const boost::json::string& model_name = model->get_string();
  appendJsonString(b, std::string_view(model_name.data(), model_name.size()));
  b += ",\"usage\":{\"prompt_tokens\":";
  appendInt(b, tokens);
  b += ",\"total_tokens\":";
  appendInt(b, tokens);
  b += "}}";
}

}  // namespace sy::mock
