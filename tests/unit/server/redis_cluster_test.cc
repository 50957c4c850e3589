// The Redis stores against a real three-master Redis Cluster on loopback (three redis-server
// children with --cluster-enabled yes, joined by `redis-cli --cluster create`): the client's slot
// function is Redis's, every script's keys share one slot (Redis refuses cross-slot calls), and
// MOVED replies are followed, so stores pointed at one master enforce limits whose keys live on
// the others, in exact and in synced mode; ASK replies are followed during a slot migration
// (opened with CLUSTER SETSLOT ... MIGRATING/IMPORTING, so they happen deterministically).
#include "gateway/server/state/redis_cluster.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <thread>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/redis_client.h"
#include "tests/unit/server/redis_test_server.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using redis::Reply;

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto binary = test_redis::findRedisServer();
    if (!binary || ::access("/usr/bin/redis-cli", X_OK) != 0) {
      GTEST_FAIL() << "redis-server and redis-cli are needed (scripts/install-deps)";
    }
    for (auto& node : nodes_) {
      // A cluster node also listens on port + 10000 (the cluster bus): pick ports that leave
      // room for it, and try again when the bus port is taken.
      bool started = false;
      for (int attempt = 0; attempt < 20 && !started; ++attempt) {
        const uint16_t port = test_redis::freeLoopbackPort();
        started = port > 0 && port < 55000 &&
                  node.start(*binary, port,
                             {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                              "--cluster-node-timeout", "2000"});
      }
      ASSERT_TRUE(started) << "redis-server (cluster mode) did not start";
    }
    std::vector<std::string> args = {"/usr/bin/redis-cli", "--cluster", "create"};
    for (auto& node : nodes_) {
      args.push_back("127.0.0.1:" + std::to_string(node.port()));
    }
    args.push_back("--cluster-yes");
    ASSERT_EQ(spawnAndWait(args), 0) << "redis-cli --cluster create failed";
    // Every node must agree the cluster is up before slots are served.
    const auto give_up = Clock::now() + 15s;
    for (auto& node : nodes_) {
      redis::Client client(options(node.port()));
      bool ok = false;
      while (!ok && Clock::now() < give_up) {
        const Result<Reply> info = run(client.command({"CLUSTER", "INFO"}));
        ok = info && info->str.find("cluster_state:ok") != std::string::npos;
        if (!ok) {
          std::this_thread::sleep_for(50ms);
        }
      }
      ASSERT_TRUE(ok) << "cluster not ok on port " << node.port();
    }
  }

  static int spawnAndWait(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      return -1;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static redis::Options options(uint16_t port) {
    redis::Options out;
    out.host = "127.0.0.1";
    out.port = port;
    out.timeout = 2s;
    return out;
  }

  std::unique_ptr<LimitStore> makeStore(std::chrono::milliseconds sync) {
    policies::StateConfig config;
    config.store = policies::StateConfig::Store::Redis;
    config.redis_url = "redis://127.0.0.1:" + std::to_string(nodes_[0].port());
    config.redis_timeout = 2s;
    config.redis_sync = sync;
    auto store = makeRedisLimitStore(config);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  template <class T>
  T run(net::awaitable<T> task) {
    std::optional<T> result;
    net::co_spawn(
        io_, [&]() -> net::awaitable<void> { result.emplace(co_await std::move(task)); },
        net::detached);
    io_.restart();
    const auto give_up = Clock::now() + 10s;
    while (!result && Clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    if (!result) {
      ADD_FAILURE() << "operation did not complete within 10 s";
      std::abort();
    }
    return std::move(*result);
  }

  // Admits `tries` requests of key `key` in team `team` (rpm 3 on the team); how many passed.
  int admitted(LimitStore& store, const std::string& key, const std::string& team, int tries) {
    int count = 0;
    for (int i = 0; i < tries; ++i) {
      AdmitRequest req;
      policies::Limits key_limits;
      key_limits.rpm = 100;
      key_limits.concurrency = 100;
      policies::Limits team_limits;
      team_limits.rpm = 3;
      team_limits.budget_day_usd = 10;
      req.subjects = {{"key:" + key, key_limits}, {"team:" + team, team_limits}};
      req.hash_tag = "team:" + team;
      req.micro_usd = 1000;
      req.request_id = key + "-" + std::to_string(i);
      Result<Admission> result = run(store.admit(req));
      EXPECT_TRUE(result) << result.error().message;
      if (result && result->admitted) {
        ++count;
        Usage used;
        used.micro_usd = 500;
        bool done = false;
        net::co_spawn(
            io_,
            [&]() -> net::awaitable<void> {
              co_await store.settle(req, used);
              done = true;
            },
            net::detached);
        while (!done) {
          io_.run_one_for(100ms);
        }
      }
    }
    return count;
  }

  // One command on node `i` itself (a fresh client: no slot map, so nothing is redirected away
  // from it for commands that are not about keys).
  Reply onNode(size_t i, std::vector<std::string> args) {
    redis::Client client(options(nodes_[i].port()));
    Result<Reply> reply = run(client.command(std::move(args)));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? *reply : Reply{};
  }

  std::string nodeId(size_t i) { return onNode(i, {"CLUSTER", "MYID"}).str; }

  // The index of the node that serves `slot`, from CLUSTER SLOTS.
  size_t ownerOf(uint16_t slot) {
    const Reply slots = onNode(0, {"CLUSTER", "SLOTS"});
    for (const Reply& range : slots.elements) {
      if (range.elements.size() >= 3 && range.elements[0].integer <= slot &&
          slot <= range.elements[1].integer) {
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (range.elements[2].elements.size() >= 2 &&
              range.elements[2].elements[1].integer == nodes_[i].port()) {
            return i;
          }
        }
      }
    }
    ADD_FAILURE() << "no node serves slot " << slot;
    return 0;
  }

  // How many times node `i` ran `command` (INFO commandstats), 0 if never.
  int64_t commandCalls(size_t i, const std::string& command) {
    const std::string stats = onNode(i, {"INFO", "commandstats"}).str;
    const std::string field = "cmdstat_" + command + ":calls=";
    const size_t at = stats.find(field);
    return at == std::string::npos ? 0 : std::stoll(stats.substr(at + field.size()));
  }

  int64_t keysInSlot(size_t i, uint16_t slot) {
    return onNode(i, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer;
  }

  // Opens the migration of `slot` from node `from` to node `to`.
  void startMigration(uint16_t slot, size_t from, size_t to) {
    EXPECT_EQ(
        onNode(to, {"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", nodeId(from)}).str,
        "OK");
    EXPECT_EQ(
        onNode(from, {"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", nodeId(to)}).str,
        "OK");
  }

  // Ends it: `slot` belongs to node `to` on every node.
  void endMigration(uint16_t slot, size_t to) {
    const std::string id = nodeId(to);
    for (size_t i : {to, (to + 1) % 3, (to + 2) % 3}) {
      EXPECT_EQ(onNode(i, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", id}).str, "OK");
    }
  }

  std::array<test_redis::RedisServer, 3> nodes_;
  net::io_context io_;
};

TEST_F(RedisClusterTest, KeySlotIsRedisClusterKeySlot) {
  redis::Client client(options(nodes_[0].port()));
  for (const std::string key : {"a", "sy:{team:eng}:key:alice:rpm", "sy:{team:eng}:rpm",
                                "{}x", "x{}", "{a}{b}", "sy:{key:k}:sync:day:2026-12-07"}) {
    const Result<Reply> slot = run(client.command({"CLUSTER", "KEYSLOT", key}));
    ASSERT_TRUE(slot) << slot.error().message;
    EXPECT_EQ(redis::keySlot(key), slot->integer) << key;
  }
}

TEST_F(RedisClusterTest, ExactStoreFollowsMovedAndEnforcesTeamsOnEveryNode) {
  auto store = makeStore(0ms);
  // Teams spread over the three masters; the store only knows the first.
  std::set<int> owners;
  for (int t = 0; t < 12; ++t) {
    const std::string team = "t" + std::to_string(t);
    owners.insert(redis::keySlot("{team:" + team + "}") * 3 / redis::kClusterSlots);
    EXPECT_EQ(admitted(*store, "k" + std::to_string(t), team, 5), 3) << team;
  }
  EXPECT_EQ(owners.size(), 3u) << "the teams should cover all three masters' slot ranges";
}

TEST_F(RedisClusterTest, SyncedStoreFollowsMoved) {
  auto a = makeStore(20ms);
  auto b = makeStore(20ms);
  for (int t = 0; t < 6; ++t) {
    const std::string team = "s" + std::to_string(t);
    EXPECT_EQ(admitted(*a, "ka" + std::to_string(t), team, 5), 3) << team;
    a->flush();
    EXPECT_EQ(admitted(*b, "kb" + std::to_string(t), team, 2), 0) << team;
  }
}

TEST(RedisRedirectTest, ParsesMovedAndAskRepliesAndNothingElse) {
  using Kind = redis::Redirect::Kind;
  const auto parse = [](std::string text) {
    Reply reply;
    reply.type = Reply::Type::Error;
    reply.str = std::move(text);
    return redis::parseRedirect(reply);
  };
  auto moved = parse("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Kind::Moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->host, "127.0.0.1");
  EXPECT_EQ(moved->port, 6381);
  auto ask = parse("ASK 16383 ::1:7000");  // IPv6, not bracketed
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Kind::Ask);
  EXPECT_EQ(ask->slot, 16383);
  EXPECT_EQ(ask->host, "::1");
  EXPECT_EQ(ask->port, 7000);
  auto unnamed = parse("ASK 12 :6380");  // a node that never learnt its address
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->host, "");
  for (const char* bad : {"ASK 16384 h:1", "ASK 1 h:0", "ASK 1 h:65536", "ASK x h:1", "ASK 1",
                          "ASKING 1 h:1", "MOVED 1 h", "TRYAGAIN Multiple keys", "ERR ASK 1 h:1"}) {
    EXPECT_FALSE(parse(bad)) << bad;
  }
  Reply status;
  status.type = Reply::Type::Status;
  status.str = "ASK 1 h:1";
  EXPECT_FALSE(redis::parseRedirect(status));
}

TEST_F(RedisClusterTest, FollowsAskOnceDuringASlotMigrationAndKeepsTheSlotWhereItIs) {
  const std::string staying = "{ask}staying";    // on the source until migrated
  const std::string arriving = "{ask}arriving";  // written during the migration
  const uint16_t slot = redis::keySlot(staying);
  const size_t source = ownerOf(slot);
  const size_t target = (source + 1) % 3;
  redis::Client client(options(nodes_[0].port()));
  ASSERT_EQ(run(client.command({"SET", staying, "old"}))->str, "OK");

  startMigration(slot, source, target);
  // The source lacks the key: ASK, and the target takes the command after ASKING.
  const int64_t askings = commandCalls(target, "asking");
  const Result<Reply> set = run(client.command({"SET", arriving, "new"}));
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->str, "OK");
  EXPECT_EQ(commandCalls(target, "asking"), askings + 1);
  EXPECT_EQ(keysInSlot(target, slot), 1);
  EXPECT_EQ(keysInSlot(source, slot), 1);
  const Result<Reply> arrived = run(client.command({"GET", arriving}));
  ASSERT_TRUE(arrived) << arrived.error().message;
  EXPECT_EQ(arrived->str, "new");

  // The slot map did not move: a key the source still holds is read there, the target never asked.
  const int64_t target_gets = commandCalls(target, "get");
  const Result<Reply> stayed = run(client.command({"GET", staying}));
  ASSERT_TRUE(stayed) << stayed.error().message;
  EXPECT_EQ(stayed->str, "old");
  EXPECT_EQ(commandCalls(target, "get"), target_gets);

  // The migration ends: the last key moves, the slot is the target's, and MOVED says so.
  EXPECT_EQ(onNode(source, {"MIGRATE", "127.0.0.1", std::to_string(nodes_[target].port()), "", "0",
                            "5000", "KEYS", staying})
                .str,
            "OK");
  endMigration(slot, target);
  const Result<Reply> after = run(client.command({"GET", staying}));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->str, "old");
  EXPECT_EQ(commandCalls(target, "asking"), askings + 2);  // the GET of `arriving` only
}

TEST_F(RedisClusterTest, ExactStoreNeverAdmitsOnHalfMigratedCountersDuringASlotMigration) {
  auto store = makeStore(0ms);
  // A key of no team (its own hash tag, one subject) and a key of a team (two subjects).
  const auto attempt = [&](const std::string& key, bool with_team) {
    AdmitRequest req;
    policies::Limits limits;
    limits.rpm = 3;
    req.subjects = {{"key:" + key, limits}};
    req.hash_tag = "key:" + key;
    if (with_team) {
      req.subjects.push_back({"team:" + key, limits});
      req.hash_tag = "team:" + key;
    }
    req.tokens = 10;
    req.request_id = key + std::to_string(Clock::now().time_since_epoch().count());
    const Result<Admission> result = run(store->admit(req));
    if (result && result->admitted) {
      bool done = false;
      net::co_spawn(
          io_,
          [&]() -> net::awaitable<void> {
            co_await store->settle(req, Usage{.tokens = 10, .micro_usd = 0});
            done = true;
          },
          net::detached);
      while (!done) {
        io_.run_one_for(100ms);
      }
    }
    return result && result->admitted;
  };
  for (const bool with_team : {false, true}) {
    const std::string key = with_team ? "teamed" : "solo";
    const uint16_t slot =
        redis::keySlot("{" + std::string(with_team ? "team:" : "key:") + key + "}");
    const size_t source = ownerOf(slot);
    const size_t target = (source + 1) % 3;
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(attempt(key, with_team)) << key << " " << i;
    }
    EXPECT_FALSE(attempt(key, with_team)) << key << ": rpm 3 is spent";

    // Mid-migration, before and after the counters moved: refused or failed, never admitted.
    startMigration(slot, source, target);
    EXPECT_FALSE(attempt(key, with_team)) << key << ": migrating, counters on the source";
    const Reply keys = onNode(source, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    ASSERT_FALSE(keys.elements.empty());
    std::vector<std::string> migrate = {
        "MIGRATE", "127.0.0.1", std::to_string(nodes_[target].port()), "", "0", "5000", "KEYS"};
    for (const Reply& name : keys.elements) {
      migrate.push_back(name.str);
    }
    EXPECT_EQ(onNode(source, migrate).str, "OK");
    EXPECT_FALSE(attempt(key, with_team)) << key << ": migrating, counters on the target";

    // After it, the target serves the slot with the counters that moved: still spent.
    endMigration(slot, target);
    EXPECT_FALSE(attempt(key, with_team)) << key << ": migrated";
  }
}

TEST_F(RedisClusterTest, RedisRefusesKeysOfTwoSlotsInOneScript) {
  // What the layout avoids: without a shared tag, one script's keys are refused.
  redis::Client client(options(nodes_[0].port()));
  const std::string tagged = "sy:{team:x}:rpm";
  std::string other = "sy:{key:y}:rpm";
  ASSERT_NE(redis::keySlot(tagged), redis::keySlot(other));
  const Result<Reply> reply =
      run(client.command({"EVAL", "return 1", "2", tagged, other}));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->type, Reply::Type::Error);
  EXPECT_TRUE(reply->str.starts_with("CROSSSLOT") || reply->str.starts_with("MOVED"))
      << reply->str;
}

}  // namespace
}  // namespace sy::server
