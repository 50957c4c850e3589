// The value type for one upstream model server as the policy declares it. Shared by the router
// (catalog), connectors (request building) and the gateway (upstream client). Values only.
#pragma once

#include <chrono>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy {

// The wire protocol, and for OpenAI-compatible servers that differ elsewhere, the server: Ollama
// speaks the OpenAI API but has no `/health` (see defaultHealthPath).
enum class BackendKind { OpenAi, Ollama, Anthropic, AzureOpenAi };
enum class Location { SelfHosted, External };
enum class License { OsiOpenSource, OpenWeight, SourceAvailable, Proprietary };

std::string_view toString(BackendKind);
std::string_view toString(Location);
std::string_view toString(License);

// The path a backend of `kind` is health-checked on unless the policy names one: `/api/version`
// for Ollama (it answers 404 to /health), `/health` for the rest (vLLM, TGI, llama.cpp's server).
std::string_view defaultHealthPath(BackendKind kind);

struct Cost {
  double input_per_mtok = 0;   // USD per million prompt tokens (amortized GPU cost if self-hosted)
  double output_per_mtok = 0;  // USD per million completion tokens
  // USD per million prompt tokens read from the provider's prompt cache; unset: input_per_mtok.
  std::optional<double> cached_input_per_mtok;

  // What `tokens_in` prompt tokens (`cached_in` of them cache reads) and `tokens_out` completion
  // tokens cost, in micro-USD (a price per million tokens times a token count) and in USD.
  double microUsd(uint64_t tokens_in, uint64_t tokens_out, uint64_t cached_in = 0) const {
    const uint64_t cached = std::min(cached_in, tokens_in);
    return input_per_mtok * static_cast<double>(tokens_in - cached) +
           cached_input_per_mtok.value_or(input_per_mtok) * static_cast<double>(cached) +
           output_per_mtok * static_cast<double>(tokens_out);
  }
  double usd(uint64_t tokens_in, uint64_t tokens_out, uint64_t cached_in = 0) const {
    return microUsd(tokens_in, tokens_out, cached_in) / 1e6;
  }
};

// Where a backend lives on the network. `base_path` has no trailing slash ("" or "/openai").
struct UpstreamAddress {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string base_path;
};

struct BackendTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds first_byte{120'000};  // request sent -> response head received
  std::chrono::milliseconds idle{60'000};         // longest silence between two body reads
};

// The OpenAI generation APIs an OpenAI-compatible backend serves (the policy's `api:`). A request
// on the chat-completions or Anthropic surface uses chat completions when the backend serves it,
// else it is translated to the Responses API. `responses` is also what lets a request on the
// Responses surface pass through as it is (that surface is being built: issue 15).
struct ServedApis {
  bool chat_completions = true;  // POST /v1/chat/completions
  bool responses = false;        // POST /v1/responses
};

// What a backend's model supports; a request that needs a capability skips backends without it.
struct Capabilities {
  bool tools = true;      // `tools` / `functions` in the request
  bool vision = true;     // image parts in messages
  bool json_mode = true;  // response_format json_object / json_schema
};

// Active health checking: GET `path` every `interval`; 2xx is a pass. Self-hosted backends are
// checked by default, external ones only when the policy says so. `path` is from the server's
// root (see healthCheckTarget); its default depends on the kind (defaultHealthPath).
struct HealthCheckSpec {
  bool enabled = false;
  std::string path = "/health";
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds timeout{2'000};
};

struct BackendSpec {
  std::string name;
  BackendKind kind = BackendKind::OpenAi;
  std::string url;  // as written in the policy
  UpstreamAddress address;
  std::string model;        // the upstream's model id, sent in place of the client's
  std::string api_key_env;  // name of the env var with the upstream key ("" = none)
  // Azure OpenAI only (kind azure-openai; empty otherwise): the deployment (a URL path segment)
  // and the `api-version` query parameter, e.g. "2024-10-21".
  std::string deployment;
  std::string api_version;
  Location location = Location::SelfHosted;
  std::string region;
  License license = License::OpenWeight;
  Cost cost;
  uint32_t context_window = 0;  // tokens; 0 = unknown
  std::string ca_file;          // PEM bundle replacing the system CA store for this backend
  BackendTimeouts timeouts;
  uint32_t max_idle_connections = 64;  // per worker
  uint32_t weight = 1;                 // share of its tier's traffic, relative to the others
  Capabilities capabilities;
  ServedApis apis;  // OpenAI-wire kinds; the default depends on the kind (see the config loader)
  HealthCheckSpec health;
  // kind anthropic only: the max_tokens sent when the client names none (Anthropic requires it).
  uint32_t max_tokens = 4096;
};

// The request target of `backend`'s health check: its url's base path, less a trailing `/v1`
// (the OpenAI API's prefix, which servers do not put their health endpoints under), then the
// check's path. "http://h:8000/v1" + "/health" -> "/health"; "http://h/ollama" -> "/ollama/...".
std::string healthCheckTarget(const BackendSpec& backend);

}  // namespace sy
