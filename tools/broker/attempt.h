// One request through the broker's evidence steps (attest.cc, heartbeat.cc): what is known about
// it so far, for the verdict, the log line and the metrics.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker.h"
#include "proto/messages.h"
#include "volume_generations.h"

namespace cvm::broker {

struct Broker::Attempt {
    std::optional<proto::ErrorBody> refusal;
    bool simulated{false};
    std::string peer;
    std::string measurement;  // hex, once the report parsed
    std::string chip;         // first 8 bytes of CHIP_ID, hex
    std::string report_id;    // hex, once the report parsed (not yet authenticated)
    std::vector<std::string> resources;
    std::vector<proto::VolumeReport> volumes;  // the request's volume states
    // What record_volumes() writes once everything else has passed, one per released volume.
    struct VolumePlan {
        std::string name;
        std::optional<Bytes> stored;           // the record as read: the compare-and-set's expectation
        std::optional<GenerationRecord> next;  // nullopt: nothing to write
        std::optional<Bytes> armed;            // an operator's armed recovery this release consumes
        std::string note;                      // logged once the records are written; "" for none
    };
    std::vector<VolumePlan> volume_plans;
};

// Records the refusal in the attempt and returns an Error so that TRY unwinds to the endpoint.
Error refuse(Broker::Attempt& a, proto::ErrorCode code, std::string detail, std::string claim = {},
             std::string got = {}, std::vector<std::string> expected = {});

// `names` joined by `separator`, "-" when empty.
std::string join(const std::vector<std::string>& names, const char* separator = ",");

// A value for a quoted log field: quotes, backslashes and control bytes become '?', so a value
// taken from a request cannot end the field or forge a line.
std::string log_value(std::string v);

}  // namespace cvm::broker
