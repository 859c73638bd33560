#pragma once

#include "core/io/atomic_file.h"

#include <cstdint>
#include <string>
#include <vector>
#include <string_view>

namespace ijepa {

// CRC-32C (Castagnoli), as TFRecord framing uses it.
std::uint32_t crc32c(std::string_view data);
// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
std::uint32_t maskedCrc32c(std::string_view data);
// One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data (little endian).
std::string tfRecord(std::string_view data);

// Cuts an event file back to its last whole record (a write cut short by a full disk or a crash
// leaves a partial one, which stops TensorBoard's reader); returns the bytes removed.
std::int64_t cutTornRecords(const std::string& path);

// Writes TensorBoard event files (events.out.tfevents.*) without TensorFlow: the Event and Summary
// protocol buffers are encoded by hand (only the fields used here). Scalars and PNG images. Records
// are held until flush(), which writes them all or none (a failed flush throws WriteError and keeps
// them for the next flush).
class EventWriter {
public:
    // Creates <dir>/events.out.tfevents.<seconds>.<host>.<suffix>; throws WriteError if it cannot.
    explicit EventWriter(const std::string& dir, const std::string& suffix = "ijepa");
    ~EventWriter();

    void addScalar(const std::string& tag, std::int64_t step, double value);
    void addImage(const std::string& tag, std::int64_t step, const std::string& png, int height, int width);
    // A text entry (TensorBoard's Text tab): a string tensor with the "text" plugin's metadata.
    void addText(const std::string& tag, std::int64_t step, const std::string& text);
    // A histogram whose i-th bucket ends at limits[i] and holds counts[i] (TensorBoard's histogram
    // and distribution dashboards); the two have the same size.
    void addHistogram(const std::string& tag, std::int64_t step, const std::vector<double>& limits,
                      const std::vector<double>& counts);
    void flush();
    const std::string& path() const { return m_path; }

private:
    void writeEvent(std::int64_t step, const std::string& summaryValue);

    std::string m_path;
    AppendFile m_file;
    std::string m_pending; // records not yet written
};

} // namespace ijepa
