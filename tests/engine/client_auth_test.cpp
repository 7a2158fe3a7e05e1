// Who may call the facilitator: token files (owner-only, long enough, no key, never echoed) and the
// Authorization header that names a client by its token.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/facilitator/client_auth.hpp"
#include "engine/key_source.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::facilitator {
namespace {

const std::string kTokenA = "a-token-for-the-gate-0123456789abcdef";
const std::string kTokenB = "b-token-for-the-settle-job-0123456789";

TEST(TokenFile, IsReadTrimmedFromAnOwnerOnlyFile) {
  test::TempDir dir;
  auto token = load_token_file(dir.secret_file("t", "  " + kTokenA + "\n"));
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(*token, kTokenA);
}

TEST(TokenFile, RefusesLoosePermissionsWeakTokensAndNeverShowsTheToken) {
  test::TempDir dir;
  const std::string loose = dir.secret_file("loose", kTokenA);
  std::filesystem::permissions(loose, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  const std::string short_token(kMinTokenLength - 1, 'x');
  const std::string cases[] = {loose, dir.file("missing"), dir.secret_file("short", short_token),
                               dir.secret_file("spaces", "a token with spaces in it, 0123456789"),
                               dir.secret_file("huge", std::string(2000, 'x')), dir.path.string(),
                               dir.secret_file("key", "0x" + std::string(63, '0') + "1")};
  for (const auto& path : cases) {
    auto token = load_token_file(path);
    ASSERT_FALSE(token) << path;
    EXPECT_EQ(token.error().code, ErrorCode::invalid_payload);
    EXPECT_EQ(token.error().detail.find("xxxxxxxx"), std::string::npos) << token.error().detail;
    EXPECT_EQ(token.error().detail.find(kTokenA), std::string::npos) << token.error().detail;
  }
  EXPECT_NE(load_token_file(loose).error().detail.find("chmod 600"), std::string::npos);
  EXPECT_NE(load_token_file(dir.file("key")).error().detail.find("holds a private key"), std::string::npos);
}

TEST(ClientAuth, NamesTheClientWhoseTokenTheHeaderCarries) {
  test::TempDir dir;
  const Address receiver = *parse_address("0x3333333333333333333333333333333333333333");
  auto auth = ClientAuth::load({ClientConfig{"gate", dir.secret_file("a", kTokenA), {receiver}},
                                ClientConfig{"settle", dir.secret_file("b", kTokenB), {}}});
  ASSERT_TRUE(auth) << auth.error().to_string();

  const AuthenticatedClient* gate = auth->authenticate("Bearer " + kTokenA);
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->name, "gate");
  EXPECT_EQ(gate->receivers, std::vector<Address>{receiver});
  EXPECT_EQ(auth->authenticate("BEARER  " + kTokenB)->name, "settle");
  const std::vector<std::string> wrong_headers{
      "", kTokenA, "Bearer", "Bearer ", "Basic " + kTokenA, "Bearer " + kTokenA.substr(1), "Bearer " + kTokenA + "x",
      "Bearer " + kTokenA + kTokenB};
  for (const std::string& wrong : wrong_headers)
    EXPECT_EQ(auth->authenticate(wrong), nullptr) << wrong;
}

TEST(ClientAuth, RefusesUnreadableTokensAndTokensTwoClientsShare) {
  test::TempDir dir;
  auto missing = ClientAuth::load({ClientConfig{"gate", dir.file("nope"), {}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_config);
  EXPECT_NE(missing.error().detail.find("client gate"), std::string::npos) << missing.error().detail;

  auto shared = ClientAuth::load({ClientConfig{"one", dir.secret_file("a", kTokenA), {}},
                                  ClientConfig{"two", dir.secret_file("b", kTokenA + "\n"), {}}});
  ASSERT_FALSE(shared);
  EXPECT_NE(shared.error().detail.find("client two has the token of another client"), std::string::npos)
      << shared.error().detail;
}

}  // namespace
}  // namespace paychan::engine::facilitator
