#include "gateway/server/state/redis_resp.h"

namespace sy::server::redis {

void appendHeader(std::string& out, char type, size_t n) {
  char buffer[32];
  buffer[0] = type;
  char* end = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buffer, end);
}

void appendBulk(std::string& out, std::string_view arg) {
  appendHeader(out, '$', arg.size());
  out.append(arg);
  out.append("\r\n");
}

size_t encodedSize(const std::vector<std::string>& args) {
  size_t size = 0;
  for (const std::string& arg : args) {
    size += arg.size() + 16;
  }
  return size;
}

void encodeCommand(std::string& out, const std::vector<std::string>& args) {
  out.reserve(out.size() + 16 + encodedSize(args));
  appendHeader(out, '*', args.size());
  for (const std::string& arg : args) {
    appendBulk(out, arg);
  }
}

void ReplyParser::feed(std::string_view bytes) {
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

void ReplyParser::reset() {
  buffer_.clear();
  consumed_ = 0;
  error_.clear();
}

ReplyParser::Outcome ReplyParser::next(Reply& reply) {
  if (!error_.empty()) {
    return Outcome::Malformed;
  }
  // A partial reply is parsed again from its start when more bytes arrive: quadratic in the
  // number of reads per reply, which is fine for the few-hundred-byte replies read here.
  size_t pos = consumed_;
  Reply parsed;
  const Outcome outcome = parse(pos, parsed, 0);
  if (outcome == Outcome::Complete) {
    consumed_ = pos;
    reply = std::move(parsed);
  }
  return outcome;
}

ReplyParser::Outcome ReplyParser::line(size_t& pos, std::string_view& out) {
  const size_t end = buffer_.find("\r\n", pos);
  if (end == std::string::npos) {
    if (buffer_.size() - pos > static_cast<size_t>(kMaxBulk)) {
      error_ = "line longer than " + std::to_string(kMaxBulk) + " bytes";
      return Outcome::Malformed;
    }
    return Outcome::Incomplete;
  }
  out = std::string_view(buffer_).substr(pos, end - pos);
  pos = end + 2;
  return Outcome::Complete;
}

ReplyParser::Outcome ReplyParser::number(size_t& pos, int64_t& out) {
  std::string_view text;
  if (const Outcome outcome = line(pos, text); outcome != Outcome::Complete) {
    return outcome;
  }
  if (!parseDecimal(text, out)) {
    error_ = "malformed integer";
    return Outcome::Malformed;
  }
  return Outcome::Complete;
}

ReplyParser::Outcome ReplyParser::parse(size_t& pos, Reply& reply, int depth) {
  if (depth > kMaxDepth) {
    error_ = "arrays nested deeper than " + std::to_string(kMaxDepth);
    return Outcome::Malformed;
  }
  if (pos >= buffer_.size()) {
    return Outcome::Incomplete;
  }
  const char type = buffer_[pos++];
  switch (type) {
    case '+':
    case '-': {
      std::string_view text;
      if (const Outcome outcome = line(pos, text); outcome != Outcome::Complete) {
        return outcome;
      }
      reply.type = type == '+' ? Reply::Type::Status : Reply::Type::Error;
      reply.str.assign(text);
      return Outcome::Complete;
    }
    case ':': {
      reply.type = Reply::Type::Integer;
      return number(pos, reply.integer);
    }
    case '$': {
      int64_t length = 0;
      if (const Outcome outcome = number(pos, length); outcome != Outcome::Complete) {
        return outcome;
      }
      if (length == -1) {
        reply.type = Reply::Type::Nil;
        return Outcome::Complete;
      }
      if (length < 0 || length > kMaxBulk) {
        error_ = "bulk string length " + std::to_string(length) + " out of range";
        return Outcome::Malformed;
      }
      const size_t size = static_cast<size_t>(length);
      if (buffer_.size() - pos < size + 2) {
        return Outcome::Incomplete;
      }
      if (buffer_[pos + size] != '\r' || buffer_[pos + size + 1] != '\n') {
        error_ = "bulk string not terminated by CRLF";
        return Outcome::Malformed;
      }
      reply.type = Reply::Type::Bulk;
      reply.str.assign(buffer_, pos, size);
      pos += size + 2;
      return Outcome::Complete;
    }
    case '*': {
      int64_t count = 0;
      if (const Outcome outcome = number(pos, count); outcome != Outcome::Complete) {
        return outcome;
      }
      if (count == -1) {
        reply.type = Reply::Type::Nil;
        return Outcome::Complete;
      }
      if (count < 0 || count > kMaxElements) {
        error_ = "array length " + std::to_string(count) + " out of range";
        return Outcome::Malformed;
      }
      reply.type = Reply::Type::Array;
      for (int64_t i = 0; i < count; ++i) {
        Reply element;
        if (const Outcome outcome = parse(pos, element, depth + 1); outcome != Outcome::Complete) {
          return outcome;
        }
        reply.elements.push_back(std::move(element));
      }
      return Outcome::Complete;
    }
    default:
      error_ = "unexpected reply type byte " + std::to_string(static_cast<unsigned char>(type));
      return Outcome::Malformed;
  }
}

}  // namespace sy::server::redis
