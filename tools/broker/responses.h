// The broker's HTTP responses: JSON bodies, never cached; KDS_UNAVAILABLE and STORE_UNAVAILABLE
// add Retry-After.
#pragma once

#include <string>

#include "net/http.h"
#include "proto/messages.h"

namespace cvm::broker {

net::HttpResponse json_response(int status, std::string body);
net::HttpResponse error_response(const proto::ErrorBody& error);

}  // namespace cvm::broker
