// TensorBoard event files: CRC-32C against published vectors, TFRecord framing; log writes that
// fail (a full disk) leave whole records only.
#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/io/event_writer.h"
#include "tests/core/test_support.h"

#include <sys/resource.h>

#include <csignal>
#include <cstring>
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

namespace {

std::string fileText(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Within its scope, writes past `bytes` into any file fail with EFBIG (a disk that is full there).
struct FileSizeLimit {
    rlimit old{};
    explicit FileSizeLimit(rlim_t bytes)
    {
        std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &old);
        rlimit small = old;
        small.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &old); }
};

// The records of an event file, or -1 where one is cut short or fails its checksum.
int wholeRecords(const std::string& bytes)
{
    size_t at = 0;
    int records = 0;
    while (at < bytes.size()) {
        std::uint64_t len = 0;
        if (at + 12 > bytes.size())
            return -1;
        std::memcpy(&len, bytes.data() + at, 8);
        std::uint32_t crc = 0;
        std::memcpy(&crc, bytes.data() + at + 8, 4);
        if (crc != maskedCrc32c(bytes.substr(at, 8)) || at + 16 + len > bytes.size())
            return -1;
        std::memcpy(&crc, bytes.data() + at + 12 + len, 4);
        if (crc != maskedCrc32c(bytes.substr(at + 12, len)))
            return -1;
        at += 16 + len;
        ++records;
    }
    return records;
}

} // namespace

TEST(AppendFile, AFailedAppendLeavesWholeRecordsAndTheNextOneContinues)
{
    test::TempDir dir;
    const std::string path = dir.file("log.csv");
    AppendFile log(path, true);
    log.append("header\n");
    {
        FileSizeLimit full(20);
        try {
            log.append(std::string(29, 'x') + "\n"); // 13 bytes fit, then EFBIG
            FAIL() << "a write past the limit succeeded";
        } catch (const WriteError& e) {
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(std::strerror(EFBIG)), std::string::npos) << e.what();
        }
        EXPECT_EQ(fileText(path), "header\n") << "a torn record was left";
    }
    log.append("row 1\n"); // space again
    EXPECT_EQ(fileText(path), "header\nrow 1\n");
    AppendFile again(path, false); // reopened: appends after what is there
    again.append("row 2\n");
    EXPECT_EQ(fileText(path), "header\nrow 1\nrow 2\n");
}

TEST(EventWriter, AFailedFlushKeepsItsRecordsForTheNext)
{
    test::TempDir dir;
    EventWriter w(dir.path.string());
    w.addScalar("loss", 1, 0.5);
    w.flush();
    const size_t before = fileText(w.path()).size();
    w.addScalar("loss", 2, 0.25);
    w.addImage("masks", 2, std::string(5000, 'p'), 10, 10);
    {
        FileSizeLimit full(before + 100); // the scalar would fit, the image not: neither is written
        EXPECT_THROW(w.flush(), WriteError);
        EXPECT_EQ(fileText(w.path()).size(), before);
    }
    w.flush();
    EXPECT_EQ(wholeRecords(fileText(w.path())), 4); // file_version, the three values once each
}

TEST(EventWriter, ATornRecordIsCutBackToTheLastWholeOne)
{
    test::TempDir dir;
    std::string path;
    {
        EventWriter w(dir.path.string());
        w.addScalar("a", 1, 1.0);
        w.addScalar("b", 1, 2.0);
        w.flush();
        path = w.path();
    }
    const std::string whole = fileText(path);
    ASSERT_EQ(wholeRecords(whole), 3);
    std::ofstream(path, std::ios::app | std::ios::binary) << tfRecord(std::string(40, 'e')).substr(0, 30);
    ASSERT_EQ(wholeRecords(fileText(path)), -1);
    EXPECT_EQ(cutTornRecords(path), 30);
    EXPECT_EQ(fileText(path), whole);
    EXPECT_EQ(cutTornRecords(path), 0); // nothing more to cut
    // A record whose bytes changed (its checksum fails) ends the file there, with what follows.
    std::string bad = whole;
    bad[bad.size() - 6] ^= 0x20;
    std::ofstream(path, std::ios::trunc | std::ios::binary) << bad;
    cutTornRecords(path);
    EXPECT_EQ(wholeRecords(fileText(path)), 2);
}
