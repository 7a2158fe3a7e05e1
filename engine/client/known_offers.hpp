// The offer each route was last paid under, so that the next request to it carries its payment at
// once instead of first fetching a 402: one round trip less per paid request. A route whose offer
// changed refuses that payment with a 402; the client then forgets the route's offer and starts
// again from a fresh 402 (payment_client.cpp).
// Thread-safety: all members may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/client/policy.hpp"
#include "engine/http/client.hpp"

namespace paychan::engine::client {

class KnownOffers {
 public:
  // Shared, not copied: it is looked up on every request.
  [[nodiscard]] std::shared_ptr<const ChosenOffer> find(const http::ClientRequest& request) {
    std::lock_guard lock(mutex_);
    const auto it = offers_.find(route(request));
    return it == offers_.end() ? nullptr : it->second;
  }
  void remember(const http::ClientRequest& request, const ChosenOffer& offer) {
    std::lock_guard lock(mutex_);
    if (offers_.size() >= kMaxRoutes) offers_.clear();  // an agent roaming over endless URLs
    offers_.insert_or_assign(route(request), std::make_shared<const ChosenOffer>(offer));
  }
  void forget(const http::ClientRequest& request) {
    std::lock_guard lock(mutex_);
    offers_.erase(route(request));
  }

 private:
  static constexpr std::size_t kMaxRoutes = 1024;
  static std::string route(const http::ClientRequest& request) { return request.method() + ' ' + request.url(); }
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const ChosenOffer>> offers_;
};

}  // namespace paychan::engine::client
