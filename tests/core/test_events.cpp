// TensorBoard event files: CRC-32C against published vectors, TFRecord framing.
#include "core/io/event_writer.h"
#include "tests/core/test_support.h"

#include <fstream>

using namespace ijepa;

TEST(Crc32c, KnownVectors)
{
    // RFC 3720 (iSCSI) appendix B.4 and the usual check value.
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
    EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
    std::string ascending(32, '\0');
    for (int i = 0; i < 32; ++i)
        ascending[i] = static_cast<char>(i);
    EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
    EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, MaskedAsTensorFlow)
{
    // TensorFlow crc32c.h: Mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
    const std::uint32_t c = 0xE3069283u;
    EXPECT_EQ(maskedCrc32c("123456789"), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
    EXPECT_EQ(maskedCrc32c("123456789"), 0xC78AB0E5u); // the formula evaluated in Python
}

TEST(TfRecord, Framing)
{
    const std::string data = "hello";
    const std::string r = tfRecord(data);
    ASSERT_EQ(r.size(), 8 + 4 + 5 + 4);
    std::uint64_t len = 0;
    std::memcpy(&len, r.data(), 8);
    EXPECT_EQ(len, 5u);
    std::uint32_t lenCrc = 0, dataCrc = 0;
    std::memcpy(&lenCrc, r.data() + 8, 4);
    std::memcpy(&dataCrc, r.data() + 17, 4);
    EXPECT_EQ(lenCrc, maskedCrc32c(r.substr(0, 8)));
    EXPECT_EQ(r.substr(12, 5), data);
    EXPECT_EQ(dataCrc, maskedCrc32c(data));
}

TEST(EventWriter, WritesValidRecords)
{
    test::TempDir dir;
    std::string path;
    {
        EventWriter w(dir.path.string());
        w.addScalar("loss", 1, 0.5);
        w.addImage("masks", 1, std::string("\x89PNG fake", 9), 2, 3);
        w.flush();
        path = w.path();
    }
    EXPECT_NE(path.find("events.out.tfevents."), std::string::npos);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    size_t at = 0;
    int records = 0;
    while (at < bytes.size()) {
        ASSERT_LE(at + 12, bytes.size());
        std::uint64_t len = 0;
        std::memcpy(&len, bytes.data() + at, 8);
        std::uint32_t crc = 0;
        std::memcpy(&crc, bytes.data() + at + 8, 4);
        EXPECT_EQ(crc, maskedCrc32c(bytes.substr(at, 8)));
        ASSERT_LE(at + 16 + len, bytes.size());
        std::memcpy(&crc, bytes.data() + at + 12 + len, 4);
        EXPECT_EQ(crc, maskedCrc32c(bytes.substr(at + 12, len)));
        at += 16 + len;
        ++records;
    }
    EXPECT_EQ(records, 3); // file_version, scalar, image
    EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
}
