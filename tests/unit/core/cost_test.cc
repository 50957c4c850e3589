#include <gtest/gtest.h>

#include "core/backend.h"

namespace sy {
namespace {

TEST(CostTest, PricesPromptCompletionAndCacheReadsEachAtTheirRate) {
  Cost cost{.input_per_mtok = 3.0, .output_per_mtok = 15.0, .cached_input_per_mtok = 0.3};
  // 1000 prompt tokens of which 800 came from the cache, 100 completion tokens.
  EXPECT_DOUBLE_EQ(cost.microUsd(1000, 100, 800), 200 * 3.0 + 800 * 0.3 + 100 * 15.0);
  EXPECT_DOUBLE_EQ(cost.usd(1000, 100, 800), (200 * 3.0 + 800 * 0.3 + 100 * 15.0) / 1e6);
}

TEST(CostTest, CacheReadsCostTheInputPriceWhenNoCachedPriceIsSet) {
  Cost cost{.input_per_mtok = 2.0, .output_per_mtok = 4.0, .cached_input_per_mtok = std::nullopt};
  EXPECT_DOUBLE_EQ(cost.microUsd(1000, 10, 600), cost.microUsd(1000, 10));
}

TEST(CostTest, NeverCountsMoreCachedTokensThanThePromptHad) {
  Cost cost{.input_per_mtok = 2.0, .output_per_mtok = 0, .cached_input_per_mtok = 1.0};
  EXPECT_DOUBLE_EQ(cost.microUsd(10, 0, 50), 10 * 1.0);
}

}  // namespace
}  // namespace sy
