#include "connectors/surface.h"

#include "connectors/anthropic_answer.h"
#include "connectors/responses_answer.h"

namespace sy::connectors {

std::string_view toString(Surface surface) {
  switch (surface) {
    case Surface::OpenAi:
      return "openai";
    case Surface::Anthropic:
      return "anthropic";
    case Surface::Responses:
      return "responses";
  }
  return "openai";
}

std::unique_ptr<AnswerEncoder> newAnswerEncoder(Surface surface, unsigned status,
                                                bool event_stream, std::string_view model,
                                                const boost::json::object* echo) {
  switch (surface) {
    case Surface::OpenAi:
      return nullptr;  // the canonical answer is already OpenAI's
    case Surface::Anthropic:
      return newAnthropicEncoder(status, event_stream, model);
    case Surface::Responses:
      return newResponsesEncoder(status, event_stream, model, echo);
  }
  return nullptr;
}

std::string errorBody(Surface surface, const Error& error) {
  return surface == Surface::Anthropic ? anthropicErrorBody(error) : openAiErrorBody(error);
}

std::string streamErrorEvent(Surface surface, const Error& error) {
  switch (surface) {
    case Surface::Anthropic:
      return "event: error\ndata: " + anthropicErrorBody(error) + "\n\n";
    case Surface::Responses:
      return responsesErrorEvent(error, 0);
    case Surface::OpenAi:
      break;
  }
  return "data: " + openAiErrorBody(error) + "\n\n";
}

}  // namespace sy::connectors
