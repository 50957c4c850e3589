// File helpers shared by the evaluation programs (dlp_eval, difficulty_train, difficulty_eval).
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace sy::eval {

// The whole file ("" when it cannot be read).
std::string readFile(const std::string& path);

// The JSON objects of a JSON-lines text; blank and unparsable lines are skipped.
std::vector<boost::json::value> parseJsonLines(const std::string& text);

}  // namespace sy::eval
