// The registry: create/find/list, the change observer, restore after a crash, shutdown.
#include "media/broadcast.hpp"
#include "media/ids.hpp"
#include "media_test_util.hpp"

#include <gtest/gtest.h>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;

class registry_test : public ::testing::Test {
  protected:
    registry_test() : registry_(make_config(dir_), clock_, test::inline_runner()) {
        registry_.on_change([this](const broadcast_record& r) { changes_.push_back(r); });
    }

    static packager_config make_config(const test::temp_dir& d) {
        packager_config c;
        c.data_dir = d.path().string();
        c.grace_period = 30s;
        return c;
    }

    test::temp_dir dir_;
    core::manual_clock clock_;
    broadcast_registry registry_;
    std::vector<broadcast_record> changes_;
};

TEST_F(registry_test, create_makes_id_key_and_record_and_tells_the_observer) {
    auto b = registry_.create("Friday jam");
    ASSERT_TRUE(b);
    const auto r = b->record();
    EXPECT_TRUE(is_valid_broadcast_id(r.id));
    EXPECT_EQ(r.id.size(), 12U);
    EXPECT_EQ(r.stream_key.substr(0, 5), "live_");
    EXPECT_EQ(r.stream_key.size(), 37U);
    EXPECT_EQ(r.title, "Friday jam");
    EXPECT_EQ(r.status, broadcast_status::idle);
    EXPECT_EQ(r.created_at, clock_.wall());
    EXPECT_FALSE(r.started_at);
    ASSERT_EQ(changes_.size(), 1U);
    EXPECT_EQ(changes_[0].id, r.id);
    EXPECT_EQ(changes_[0].status, broadcast_status::idle);
    EXPECT_EQ(registry_.config().grace_period, 30s);
}

TEST_F(registry_test, find_by_id_and_stream_key) {
    auto a = registry_.create("a");
    auto b = registry_.create("b");
    EXPECT_NE(a->id(), b->id());
    EXPECT_EQ(registry_.find(a->id()), a);
    EXPECT_EQ(registry_.find(b->id()), b);
    EXPECT_FALSE(registry_.find("nope"));
    EXPECT_EQ(registry_.find_by_stream_key(b->record().stream_key), b);
    EXPECT_FALSE(registry_.find_by_stream_key("live_0000"));
    EXPECT_FALSE(registry_.find_by_stream_key(""));
}

TEST_F(registry_test, observer_hears_every_status_change_in_order) {
    auto b = registry_.create("x");
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = true}));
    b->end_publish();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = true}));
    b->end_publish();
    clock_.advance(30s);
    registry_.tick();
    std::vector<broadcast_status> seen;
    for (const auto& c : changes_) {
        EXPECT_EQ(c.id, b->id());
        seen.push_back(c.status);
    }
    EXPECT_EQ(seen,
              (std::vector<broadcast_status>{
                  broadcast_status::idle, broadcast_status::live, broadcast_status::suspended,
                  broadcast_status::live, broadcast_status::suspended, broadcast_status::ended}));
    EXPECT_TRUE(changes_.back().ended_at.has_value());
}

TEST_F(registry_test, list_orders_live_then_idle_then_ended_newest_first) {
    auto idle_old = registry_.create("idle old");
    clock_.advance(1s);
    auto ended = registry_.create("ended");
    clock_.advance(1s);
    auto live_old = registry_.create("live old");
    clock_.advance(1s);
    auto idle_new = registry_.create("idle new");
    clock_.advance(1s);
    auto suspended_new = registry_.create("suspended new");
    ASSERT_TRUE(live_old->begin_publish({.video = true, .audio = false}));
    ASSERT_TRUE(suspended_new->begin_publish({.video = true, .audio = false}));
    suspended_new->end_publish();
    EXPECT_TRUE(registry_.end(ended->id()));
    EXPECT_TRUE(registry_.end(ended->id())); // idempotent
    EXPECT_FALSE(registry_.end("missing"));

    const auto l = registry_.list();
    std::vector<std::string> titles;
    for (const auto& b : l) {
        titles.push_back(b->record().title);
    }
    EXPECT_EQ(titles, (std::vector<std::string>{"suspended new", "live old", "idle new", "idle old",
                                                "ended"}));
    EXPECT_EQ(registry_.live_count(), 1U);
}

TEST_F(registry_test, restore_ends_crashed_broadcasts_and_rebuilds_their_vod) {
    // A previous run archived two segments of "crashed1" and died.
    {
        packager_config c = make_config(dir_);
        broadcast_record r;
        r.id = "crashed1";
        broadcast b(r, c, clock_, test::inline_runner());
        ASSERT_TRUE(b.begin_publish({.video = true, .audio = false}));
        for (const auto& f : test::video_frames(0, 4001)) {
            b.on_frame(f);
        }
        // no end(): the process "crashed"
    }
    const auto vod = dir_.path() / "vod" / "crashed1" / "index.m3u8";
    ASSERT_FALSE(std::filesystem::exists(vod));

    std::vector<broadcast_record> stored(4);
    stored[0].id = "crashed1";
    stored[0].status = broadcast_status::live;
    stored[0].stream_key = "live_k1";
    stored[1].id = "crashed2";
    stored[1].status = broadcast_status::suspended;
    stored[2].id = "idle1";
    stored[2].status = broadcast_status::idle;
    stored[2].stream_key = "live_k3";
    stored[3].id = "done1";
    stored[3].status = broadcast_status::ended;
    stored[3].ended_at = clock_.wall() - 1h;
    auto dup = stored[2];
    dup.title = "duplicate";
    stored.push_back(dup);
    registry_.restore(stored);

    ASSERT_EQ(registry_.list().size(), 4U);
    EXPECT_EQ(registry_.find("crashed1")->record().status, broadcast_status::ended);
    EXPECT_EQ(*registry_.find("crashed1")->record().ended_at, clock_.wall());
    EXPECT_EQ(registry_.find("crashed2")->record().status, broadcast_status::ended);
    EXPECT_EQ(registry_.find("idle1")->record().status, broadcast_status::idle);
    EXPECT_EQ(registry_.find("idle1")->record().title, "");
    EXPECT_EQ(*registry_.find("done1")->record().ended_at, clock_.wall() - 1h);
    EXPECT_EQ(registry_.find_by_stream_key("live_k3")->id(), "idle1");
    // Only the two that changed were reported.
    ASSERT_EQ(changes_.size(), 2U);
    EXPECT_EQ(changes_[0].id, "crashed1");
    EXPECT_EQ(changes_[0].status, broadcast_status::ended);
    EXPECT_EQ(changes_[1].id, "crashed2");
    // The VOD playlist of the crashed publish was rebuilt from the manifest.
    const auto text = test::read_file(vod);
    EXPECT_NE(text.find("#EXT-X-PLAYLIST-TYPE:VOD\n"), std::string::npos);
    EXPECT_NE(text.find("seg-1.ts\n#EXT-X-ENDLIST\n"), std::string::npos);
    // Restored idle broadcasts can be published to; ended ones cannot.
    EXPECT_TRUE(registry_.find("idle1")->begin_publish({.video = false, .audio = true}));
    EXPECT_FALSE(registry_.find("crashed1")->begin_publish({.video = false, .audio = true}));
}

TEST_F(registry_test, shutdown_ends_live_and_suspended_only) {
    auto live = registry_.create("live");
    auto suspended = registry_.create("suspended");
    auto idle = registry_.create("idle");
    ASSERT_TRUE(live->begin_publish({.video = true, .audio = false}));
    ASSERT_TRUE(suspended->begin_publish({.video = true, .audio = false}));
    suspended->end_publish();
    EXPECT_EQ(registry_.live_count(), 1U);
    registry_.shutdown();
    EXPECT_EQ(live->record().status, broadcast_status::ended);
    EXPECT_EQ(suspended->record().status, broadcast_status::ended);
    EXPECT_EQ(idle->record().status, broadcast_status::idle);
    EXPECT_EQ(registry_.live_count(), 0U);
}

TEST_F(registry_test, a_broadcast_outliving_its_registry_is_safe) {
    std::shared_ptr<broadcast> kept;
    {
        broadcast_registry r(packager_config{}, clock_, test::inline_runner());
        int calls = 0;
        r.on_change([&calls](const broadcast_record&) { ++calls; });
        kept = r.create("held by a session");
        EXPECT_EQ(calls, 1);
        r.on_change({}); // the observer's captures die with this scope
    }
    ASSERT_TRUE(kept->begin_publish({.video = true, .audio = false}));
    kept->end();
    EXPECT_EQ(kept->record().status, broadcast_status::ended);
}

} // namespace
} // namespace livehouse::media
