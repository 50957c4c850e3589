#include "connectors/sse.h"

#include <gtest/gtest.h>

namespace sy::connectors {
namespace {

std::vector<SseEvent> feedBytewise(SseParser& parser, std::string_view text) {
  std::vector<SseEvent> all;
  for (char c : text) {
    for (auto& event : parser.feed(std::string_view(&c, 1))) {
      all.push_back(std::move(event));
    }
  }
  return all;
}

TEST(SseParserTest, ParsesOpenAiChunksFedInOnePiece) {
  SseParser parser;
  auto events = parser.feed("data: {\"a\":1}\n\ndata: [DONE]\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(SseParserTest, ReassemblesEventsSplitAtEveryByte) {
  SseParser parser;
  auto events = feedBytewise(parser, "event: message_start\ndata: {\"x\":\n\ndata: y\r\n\r\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(events[0].data, "{\"x\":");
  EXPECT_EQ(events[1].data, "y");
}

TEST(SseParserTest, HandlesCrLfSplitAcrossFeedsAsOneLineEnd) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("data: a\r").empty());
  EXPECT_TRUE(parser.feed("\n").empty());  // still one line end, not an empty line
  auto events = parser.feed("\r\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a");
}

// Found by fuzz_sse (tests/fuzz/corpus/sse/crash_crlf_ending_a_feed_then_lf): a whole "\r\n"
// ending a feed was taken for a split one, so the next feed's "\n" (a blank line) was skipped
// and two events merged into one.
TEST(SseParserTest, ACompleteCrLfEndingAFeedLeavesTheNextLfABlankLine) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("data: a\r\n").empty());
  auto events = parser.feed("\ndata: b\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
}

// Found by fuzz_sse (corpus/sse/crash_long_comment_split_across_feeds): a line longer than the
// bound dropped its event only when it arrived in pieces.
TEST(SseParserTest, ALineOverTheBoundDropsItsEventHoweverItArrives) {
  const std::string stream = ": " + std::string(40, 'c') + "\ndata: x\n\ndata: y\n\n";
  SseParser whole(16);
  auto events = whole.feed(stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "y");
  EXPECT_EQ(whole.droppedEvents(), 1u);
  SseParser pieces(16);
  events = feedBytewise(pieces, stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "y");
  EXPECT_EQ(pieces.droppedEvents(), 1u);
}

TEST(SseParserTest, JoinsMultipleDataLinesAndIgnoresCommentsAndUnknownFields) {
  SseParser parser;
  auto events = parser.feed(": keep-alive\nid: 7\nretry: 10\ndata: one\ndata:two\nfoo: bar\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "one\ntwo");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParserTest, EventsWithoutDataAreNotDispatched) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("event: ping\n\n").empty());
}

TEST(SseParserTest, DropsAnOversizedEventAndRecovers) {
  SseParser parser(16);
  auto events = parser.feed("data: " + std::string(64, 'x') + "\n\ndata: ok\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "ok");
  EXPECT_EQ(parser.droppedEvents(), 1u);
}

// The byte-exact scanner the gateway's own stream filters share.
TEST(ScanSseEventTest, FindsEachEventsEndAndFirstDataLineWhateverTheLineEnds) {
  const std::string_view text =
      "data: {\"a\":1}\n\n: comment\r\ndata:{\"b\":2}\r\ndata: more\r\n\r\nevent: x\rdata: c\r\r"
      "data: unfinished";
  SseEventSpan first = scanSseEvent(text, 0);
  EXPECT_EQ(first.data, "{\"a\":1}");
  EXPECT_EQ(first.data_lines, 1u);
  ASSERT_EQ(first.end, 15u);
  SseEventSpan second = scanSseEvent(text, first.end);
  EXPECT_EQ(second.data, "{\"b\":2}");
  EXPECT_EQ(second.data_lines, 2u);
  SseEventSpan third = scanSseEvent(text, second.end);
  EXPECT_EQ(third.data, "c");
  ASSERT_NE(third.end, std::string_view::npos);
  SseEventSpan last = scanSseEvent(text, third.end);
  EXPECT_EQ(last.end, std::string_view::npos);  // no blank line yet
  EXPECT_EQ(last.data, "unfinished");
}

}  // namespace
}  // namespace sy::connectors
