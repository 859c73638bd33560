// Feeds arbitrary text to the YAML config reader, with the last line as a key=value override when
// it has an '=': parsing, the override and validation must either succeed or throw ijepa::Error
// (naming the key), never crash, hang or throw anything else.
#include "core/config.h"
#include "core/errors.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string text(reinterpret_cast<const char*>(data), size);
    std::string assignment;
    if (const auto nl = text.rfind('\n'); nl != std::string::npos && text.find('=', nl) != std::string::npos) {
        assignment = text.substr(nl + 1);
        text.resize(nl);
    }
    try {
        ijepa::Config config = ijepa::parseConfig(text, "fuzz.yaml");
        if (!assignment.empty())
            ijepa::applyOverride(config, assignment);
        ijepa::validateConfig(config);
        ijepa::parseConfig(ijepa::dumpConfig(config), "fuzz.yaml (written back)"); // what we write, we read
    } catch (const ijepa::Error&) {
    }
    return 0;
}
