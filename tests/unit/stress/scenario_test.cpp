// Scenario files: vars and --set, substitution, phases, flows, thresholds, and errors that name
// the key.
#include "stress/scenario.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace livehouse::stress {
namespace {

using namespace std::chrono_literals;

constexpr const char* status_scenario = R"toml(
name = "status burst"
[vars]
target = "http://127.0.0.1:9000"
rate = 500
broadcast = "b1"
[[phases]]
name = "steady"
executor = "constant-arrival-rate"
rate = "${rate}"
duration = "${duration}"
max_vus = 50
flow = "status"
[[phases]]
name = "spike"
executor = "spike"
rate = 2000
ramp = "500ms"
duration = "3s"
flow = "status"
[[flows.status]]
name = "status"
path = "/api/v1/broadcasts/${broadcast}/status"
headers = { Accept = "application/json" }
expect_status = 200
[thresholds]
"http_req_duration{step=status}" = ["p99 < 200ms", "max <= 1s"]
http_req_failed = ["rate == 0"]
)toml";

TEST(Scenario, DefaultsVarsAndSubstitution) {
    auto sc = parse_scenario(status_scenario, "t.toml", {});
    ASSERT_TRUE(sc) << sc.err().message;
    EXPECT_EQ(sc->name, "status burst");
    EXPECT_EQ(sc->target_host, "127.0.0.1");
    EXPECT_EQ(sc->target_port, 9000);
    ASSERT_EQ(sc->phases.size(), 2u);
    EXPECT_EQ(sc->phases[0].rate, 500);
    EXPECT_EQ(sc->phases[0].length, 10s) << "duration defaults to 10s";
    EXPECT_EQ(sc->phases[0].max_vus, 50u);
    EXPECT_EQ(sc->phases[1].kind, executor::spike);
    EXPECT_EQ(sc->phases[1].ramp, 500ms);
    const auto& steps = sc->flows.at("status");
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].path, "/api/v1/broadcasts/b1/status");
    EXPECT_EQ(steps[0].headers.at(0).second, "application/json");
    ASSERT_EQ(sc->thresholds.size(), 3u);
    EXPECT_EQ(sc->thresholds[0].step, "status");
    EXPECT_EQ(sc->thresholds[0].statistic, "p99");
    EXPECT_EQ(sc->thresholds[0].value, 200000) << "microseconds";
    EXPECT_EQ(sc->thresholds[1].value, 1000000);
}

TEST(Scenario, SetOverridesReachEveryUse) {
    auto sc = parse_scenario(status_scenario, "t.toml",
                             {{"target", "http://localhost:8081"},
                              {"duration", "2s"},
                              {"rate", "1234"},
                              {"broadcast", "zz"}});
    ASSERT_TRUE(sc) << sc.err().message;
    EXPECT_EQ(sc->target_host, "localhost");
    EXPECT_EQ(sc->target_port, 8081);
    EXPECT_EQ(sc->phases[0].rate, 1234);
    EXPECT_EQ(sc->phases[0].length, 2s);
    EXPECT_EQ(sc->phases[1].length, 3s) << "a literal duration is not a var";
    EXPECT_EQ(sc->flows.at("status")[0].path, "/api/v1/broadcasts/zz/status");

    auto unknown = parse_scenario(status_scenario, "t.toml", {{"rat", "1"}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.err().message.find("no variable \"rat\""), std::string::npos);
    auto bad = parse_scenario(status_scenario, "t.toml", {{"rate", "fast"}});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("phases[0].rate"), std::string::npos) << bad.err().message;
}

TEST(Scenario, RateShapes) {
    phase ramp;
    ramp.kind = executor::ramping_arrival_rate;
    ramp.start_rate = 100;
    ramp.rate = 300;
    ramp.length = 10s;
    EXPECT_DOUBLE_EQ(ramp.rate_at(0s), 100);
    EXPECT_DOUBLE_EQ(ramp.rate_at(5s), 200);
    EXPECT_DOUBLE_EQ(ramp.rate_at(10s), 300);
    phase spike;
    spike.kind = executor::spike;
    spike.rate = 1000;
    spike.ramp = 2s;
    spike.length = 10s;
    EXPECT_DOUBLE_EQ(spike.rate_at(0s), 0);
    EXPECT_DOUBLE_EQ(spike.rate_at(1s), 500);
    EXPECT_DOUBLE_EQ(spike.rate_at(5s), 1000);
}

TEST(Scenario, ErrorsNameTheKey) {
    const struct {
        const char* text;
        const char* expect;
    } cases[] = {
        {"[[phases]]\nrate=1\nflow=\"f\"\n", "no flow \"f\""},
        {"[[phases]]\nrate=1\nflow=\"f\"\nspeed=2\n[[flows.f]]\npath=\"/\"\n",
         "unknown key \"speed\""},
        {"[[phases]]\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\n", "rate > 0"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"x\"\n", "path: must start with /"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/${nope}\"\n",
         "unknown variable ${nope}"},
        {"[[phases]]\nrate=1\nduration=\"ten\"\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\n",
         "bad duration"},
        {"[vars]\ntarget=\"https://x\"\n[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\n",
         "expected http://"},
        {"x = [\n", "t.toml:"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/"
         "\"\n[thresholds]\nhttp_req_duration=[\"p98 < 1ms\"]\n",
         "statistic \"p98\""},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\n[thresholds]\nlatency=[\"p99 < "
         "1ms\"]\n",
         "unknown metric"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/"
         "\"\n[thresholds]\nhttp_req_duration=[\"p99 ~ 1ms\"]\n",
         "bad operator"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\nextract={id=\"id\"}\n",
         "a JSON path like"},
        {"[[phases]]\nrate=1\nflow=\"f\"\n[[flows.f]]\npath=\"/\"\ntimeout=\"100ms\"\n",
         "timeout: 1s..1h"},
        {"[[phases]]\nexecutor=\"chat-clients\"\nviewers=3\nbroadcast=\"b\"\n",
         "chat-clients that send need token_secret"},
        {"[[phases]]\nexecutor=\"chat-clients\"\nviewers=3\nsenders=4\nbroadcast=\"b\"\n",
         "senders: 0..viewers"},
        {"[[phases]]\nexecutor=\"chat-clients\"\nviewers=3\nsenders=0\nbroadcast=\"b\"\n"
         "message_bytes=20\n",
         "message_bytes: 48..500"},
        {"[[phases]]\nexecutor=\"chat-clients\"\nviewers=3\nsenders=0\n", "needs a broadcast"},
    };
    for (const auto& c : cases) {
        auto r = parse_scenario(c.text, "t.toml", {});
        ASSERT_FALSE(r) << c.text;
        EXPECT_NE(r.err().message.find(c.expect), std::string::npos)
            << c.text << "\n-> " << r.err().message;
    }
}

TEST(Scenario, ExtractedValuesAndBuiltinsAreFilledInPerRequest) {
    auto sc = parse_scenario(R"toml(
[vars]
host = "h1"
[[phases]]
rate = 1
flow = "f"
[[flows.f]]
path = "/reserve"
extract = { id = "$.id" }
[[flows.f]]
path = "/buy/${id}?vu=${__vu}&host=${host}"
)toml",
                             "t.toml", {});
    ASSERT_TRUE(sc) << sc.err().message;
    const auto& steps = sc->flows.at("f");
    EXPECT_FALSE(steps[0].dynamic);
    ASSERT_EQ(steps[0].extract.size(), 1u);
    EXPECT_EQ(steps[0].extract[0].second, "$.id");
    EXPECT_TRUE(steps[1].dynamic);
    EXPECT_EQ(steps[1].path, "/buy/${id}?vu=${__vu}&host=h1") << "scenario vars at parse time";
    auto filled = expand(steps[1].path, {{"id", "r7"}, {"__vu", "3"}});
    ASSERT_TRUE(filled);
    EXPECT_EQ(*filled, "/buy/r7?vu=3&host=h1");
    EXPECT_FALSE(expand(steps[1].path, {{"__vu", "3"}})) << "id was not extracted";
}

TEST(Scenario, Durations) {
    EXPECT_EQ(*parse_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_duration("10s"), 10s);
    EXPECT_EQ(*parse_duration("2m"), 120s);
    EXPECT_EQ(*parse_duration("1.5"), 1500ms);
    EXPECT_EQ(*parse_duration("40us"), 40us);
    for (const char* bad : {"", "s", "-1s", "1x", "1e99s"}) {
        EXPECT_FALSE(parse_duration(bad)) << bad;
    }
}

TEST(Scenario, ChatClientsAndStepTimeouts) {
    auto r = parse_scenario(R"toml(
[[phases]]
executor = "chat-clients"
viewers = 100
senders = 10
send_rate = 2
message_bytes = 64
ramp = "2s"
broadcast = "b1"
token_secret = "0123456789abcdef0123456789abcdef"
[[phases]]
rate = 1
flow = "f"
[[flows.f]]
path = "/"
timeout = "3s"
)toml",
                            "t.toml", {});
    ASSERT_TRUE(r) << r.err().message;
    const auto& chat = r->phases[0];
    EXPECT_EQ(chat.kind, executor::chat_clients);
    EXPECT_EQ(chat.vus, 100u);
    EXPECT_EQ(chat.senders, 10u);
    EXPECT_DOUBLE_EQ(chat.send_rate, 2);
    EXPECT_EQ(chat.message_bytes, 64u);
    EXPECT_EQ(chat.ramp, 2s);
    EXPECT_EQ(r->flows.at("f")[0].timeout, 3s);
    // Defaults: every client sends, 0.5/s, 48 bytes; a step's timeout is 10 s.
    auto d = parse_scenario(R"toml(
[[phases]]
executor = "chat-clients"
viewers = 7
broadcast = "b1"
token_secret = "0123456789abcdef0123456789abcdef"
[[phases]]
rate = 1
flow = "f"
[[flows.f]]
path = "/"
)toml",
                            "t.toml", {});
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ(d->phases[0].senders, 7u);
    EXPECT_DOUBLE_EQ(d->phases[0].send_rate, 0.5);
    EXPECT_EQ(d->phases[0].message_bytes, 48u);
    EXPECT_EQ(d->flows.at("f")[0].timeout, 10s);
}

TEST(Scenario, ConnectToAndLocalIps) {
    auto sc = parse_scenario(status_scenario, "t.toml",
                             {{"target", "http://live.example:8443"},
                              {"connect_to", "127.0.0.1:8081, [::1]:8082,"},
                              {"local_ips", "10.0.0.254-10.0.1.1, ::1"}});
    ASSERT_TRUE(sc) << sc.err().message;
    EXPECT_EQ(sc->target_authority, "live.example:8443");
    ASSERT_EQ(sc->connect_to.size(), 2U);
    EXPECT_EQ(sc->connect_to[1].host, "::1");
    EXPECT_EQ(sc->connect_to[1].port, 8082);
    // A range crosses octets, both ends included.
    ASSERT_EQ(sc->local_ips.size(), 5U);
    EXPECT_EQ(sc->local_ips.front().to_string(), "10.0.0.254");
    EXPECT_EQ(sc->local_ips[3].to_string(), "10.0.1.1");
    EXPECT_EQ(sc->local_ips[4].to_string(), "::1");

    for (const auto& [name, value, why] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"connect_to", "127.0.0.1", "vars.connect_to \"127.0.0.1\""},
             {"local_ips", "10.0.0.1-10.0.0.0", "first <= last"},
             {"local_ips", "10.0.0.0-10.255.0.0", "more than 4096 addresses"},
             {"local_ips", "host.example", "not an IP address"}}) {
        auto bad = parse_scenario(status_scenario, "t.toml", {{name, value}});
        ASSERT_FALSE(bad) << value;
        EXPECT_NE(bad.err().message.find(why), std::string::npos) << bad.err().message;
    }
}

TEST(Scenario, EveryScenarioInTheRepositoryParses) {
    // The files users start from (scenarios/*.toml) must be valid, with the one variable some
    // need from the command line (the node's token secret, for senders' tokens).
    const auto dir = std::filesystem::path(LIVEHOUSE_TEST_DATA) / ".." / ".." / "scenarios";
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".toml") {
            continue;
        }
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        std::vector<std::pair<std::string, std::string>> sets;
        if (text.str().find("token_secret") != std::string::npos) {
            sets.emplace_back("token_secret", "0123456789abcdef0123456789abcdef");
        }
        auto r = parse_scenario(text.str(), entry.path().filename().string(), sets);
        EXPECT_TRUE(r) << entry.path() << ": " << r.err().message;
        if (r) {
            EXPECT_FALSE(r->phases.empty()) << entry.path();
            EXPECT_FALSE(r->thresholds.empty()) << entry.path() << ": a scenario judges its run";
        }
        ++n;
    }
    EXPECT_GE(n, 6u) << "status, playlist, love, hls viewers, chat flood, spike";
}

} // namespace
} // namespace livehouse::stress
