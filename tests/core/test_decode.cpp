// Decoding for the data path: JPEG region decode against whole decode, the formats and bad files a
// photo folder holds, folder listing (symlinks), tar shards (good, bad, exact resume, ranks) and
// the parallel evaluation decode.
#include "core/data/augment.h"
#include "core/data/data_loader.h"
#include "core/errors.h"
#include "core/eval/embeddings.h"
#include "core/imageio/data_spec.h"
#include "core/imageio/decode.h"
#include "core/imageio/image_folder.h"
#include "core/imageio/tar_shards.h"
#include "tests/core/test_support.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

using namespace ijepa;
using ijepa::test::TempDir;
using ijepa::test::ThreadCount;
using ijepa::test::testFixture;

namespace {

namespace fs = std::filesystem;

void writeBytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A 500x375 photo-like test image: smooth gradients with texture and edges, seeded per `seed`.
cv::Mat photo(int seed, int width = 500, int height = 375)
{
    cv::Mat m(height, width, CV_8UC3);
    cv::RNG rng(static_cast<std::uint64_t>(seed) + 1);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>((x * 255) / width), static_cast<uchar>((y * 255) / height),
                                              static_cast<uchar>(((x / 25 + y / 25 + seed) % 2) * 120 + rng.uniform(0, 60)));
    return m;
}

std::string jpegBytes(const cv::Mat& m, int quality = 92, bool progressive = false)
{
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, quality, cv::IMWRITE_JPEG_PROGRESSIVE, progressive ? 1 : 0});
    return {buf.begin(), buf.end()};
}

const std::uint8_t* bytesOf(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

torch::Tensor viewOf(const std::string& bytes, const CropBox& box, int size, const std::string& name = "test.jpg",
                     int* seenHeight = nullptr, int* seenWidth = nullptr)
{
    torch::Tensor out = torch::empty({3, size, size});
    decodeView(bytesOf(bytes), bytes.size(), name, [&](int h, int w) {
        if (seenHeight)
            *seenHeight = h, *seenWidth = w;
        return box;
    }, out);
    return out;
}

// Today's path before the region decoder: the whole image decoded, cropped and resized in float,
// antialiased as PIL.
torch::Tensor wholeDecodeView(const std::string& bytes, const CropBox& box, int size)
{
    return cropResizeNormalize(decodeImage(bytesOf(bytes), bytes.size(), "test.jpg"), box, size);
}

// Mean absolute difference in 8-bit levels of two normalised views.
double levels(const torch::Tensor& a, const torch::Tensor& b)
{
    const auto stdev = torch::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}).view({3, 1, 1}).to(torch::kFloat32);
    return ((a - b).abs() * stdev * 255.0).mean().item<double>();
}

template <typename F>
std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

} // namespace

// The region decoder sees the whole image's size (so the same random numbers draw the same box)
// and gives the view a whole decode + crop + PIL-style resize gives, within a few 8-bit levels:
// the only differences are the uint8 resampling and, at reduced DCT scales, the IDCT's own scaling.
// This test image is harder than a photo: a checkerboard with uniform noise of 60 levels.
TEST(Decode, RegionDecodeMatchesWholeDecodeAndCrop)
{
    const std::string bytes = jpegBytes(photo(0));
    struct Case {
        CropBox box;
        int size;
        double tolerance; // mean absolute difference, 8-bit levels
    };
    const std::vector<Case> cases = {
        {{0, 0, 375, 500}, 224, 3.0},   // whole image, shrunk (scale 1)
        {{37, 101, 205, 230}, 224, 3.0}, // mixed: one side enlarged, one shrunk
        {{100, 150, 120, 100}, 224, 3.0}, // enlarged
        {{13, 29, 300, 340}, 64, 6.0},    // shrunk 5x: decoded at 1/4 DCT scale (the IDCT's filter, not PIL's)
        {{50, 60, 224, 224}, 224, 1.0},  // exact size: no resampling at all, only JPEG's own rounding
    };
    for (const auto& c : cases) {
        int h = 0, w = 0;
        const auto region = viewOf(bytes, c.box, c.size, "test.jpg", &h, &w);
        EXPECT_EQ(h, 375);
        EXPECT_EQ(w, 500);
        const auto whole = wholeDecodeView(bytes, c.box, c.size);
        const double diff = levels(region, whole);
        EXPECT_LT(diff, c.tolerance) << "box " << c.box.top << "," << c.box.left << " " << c.box.height << "x" << c.box.width
                                     << " -> " << c.size;
        std::printf("region vs whole decode, box %dx%d -> %d: %.3f levels\n", c.box.height, c.box.width, c.size, diff);
    }
}

// Progressive, CMYK, greyscale and EXIF-tagged JPEGs and palette and 16-bit PNGs decode to the RGB
// PIL gives (means within 2 levels; 16-bit: v / 257 where PIL clips to 255), at the header's size
// (EXIF orientation is not applied, as PIL does not).
TEST(Decode, FormatsDecodeAsPil)
{
    const auto pil = nlohmann::json::parse(readBytes(testFixture("images/pil_decoded.json")));
    for (const auto& [file, expect] : pil.items()) {
        const std::string bytes = readBytes(testFixture("images/" + file));
        const auto image = decodeImage(bytesOf(bytes), bytes.size(), file);
        ASSERT_EQ(image.size(0), expect["height"].get<int>()) << file;
        ASSERT_EQ(image.size(1), expect["width"].get<int>()) << file;
        const auto mean = image.to(torch::kFloat64).mean(std::vector<int64_t>{0, 1});
        for (int c = 0; c < 3; ++c) {
            const double want = file == "grey16.png" ? 125.6 : expect["mean_rgb"][c].get<double>();
            EXPECT_NEAR(mean[c].item<double>(), want, 2.0) << file << " channel " << c;
        }
        // The loaders' view of the same file: the whole image at 32x32 is the same picture.
        const auto view = viewOf(bytes, {0, 0, static_cast<int>(image.size(0)), static_cast<int>(image.size(1))}, 32, file);
        EXPECT_LT(levels(view, cropResizeNormalize(image, {0, 0, static_cast<int>(image.size(0)), static_cast<int>(image.size(1))}, 32)), 3.0)
            << file;
    }
}

TEST(Decode, TruncatedJpegIsRefusedWhereverTheCropIs)
{
    const std::string bytes = jpegBytes(photo(1));
    const std::string cut = bytes.substr(0, bytes.size() * 2 / 3);
    for (const CropBox box : {CropBox{0, 0, 100, 100}, CropBox{275, 400, 100, 100}}) {
        const auto message = errorOf([&] { viewOf(cut, box, 64, "photos/cut.jpg"); });
        EXPECT_NE(message.find("photos/cut.jpg: truncated JPEG"), std::string::npos) << message;
    }
    const auto message = errorOf([&] { decodeImage(bytesOf(cut), cut.size(), "photos/cut.jpg"); });
    EXPECT_NE(message.find("photos/cut.jpg: truncated JPEG"), std::string::npos) << message;
    // Garbage after the end marker is not truncation.
    EXPECT_NO_THROW(viewOf(bytes + std::string(100, 'x'), {0, 0, 100, 100}, 32));
    // Corrupt entropy data (not cut short) is a named error or a picture, never a crash.
    std::string corrupt = bytes;
    for (std::size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i)
        corrupt[i] = static_cast<char>(0xFF);
    try {
        viewOf(corrupt, {0, 0, 375, 500}, 64, "photos/corrupt.jpg");
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("photos/corrupt.jpg"), std::string::npos);
    }
}

// A header that promises more than PIL's 89.5 M pixels is refused before anything is decoded.
TEST(Decode, DecompressionBombsAreRefusedFromTheHeader)
{
    std::string png = readBytes(testFixture("images/palette.png"));
    const std::uint8_t big[8] = {0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20}; // 20000 x 20000
    png.replace(16, 8, reinterpret_cast<const char*>(big), 8);
    std::string jpeg = jpegBytes(photo(2, 64, 48));
    const auto sof = jpeg.find("\xFF\xC0");
    ASSERT_NE(sof, std::string::npos);
    jpeg.replace(sof + 5, 4, "\x75\x30\x75\x30"); // 30000 x 30000
    for (const auto& [name, bytes] : {std::pair{std::string("bomb.png"), png}, std::pair{std::string("bomb.jpg"), jpeg}}) {
        auto message = errorOf([&] { viewOf(bytes, {0, 0, 10, 10}, 32, name); });
        EXPECT_NE(message.find(name + ": "), std::string::npos) << message;
        EXPECT_NE(message.find("decompression bomb"), std::string::npos) << message;
        message = errorOf([&] { decodeImage(bytesOf(bytes), bytes.size(), name); });
        EXPECT_NE(message.find("decompression bomb"), std::string::npos) << message;
    }
}

// The listing keeps path order, follows a directory link once, and refuses a cycle by name.
TEST(ImageFolderListing, SymlinksAreFollowedOnceAndCyclesRefused)
{
    TempDir dir;
    fs::create_directories(dir.path / "data" / "a" / "deep");
    fs::create_directories(dir.path / "data" / "b");
    fs::create_directories(dir.path / "elsewhere");
    const std::string jpg = jpegBytes(photo(3, 40, 30));
    for (const auto* f : {"data/a/1.jpg", "data/a/deep/2.jpg", "data/a/z.jpg", "data/b/3.jpg", "data/top.jpg", "elsewhere/4.jpg"})
        writeBytes(dir.file(f), jpg);
    fs::create_directory_symlink(dir.path / "elsewhere", dir.path / "data" / "c");
    fs::create_directory_symlink(dir.path / "elsewhere", dir.path / "data" / "d"); // the same folder again
    const auto src = openImageFolder(dir.file("data"));
    std::vector<std::string> names;
    for (int64_t i = 0; i < src->size(); ++i)
        names.push_back(src->name(i).substr(dir.file("data").size() + 1));
    EXPECT_EQ(names, (std::vector<std::string>{"a/1.jpg", "a/deep/2.jpg", "a/z.jpg", "b/3.jpg", "c/4.jpg", "top.jpg"}));
    EXPECT_EQ(src->classes(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(src->label(1), 0);
    EXPECT_EQ(src->label(4), 2);
    EXPECT_EQ(src->label(5), -1);

    fs::create_directory_symlink("..", dir.path / "data" / "b" / "up");
    const auto message = errorOf([&] { openImageFolder(dir.file("data")); });
    EXPECT_NE(message.find("b/up"), std::string::npos) << message;
    EXPECT_NE(message.find("symlink cycle"), std::string::npos) << message;
}

namespace {

// One ustar member: a header and the data padded to 512 bytes.
std::string tarMember(const std::string& name, const std::string& data)
{
    std::string h(512, '\0');
    std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
    std::snprintf(&h[100], 8, "%07o", 0644);
    std::snprintf(&h[108], 8, "%07o", 0);
    std::snprintf(&h[116], 8, "%07o", 0);
    std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(data.size()));
    std::snprintf(&h[136], 12, "%011o", 0);
    std::memset(&h[148], ' ', 8);
    h[156] = '0';
    std::memcpy(&h[257], "ustar", 6);
    std::memcpy(&h[263], "00", 2);
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    std::snprintf(&h[148], 8, "%06o", sum);
    return h + data + std::string((512 - data.size() % 512) % 512, '\0');
}

// `shards` shards of `perShard` samples (a JPEG and a .cls each); sample k's image is photo(k).
std::string writeShards(const TempDir& dir, int shards, int perShard)
{
    for (int s = 0; s < shards; ++s) {
        std::string tar;
        for (int j = 0; j < perShard; ++j) {
            const int k = s * perShard + j;
            char key[32];
            std::snprintf(key, sizeof key, "s%06d", k);
            tar += tarMember(std::string(key) + ".jpg", jpegBytes(photo(k, 48, 40)));
            tar += tarMember(std::string(key) + ".cls", std::to_string(k % 3));
        }
        char file[64];
        std::snprintf(file, sizeof file, "train-%06d.tar", s);
        writeBytes(dir.file(file), tar + std::string(1024, '\0'));
    }
    char pattern[64];
    std::snprintf(pattern, sizeof pattern, "/train-{000000..%06d}.tar", shards - 1);
    return dir.path.string() + pattern;
}

} // namespace

TEST(TarShards, PatternsExpandAndNameMissingShards)
{
    EXPECT_EQ(expandShardPattern("a-{08..10}.tar"), (std::vector<std::string>{"a-08.tar", "a-09.tar", "a-10.tar"}));
    EXPECT_EQ(expandShardPattern("a-{0..2}.tar").back(), "a-2.tar");
    EXPECT_EQ(expandShardPattern("plain.tar"), (std::vector<std::string>{"plain.tar"}));
    EXPECT_THROW(expandShardPattern("a-{3..1}.tar"), ConfigError);
    EXPECT_THROW(expandShardPattern("a-{x}.tar"), ConfigError);
    EXPECT_TRUE(isShardSpec("x/train-{0..3}.tar"));
    {
        TempDir d;
        const auto pattern = writeShards(d, 3, 1);
        EXPECT_EQ(shardPatternFor(d.file("train-000001.tar")), pattern); // the workbench's Shards… picks one
        writeBytes(d.file("lone-7.tar"), "");
        EXPECT_EQ(shardPatternFor(d.file("lone-7.tar")), d.file("lone-7.tar"));
    }
    EXPECT_FALSE(isShardSpec("x/photos"));

    TempDir dir;
    const auto pattern = writeShards(dir, 2, 3);
    const auto missing = pattern.substr(0, pattern.find("000001")) + "000002}.tar";
    const auto message = errorOf([&] { openDataSpec(missing); });
    EXPECT_NE(message.find("train-000002.tar: no such shard"), std::string::npos) << message;
    writeBytes(dir.file("text.tar"), std::string(2048, 'x'));
    EXPECT_NE(errorOf([&] { openTarShards(dir.file("text.tar")); }).find("text.tar: not a tar file"), std::string::npos);
}

TEST(TarShards, ReadsSamplesLabelsAndTheSameViewsAsTheirFiles)
{
    TempDir dir;
    const auto data = openDataSpec(writeShards(dir, 3, 4));
    const auto& src = *data.train;
    ASSERT_EQ(src.size(), 12);
    EXPECT_EQ(src.classes(), (std::vector<std::string>{"0", "1", "2"}));
    for (int64_t i = 0; i < src.size(); ++i) {
        EXPECT_EQ(src.label(i), i % 3);
        char member[32];
        std::snprintf(member, sizeof member, ":s%06d.jpg", static_cast<int>(i));
        EXPECT_NE(src.name(i).find(member), std::string::npos) << src.name(i);
        const auto bytes = jpegBytes(photo(static_cast<int>(i), 48, 40));
        EXPECT_TRUE(torch::equal(src.image(i), decodeImage(bytesOf(bytes), bytes.size(), "x.jpg")));
    }
}

// A corrupt header or a truncated member costs that shard's rest, named; the others still load.
TEST(TarShards, CorruptAndTruncatedMembersAreNamedAndSkipped)
{
    TempDir dir;
    const auto pattern = writeShards(dir, 2, 4);
    const std::string first = dir.file("train-000000.tar"), second = dir.file("train-000001.tar");
    std::string a = readBytes(first), b = readBytes(second);
    const auto padded = [](const std::string& bytes) { return (bytes.size() + 511) / 512 * 512; };
    a[512 + padded(jpegBytes(photo(0, 48, 40))) + 10] ^= 0x55; // the first .cls header: its checksum fails
    b = b.substr(0, 512 + padded(jpegBytes(photo(4, 48, 40))) + 1024 + 512 + 200); // s000005.jpg cut short
    writeBytes(first, a);
    writeBytes(second, b);
    const auto src = openTarShards(pattern);
    std::vector<std::string> errors;
    int readable = 0;
    for (int64_t i = 0; i < src->size(); ++i) {
        const auto e = errorOf([&] { src->image(i); });
        if (e.empty())
            ++readable;
        else
            errors.push_back(e);
    }
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_NE(errors[0].find("train-000000.tar: corrupt tar header at byte"), std::string::npos) << errors[0];
    EXPECT_NE(errors[1].find("train-000001.tar:s000005.jpg: truncated member"), std::string::npos) << errors[1];
    EXPECT_GE(readable, 2);
    // The loader skips them by name and keeps training.
    DataLoader loader(src, test::smallLoader(2, 2), test::smallMasks());
    loader.start(0);
    for (int i = 0; i < 4; ++i)
        EXPECT_TRUE(torch::isfinite(loader.next().images).all().item<bool>());
    loader.stop();
}

// The epoch order is WebDataset's and a function of the seed: a restart mid-epoch gives the same
// batches; two ranks read disjoint shards.
TEST(TarShards, ExactResumeAndEachRankItsOwnShards)
{
    TempDir dir;
    const auto src = openTarShards(writeShards(dir, 4, 6));
    auto o = test::smallLoader(2, 4);
    o.seed = 11;
    const auto m = test::smallMasks();
    DataLoader straight(src, o, m);
    std::vector<torch::Tensor> batches;
    for (int it = 0; it < 14; ++it)
        batches.push_back(straight.makeBatch(it).images);
    DataLoader resumed(src, o, m);
    resumed.start(8);
    for (int it = 8; it < 14; ++it)
        EXPECT_TRUE(torch::equal(resumed.next().images, batches[static_cast<size_t>(it)])) << "iteration " << it;
    resumed.stop();
    const auto order = src->epochOrder(5, 1);
    EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 24u); // a permutation
    EXPECT_NE(order, src->epochOrder(6, 1));
    const auto two = src->epochOrder(5, 2);
    std::set<int64_t> shards0, shards1;
    for (std::size_t p = 0; p < two.size(); ++p)
        (p % 2 ? shards1 : shards0).insert(two[p] / 6);
    EXPECT_EQ(shards0.size(), 2u);
    EXPECT_EQ(shards1.size(), 2u);
    for (const auto s : shards0)
        EXPECT_EQ(shards1.count(s), 0u);
}

// Evaluation decodes on every thread and gives the views one thread gives, in source order.
TEST(EvalDecode, ParallelViewsEqualSerialViews)
{
    TempDir dir;
    fs::create_directories(dir.path / "k");
    for (int i = 0; i < 10; ++i)
        writeBytes(dir.file("k/" + std::to_string(i) + ".jpg"), jpegBytes(photo(i, 60 + 7 * i, 50)));
    writeBytes(dir.file("k/5.jpg"), "broken");
    const auto src = openImageFolder(dir.path.string());
    const auto viewsOn = [&](int threads) {
        const ThreadCount pinned(threads);
        return evalViews(*src, 32);
    };
    const auto serial = viewsOn(1);
    const auto parallel = viewsOn(2);
    ASSERT_EQ(serial.images.size(0), 9);
    EXPECT_TRUE(torch::equal(serial.images, parallel.images));
    ASSERT_EQ(parallel.skipped.size(), 1u);
    EXPECT_NE(parallel.skipped[0].find("k/5.jpg"), std::string::npos);
    for (int i = 0; i < 9; ++i) {
        auto one = torch::empty({3, 32, 32});
        src->view(i < 5 ? i : i + 1, evalBox, one);
        EXPECT_TRUE(torch::equal(parallel.images[i], one)) << i;
    }
}
