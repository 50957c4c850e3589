#include "connectors/surface.h"

#include "connectors/anthropic_answer.h"

namespace sy::connectors {

std::string_view toString(Surface surface) {
  switch (surface) {
    case Surface::OpenAi:
      return "openai";
    case Surface::Anthropic:
      return "anthropic";
  }
  return "openai";
}

std::unique_ptr<AnswerEncoder> newAnswerEncoder(Surface surface, unsigned status,
                                                bool event_stream, std::string_view model) {
  switch (surface) {
    case Surface::OpenAi:
      return nullptr;  // the canonical answer is already OpenAI's
    case Surface::Anthropic:
      return newAnthropicEncoder(status, event_stream, model);
  }
  return nullptr;
}

std::string errorBody(Surface surface, const Error& error) {
  return surface == Surface::Anthropic ? anthropicErrorBody(error) : openAiErrorBody(error);
}

std::string streamErrorEvent(Surface surface, const Error& error) {
  if (surface == Surface::Anthropic) {
    return "event: error\ndata: " + anthropicErrorBody(error) + "\n\n";
  }
  return "data: " + openAiErrorBody(error) + "\n\n";
}

}  // namespace sy::connectors
