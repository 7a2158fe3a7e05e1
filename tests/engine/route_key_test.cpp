// Route matching under every spelling of a path an upstream may route alike: no spelling of a priced
// path gets through free, and free paths that are not spellings of a priced one stay free.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "engine/gate/gate_config.hpp"
#include "engine/gate/offers.hpp"
#include "engine/gate/route_key.hpp"

namespace paychan::engine::gate {
namespace {

OfferTable table_of(std::vector<RouteConfig> routes) {
  GateConfig c;
  c.network = "eip155:84532";
  c.routes = std::move(routes);
  return OfferTable::build(c);
}

OfferTable table() {
  return table_of({RouteConfig{"POST", "/v1/chat", 10'000, std::nullopt, std::nullopt},
                   RouteConfig{"GET", "/data/*", 500, std::nullopt, std::nullopt},
                   RouteConfig{"", "/v2/chat*", 700, std::nullopt, std::nullopt}});
}

TEST(RouteKey, ReducesEachSpellingAnUpstreamMayRouteAlike) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"/v1/chat", "/v1/chat"},          {"/V1/Chat", "/v1/chat"},        {"/v1/chat/", "/v1/chat"},
      {"/v1//chat", "/v1/chat"},         {"//v1/chat", "/v1/chat"},       {"/v1/./chat", "/v1/chat"},
      {"/v1/x/../chat", "/v1/chat"},     {"/../v1/chat", "/v1/chat"},     {"/v1/%63hat", "/v1/chat"},
      {"/v1%2Fchat", "/v1/chat"},        {"/v1/%2e%2e/v1/chat", "/v1/chat"}, {"/v1\\chat", "/v1/chat"},
      {"/v1/chat;jsessionid=1", "/v1/chat"}, {"/v1;x/chat", "/v1/chat"}, {"/v1/chat#top", "/v1/chat"},
      {"http://evil.example/v1/chat", "/v1/chat"}, {"HTTPS://h:1/v1/chat", "/v1/chat"},
      {"http://h", "/"},                 {"", "/"},                       {"/", "/"},
      {"/%zz/%4", "/%zz/%4"},           {"/%", "/%"},
  };
  for (const auto& [path, key] : cases) EXPECT_EQ(route_key(path), key) << path;
  // The readings upstreams disagree on: dots kept as segments (Express's wildcard takes ".."), and
  // a '#' that is not taken for a fragment.
  EXPECT_EQ(route_key("/Data/x/../..", KeyReading{false, true}), "/data/x/../..");
  EXPECT_EQ(route_key("/data/./x", KeyReading{false, true}), "/data/./x");
  EXPECT_EQ(route_key("/free#/../data", KeyReading{true, false}), "/data");
  EXPECT_EQ(route_key("/free#/../data", KeyReading{false, false}), "/free#/../data");
}

TEST(RouteKey, AKeyAlreadyNeedsNothingBuilt) {
  for (std::string_view path : {"/", "/v1/chat", "/data.d/x", "/a-b_c/1~2"}) {
    EXPECT_TRUE(is_route_key(path)) << path;
    for (const auto& read : route_keys(path)) EXPECT_EQ(read.key, path);
  }
  for (std::string_view path : {"", "v1", "/V1", "/v1/", "//v1", "/v1/./x", "/v1/..", "/%76", "/v1;x", "/v1\\x",
                                "/v1#x", "http://h/v1", "/.well-known", "/data/x.json"})
    EXPECT_FALSE(is_route_key(path)) << path;
}

TEST(RouteKey, NoSpellingOfAPricedPathIsFree) {
  const OfferTable offers = table();
  const Offer* chat = &offers.offers()[0];
  for (std::string_view path : {"/v1/chat", "/V1/CHAT", "/v1/chat/", "/v1/%63hat", "//v1//chat", "/x/../v1/chat",
                                "/v1/chat;a=b", "http://h/v1/chat", "/v1\\chat"})
    EXPECT_EQ(offers.find("POST", path), chat) << path;
  const Offer* data = &offers.offers()[1];
  for (std::string_view path : {"/data/x", "/DATA/x/y", "/data", "/data/", "/%64ata/x", "/x/../data/y"})
    EXPECT_EQ(offers.find("GET", path), data) << path;
  // Out of a priced prefix with "..": a server that resolves it lands elsewhere, one that does not
  // (Express's wildcard) serves the prefix's route. Priced either way.
  for (std::string_view path : {"/data/..", "/data/x/../..", "/data/%2e%2e", "/data/..;x", "/data\\..", "/free#/../data/x"})
    EXPECT_EQ(offers.find("GET", path), data) << path;
  EXPECT_EQ(offers.find("GET", "/v2/chat/.."), &offers.offers()[2]);
  EXPECT_EQ(offers.find("HEAD", "/data/x"), data) << "a GET route takes HEAD: frameworks answer it with GET's handler";
  for (std::string_view method : {"get", "gEt", "head"})
    EXPECT_EQ(offers.find(method, "/data/x"), data) << method << ": Werkzeug upper-cases a method before routing";
  EXPECT_EQ(offers.find("post", "/v1/chat"), chat);
  EXPECT_EQ(offers.find("GET", "/v2/chat-completions"), &offers.offers()[2]);
}

// The loosest routers' spellings: Rails routes "/v1/chat.json" (and "/v1/chat.") to "/v1/chat"
// through its default "(.:format)", Spring's suffix match did the same and its tokenizer trimmed
// blanks and control characters, and an upstream behind another decoding layer decodes twice.
TEST(RouteKey, AFormatSuffixABlankOrAnEscapeDecodedTwiceIsPricedToo) {
  using Format = KeyReading::Format;
  EXPECT_EQ(route_key("/v1/Chat.JSON%20", KeyReading{.loose = true}), "/v1/chat.json");
  EXPECT_EQ(route_key("/v1/Chat.tar.gz%20", KeyReading{.loose = true, .format = Format::from_first_dot}), "/v1/chat");
  EXPECT_EQ(route_key("/v1/Chat.tar.gz%20", KeyReading{.loose = true, .format = Format::from_last_dot}), "/v1/chat.tar");
  EXPECT_EQ(route_key("/%2576%2531/.well-known", KeyReading{.loose = true, .format = Format::from_first_dot}),
            "/v1/.well-known");
  EXPECT_EQ(route_key("/v1/chat.json"), "/v1/chat.json") << "not in the strict readings";
  const OfferTable offers = table();
  const Offer* chat = &offers.offers()[0];
  for (std::string_view path : {"/v1/chat.json", "/v1/chat.", "/v1/chat.tar.gz", "/v1/chat%20", "/v1/chat%09",
                                "/v1/chat%0a", "/v1/%20chat", "/V1/Chat.JSON", "/%2576%2531/chat", "/v1/%2563hat",
                                "/v1/chat.json/", "/v1/chat%2520", "/v1/chat.json%20"})
    EXPECT_EQ(offers.find("POST", path), chat) << path;
  EXPECT_EQ(offers.find("GET", "/%2564ata/x"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", "/data/x.csv"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", OverrideMethods{{}, true}, "/v1/chat.json"), chat) << "any method, loosely read";

  // A route whose path has a format: its own spellings are priced, its siblings and its stem are
  // not (no router takes "/report.txt" or "/report" for "/report.pdf"); a request's format is
  // dropped for exact routes only ("/files/v1.json" is no request under "/files/v1/*").
  const OfferTable dotted = table_of({RouteConfig{"GET", "/report.pdf", 5, std::nullopt, std::nullopt},
                                      RouteConfig{"GET", "/files/v1/*", 7, std::nullopt, std::nullopt}});
  for (std::string_view path : {"/report.pdf", "/report.pdf%20", "/Report.PDF", "/report.pdf.json"})
    EXPECT_EQ(dotted.find("GET", path), &dotted.offers()[0]) << path;
  EXPECT_EQ(dotted.find("GET", "/files/v1/x.bin"), &dotted.offers()[1]);
  for (std::string_view path : {"/report", "/report.txt", "/reports.pdf", "/files/v1.json", "/files/v1.2"})
    EXPECT_EQ(dotted.find("GET", path), nullptr) << path;
}

// A method-override header makes frameworks serve a request as the method it names (Rails, by
// default): the request is priced as either, the dearer.
TEST(RouteKey, AMethodOverrideHeaderIsPricedAsTheMethodItNames) {
  const OfferTable offers = table_of({RouteConfig{"PUT", "/v1/x", 1'000, std::nullopt, std::nullopt},
                                      RouteConfig{"POST", "/v1/x", 10, std::nullopt, std::nullopt}});
  const OverrideMethods put{{"put"}};
  EXPECT_EQ(offers.find("POST", put, "/v1/x"), &offers.offers()[0]);
  EXPECT_EQ(offers.find("GET", put, "/v1/x"), &offers.offers()[0]);
  EXPECT_EQ(offers.find("PUT", OverrideMethods{{"POST"}}, "/v1/x"), &offers.offers()[0]) << "the dearer of the two";
  const OverrideMethods other{{"DELETE"}};
  EXPECT_EQ(offers.find("POST", other, "/v1/x"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", other, "/v1/x"), nullptr);
  EXPECT_EQ(offers.find("GET", OverrideMethods{{}, true}, "/v1/x"), &offers.offers()[0])
      << "naming too many methods to list is naming every one";
}

// Readings of one path may match different routes: a resolving upstream serves one, Express's
// wildcard the other. The dearer is charged.
TEST(RouteKey, APathReadTwoWaysIsChargedTheDearerRoute) {
  const OfferTable offers = table_of({RouteConfig{"GET", "/cheap/*", 1, std::nullopt, std::nullopt},
                                      RouteConfig{"GET", "/data/*", 1'000, std::nullopt, std::nullopt}});
  for (std::string_view path : {"/data/../cheap/x", "/cheap/x#/../../data/y", "/cheap/./../data/z"})
    EXPECT_EQ(offers.find("GET", path), &offers.offers()[1]) << path;
  EXPECT_EQ(offers.find("GET", "/cheap/x/../y"), &offers.offers()[0]) << "both readings cheap";
}

// A narrower prefix after a broader one prices its own requests: the longest prefix wins.
TEST(RouteKey, TheLongestMatchingPrefixPricesARequest) {
  const OfferTable offers = table_of({RouteConfig{"", "/data/*", 500, std::nullopt, std::nullopt},
                                      RouteConfig{"", "/data/premium/*", 1'000'000, std::nullopt, std::nullopt}});
  EXPECT_EQ(offers.find("GET", "/data/premium/x"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", "/Data/Premium/x"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", "/data/x"), &offers.offers()[0]);
  EXPECT_EQ(offers.find("GET", "/data/premiumx"), &offers.offers()[0]);
}

TEST(RouteKey, PathsThatAreNoSpellingOfAPricedOneStayFree) {
  const OfferTable offers = table();
  for (std::string_view path : {"/v1/chats", "/v1/chat/x", "/v1", "/v1/cha", "/database", "/dat/x", "/free",
                                "/v1/chatty.json", "/v1.json", "/v1/chat/x.json", "/v1/c.hat"})
    EXPECT_EQ(offers.find("POST", path), nullptr) << path;
  EXPECT_EQ(offers.find("GET", "/v1/chat"), nullptr) << "another method";
  EXPECT_EQ(offers.find("POST", "/data/x"), nullptr) << "a GET route does not take POST";
}

// Any path made of plain segments, respelled in any of the ways above, has the same key and finds
// the same offer (the segments include the priced routes' own).
RC_GTEST_PROP(RouteKey, EveryRespellingHasTheSameKeyAndFindsTheSameOffer, ()) {
  const OfferTable offers = table();
  const auto plain_segment = rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::element('a', 'b', 'v', '1', '-', '_')));
  const auto segment = rc::gen::oneOf(plain_segment, rc::gen::element<std::string>("v1", "chat", "data", "v2", "chat-x"));
  const auto segments = *rc::gen::container<std::vector<std::string>>(segment);
  std::string plain;
  for (const auto& s : segments) plain += "/" + s;
  if (plain.empty()) plain = "/";
  std::string respelled;
  for (const auto& s : segments) {
    const int how = *rc::gen::inRange(0, 6);
    std::string seg = s;
    if (how == 1) seg[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(seg[0])));
    if (how == 2) {
      static const char* kHex = "0123456789ABCDEF";
      const auto c = static_cast<unsigned char>(seg[0]);
      seg = std::string{'%', kHex[c >> 4], kHex[c & 15]} + seg.substr(1);
    }
    if (how == 3) respelled += "/.";
    if (how == 4) respelled += "/x/..";
    if (how == 5) seg += ";p=1";
    respelled += (*rc::gen::arbitrary<bool>() ? "//" : "/") + seg;
  }
  if (*rc::gen::arbitrary<bool>()) respelled += "/";
  if (respelled.empty()) respelled = "/";
  RC_ASSERT(route_key(respelled) == route_key(plain));
  RC_ASSERT(is_route_key(plain));
  for (std::string_view method : {"GET", "POST", "HEAD"}) RC_ASSERT(offers.find(method, respelled) == offers.find(method, plain));
}

}  // namespace
}  // namespace paychan::engine::gate
