// The generated user-token secret: made once with mode 0600, reused, refused when too short,
// and never a partial file left behind.
#include "livehouse_test/temp_dir.hpp"
#include "server/auth_secret.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace livehouse::server {
namespace {

using livehouse::test::temp_dir;

TEST(AuthSecret, GeneratedOnceWithMode0600AndReused) {
    temp_dir dir;
    bool generated = false;
    auto s1 = load_or_create_auth_secret(dir.str(), generated);
    ASSERT_TRUE(s1) << s1.err().message;
    EXPECT_TRUE(generated);
    EXPECT_EQ(s1->size(), 64U);
    EXPECT_EQ(s1->find_first_not_of("0123456789abcdef"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat((dir.str() + "/auth.secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    // Only the secret file: the temporary it was written under is gone.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                            std::filesystem::directory_iterator()),
              1);

    auto s2 = load_or_create_auth_secret(dir.str(), generated);
    ASSERT_TRUE(s2);
    EXPECT_FALSE(generated);
    EXPECT_EQ(*s1, *s2);

    // Another data dir gets another secret.
    temp_dir other;
    auto s3 = load_or_create_auth_secret(other.str(), generated);
    ASSERT_TRUE(s3);
    EXPECT_NE(*s1, *s3);
}

TEST(AuthSecret, AnOperatorsFileIsReadTrimmed) {
    temp_dir dir;
    const std::string secret = "an operator's secret of 32+ bytes!";
    std::ofstream(dir.str() + "/auth.secret") << "  " << secret << "\n\n";
    bool generated = true;
    auto s = load_or_create_auth_secret(dir.str(), generated);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_FALSE(generated);
    EXPECT_EQ(*s, secret);
}

TEST(AuthSecret, ShortOrEmptyFilesAreRefusedWithoutQuotingThem) {
    temp_dir dir;
    std::ofstream(dir.str() + "/auth.secret") << "short-secret\n";
    bool generated = false;
    auto s = load_or_create_auth_secret(dir.str(), generated);
    ASSERT_FALSE(s);
    EXPECT_NE(s.err().message.find("shorter than 32 bytes"), std::string::npos);
    EXPECT_EQ(s.err().message.find("short-secret"), std::string::npos);
    std::ofstream(dir.str() + "/auth.secret", std::ios::trunc) << " \n";
    EXPECT_FALSE(load_or_create_auth_secret(dir.str(), generated));
}

TEST(AuthSecret, AnUnwritableDirIsAnError) {
    bool generated = false;
    auto s = load_or_create_auth_secret("/nonexistent-livehouse-dir", generated);
    ASSERT_FALSE(s);
    EXPECT_NE(s.err().message.find("cannot create"), std::string::npos) << s.err().message;
}

} // namespace
} // namespace livehouse::server
