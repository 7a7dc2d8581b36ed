// How `cvm measure` prints a measurement: bare lower-case hex or standard base64 (one line, as
// sev-snp-measure prints it; with --verbose its "Calculated <MODE> guest measurement: " prefix),
// or one flat JSON object that echoes every input with its SHA-256, so a published value says
// exactly what it is the measurement of.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "measure/measure.h"
#include "measure_request.h"

namespace cvm::cli {

enum class OutputFormat { Hex, Base64, Json };

std::optional<OutputFormat> output_format_from_name(const std::string& name);

struct MeasureOutput {
    const MeasureRequest& request;
    const measure::Measurement& measurement;
    std::optional<std::string> launch_path;  // --launch FILE
    std::optional<crypto::Sha256Digest> launch_sha256;
};

void print_measurement(FILE* out, OutputFormat format, bool verbose, const MeasureOutput& m);

}  // namespace cvm::cli
