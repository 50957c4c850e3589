#include "tests/eval/json_lines.h"

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

namespace sy::eval {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<boost::json::value> parseJsonLines(const std::string& text) {
  std::vector<boost::json::value> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    boost::system::error_code ec;
    boost::json::value row = boost::json::parse(line, ec);
    if (!ec && row.is_object()) {
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace sy::eval
