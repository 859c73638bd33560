// Data: Fashion-MNIST IDX reading, image folders with bad files, RandomResizedCrop, the loader.
#include "core/data/augment.h"
#include "core/data/data_loader.h"
#include "core/errors.h"
#include "core/imageio/data_spec.h"
#include "core/imageio/image_folder.h"
#include "core/data/image_source.h"
#include "tests/core/test_support.h"

#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

#include <fstream>

using namespace ijepa;
using ijepa::test::TempDir;
using ijepa::test::smallLoader;
using ijepa::test::smallMasks;

namespace {

void writeBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void writeGzip(const std::string& path, const std::string& bytes)
{
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
}

void writePng(const std::string& path, int channels, int value)
{
    cv::Mat m(20, 30, CV_8UC(channels), cv::Scalar::all(value));
    ASSERT_TRUE(cv::imwrite(path, m));
}

// A folder with 2 classes of 6 good images each (grey, RGB, RGBA), plus bad files.
void makeFolder(const TempDir& dir)
{
    std::filesystem::create_directories(dir.path / "cat");
    std::filesystem::create_directories(dir.path / "dog" / "nested");
    for (int i = 0; i < 6; ++i) {
        writePng(dir.file("cat/c" + std::to_string(i) + ".png"), i % 2 ? 1 : 3, 40 * i);
        writePng(dir.file("dog/nested/d" + std::to_string(i) + ".PNG"), i % 2 ? 4 : 3, 30 * i);
    }
    writeBytes(dir.file("cat/zz-notes.txt"), "not an image and not an image extension");
    writeBytes(dir.file("cat/zz-fake.jpg"), "this is text with an image extension");
    writeBytes(dir.file("dog/zz-truncated.png"), readBytes(dir.file("cat/c0.png")).substr(0, 60));
    writeBytes(dir.file("dog/zz-empty.bmp"), "");
}


} // namespace

TEST(FashionMnist, ReadsTheDebianFilesWithLabels)
{
    const auto train = openFashionMnist("train");
    ASSERT_EQ(train->size(), 60000);
    const auto img = train->image(0);
    EXPECT_EQ(img.sizes(), (std::vector<int64_t>{28, 28, 3}));
    EXPECT_EQ(img.dtype(), torch::kUInt8);
    // Checked with Python's gzip module on the same file: pixel sum of image 0 is 76247 (one
    // channel), pixel (14, 14) is 217; labels start 9, 0, 0, 3.
    EXPECT_EQ(img.select(2, 0).sum().item<int64_t>(), 76247);
    EXPECT_EQ(img[14][14][1].item<int>(), 217);
    EXPECT_EQ(train->label(0), 9);
    EXPECT_EQ(train->label(3), 3);
    EXPECT_EQ(train->classes().at(9), "Ankle boot");
    const auto test = openFashionMnist("test");
    EXPECT_EQ(test->size(), 10000);
    EXPECT_EQ(test->label(1), 2);
    EXPECT_EQ(limitSource(test, 100)->size(), 100);
}

TEST(FashionMnist, BadFilesAreNamedErrors)
{
    TempDir dir;
    EXPECT_THROW(
        {
            try {
                openFashionMnist("train", dir.path.string());
            } catch (const DataError& e) {
                EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte.gz: no such file"), std::string::npos);
                EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos);
                throw;
            }
        },
        DataError);
    // Truncated: the header promises 60000 images, the file holds 10.
    const std::string src = kFashionMnistDir;
    std::string images(16 + 10 * 784, '\0');
    const std::string realHeader = [&] {
        gzFile f = gzopen((src + "/train-images-idx3-ubyte.gz").c_str(), "rb");
        char h[16];
        gzread(f, h, 16);
        gzclose(f);
        return std::string(h, 16);
    }();
    images.replace(0, 16, realHeader);
    writeGzip(dir.file("train-images-idx3-ubyte.gz"), images);
    std::filesystem::copy_file(src + "/train-labels-idx1-ubyte.gz", dir.file("train-labels-idx1-ubyte.gz"));
    try {
        openFashionMnist("train", dir.path.string());
        FAIL() << "a truncated IDX file was accepted";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("header promises 47040000"), std::string::npos) << e.what();
    }
    // A corrupt gzip stream, and a wrong magic number.
    writeBytes(dir.file("train-images-idx3-ubyte.gz"), readBytes(src + "/train-images-idx3-ubyte.gz").substr(0, 5000));
    EXPECT_THROW(openFashionMnist("train", dir.path.string()), DataError);
    writeGzip(dir.file("train-images-idx3-ubyte.gz"), std::string("\x00\x00\x08\x01", 4) + std::string(12, '\0'));
    EXPECT_THROW(openFashionMnist("train", dir.path.string()), DataError);
    // A forged header whose product overflows 64 bits (found by fuzz_idx: signed overflow).
    writeGzip(dir.file("train-images-idx3-ubyte.gz"), std::string("\x00\x00\x08\x03", 4) + std::string(12, '\xff'));
    try {
        openFashionMnist("train", dir.path.string());
        FAIL() << "a forged IDX header was accepted";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("promises over 8 GB"), std::string::npos) << e.what();
    }
    EXPECT_THROW(openFashionMnist("validation"), DataError);
}

TEST(ImageFolder, ClassesFromSubfoldersAndRgbOutput)
{
    TempDir dir;
    makeFolder(dir);
    const auto src = openImageFolder(dir.path.string());
    ASSERT_EQ(src->size(), 15); // 12 good + fake.jpg, truncated.png, empty.bmp (not the .txt)
    EXPECT_EQ(src->classes(), (std::vector<std::string>{"cat", "dog"}));
    int good = 0;
    for (int64_t i = 0; i < src->size(); ++i) {
        EXPECT_EQ(src->label(i), src->name(i).find("/cat/") != std::string::npos ? 0 : 1);
        if (src->name(i).find("zz-") != std::string::npos) {
            EXPECT_THROW(src->image(i), DataError) << src->name(i);
            continue;
        }
        const auto img = src->image(i);
        EXPECT_EQ(img.sizes(), (std::vector<int64_t>{20, 30, 3})) << src->name(i);
        ++good;
    }
    EXPECT_EQ(good, 12);
}

TEST(ImageFolder, MissingOrEmptyFolderIsAnError)
{
    TempDir dir;
    try {
        openImageFolder(dir.file("nope"));
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("nope: no such folder"), std::string::npos);
    }
    writeBytes(dir.file("readme.txt"), "no images here");
    try {
        openImageFolder(dir.path.string());
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("no images"), std::string::npos);
    }
}

// One parser for every command's data argument: Fashion-MNIST splits, a folder, a folder split.
TEST(DataSpec, FashionMnistFoldersAndSplits)
{
    const auto fm = openDataSpec("fashion-mnist");
    EXPECT_EQ(fm.train->size(), 60000);
    EXPECT_EQ(fm.heldOut->size(), 10000); // the test split is held out
    EXPECT_EQ(openDataSpec("fashion-mnist:train", 0.0, 100).train->size(), 100);
    const auto test = openDataSpec("fashion-mnist:test");
    EXPECT_EQ(test.train->size(), 10000);
    EXPECT_EQ(test.heldOut->size(), 10000);

    TempDir dir;
    makeFolder(dir);
    const auto folder = openDataSpec(dir.path.string());
    EXPECT_EQ(folder.train->size(), 15);
    EXPECT_EQ(folder.heldOut->size(), 15); // no split: the folder's own images
    const auto split = openDataSpec(dir.path.string(), 0.6);
    EXPECT_EQ(split.train->size() + split.heldOut->size(), 15);
    EXPECT_NEAR(static_cast<double>(split.train->size()), 0.6 * 15, 1.0);
    EXPECT_THROW(openDataSpec(dir.path.string(), 1.5), ConfigError);
    // The probe set a spec gives: a seeded 80/20 split of a labelled folder; none without classes.
    const auto probe = evaluationSplit(dir.path.string(), folder);
    ASSERT_TRUE(probe.train && probe.test);
    EXPECT_EQ(probe.train->size() + probe.test->size(), 15);
    EXPECT_TRUE(probe.off.empty());
    EXPECT_EQ(evaluationSplit("fashion-mnist", fm).test->size(), 10000);
    TempDir flat;
    for (int i = 0; i < 3; ++i)
        writePng(flat.file("p" + std::to_string(i) + ".png"), 3, 50 * i);
    const auto unlabelled = openDataSpec(flat.path.string());
    const auto none = evaluationSplit(flat.path.string(), unlabelled);
    EXPECT_FALSE(none.train);
    EXPECT_NE(none.off.find("no class sub-folders"), std::string::npos) << none.off;
    DiagnosticsOptions d;
    useProbeSet(d, flat.path.string(), unlabelled, true);
    EXPECT_EQ(d.source, unlabelled.heldOut); // queries without labels: spectrum and RankMe only
    EXPECT_FALSE(d.database);
    EXPECT_EQ(d.probeOff, none.off);
    try {
        openDataSpec(dir.file("nope"));
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
    }
}

TEST(Augment, RandomResizedCropFollowsTorchvisionRanges)
{
    std::mt19937_64 rng(3);
    double areaSum = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const auto b = randomResizedCropBox(28, 28, {0.3, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, rng);
        ASSERT_GE(b.top, 0);
        ASSERT_GE(b.left, 0);
        ASSERT_LE(b.top + b.height, 28);
        ASSERT_LE(b.left + b.width, 28);
        const double aspect = static_cast<double>(b.width) / b.height;
        ASSERT_GT(aspect, 0.75 * 0.85); // rounding to whole pixels widens the range slightly
        ASSERT_LT(aspect, 4.0 / 3.0 / 0.85);
        areaSum += b.height * b.width / 784.0;
    }
    // Uniform area in [0.3, 1] has mean 0.65; draws that do not fit are retried, which lowers the
    // mean. torchvision's get_params, re-run in Python with torch's generator (40000 draws): 0.604.
    EXPECT_NEAR(areaSum / n, 0.604, 0.01);
}

TEST(Augment, CropResizeNormalises)
{
    auto img = torch::full({10, 12, 3}, 128, torch::kUInt8);
    const auto out = cropResizeNormalize(img, {1, 2, 8, 8}, 16);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 16, 16}));
    for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(out[c].mean().item<double>(), (128 / 255.0 - kImageNetMean[c]) / kImageNetStd[c], 1e-5);
    // Identity crop: no resampling, exact values; and back to uint8 unchanged.
    auto ramp = torch::arange(0, 8 * 8 * 3, torch::kInt64).remainder(256).to(torch::kUInt8).view({8, 8, 3});
    const auto same = cropResizeNormalize(ramp, {0, 0, 8, 8}, 8);
    EXPECT_TRUE(torch::equal(denormalizeToUint8(same.unsqueeze(0))[0].permute({1, 2, 0}), ramp));
}

TEST(DataLoader, SameBatchesForAnyThreadCountAndRestartPoint)
{
    const auto data = limitSource(openFashionMnist("train"), 40); // 5 batches of 8 per epoch
    DataLoader serial(data, smallLoader(0), smallMasks());
    DataLoader threaded(data, smallLoader(3), smallMasks());
    ASSERT_EQ(serial.batchesPerEpoch(), 5);
    serial.start(0);
    threaded.start(0);
    std::vector<Batch> straight;
    for (int i = 0; i < 12; ++i) {
        straight.push_back(serial.next());
        const Batch t = threaded.next();
        ASSERT_EQ(t.iteration, i);
        EXPECT_TRUE(torch::equal(straight.back().images, t.images)) << "iteration " << i;
        EXPECT_TRUE(torch::equal(straight.back().masks.enc, t.masks.enc));
        EXPECT_TRUE(torch::equal(straight.back().labels, t.labels));
    }
    EXPECT_EQ(straight[7].epoch, 1);
    // Each epoch visits every image once, in a different order.
    auto labelsOf = [&](int epoch) {
        std::vector<int64_t> l;
        for (int i = epoch * 5; i < epoch * 5 + 5; ++i)
            for (int j = 0; j < 8; ++j)
                l.push_back(straight[i].labels[j].item<int64_t>());
        return l;
    };
    auto e0 = labelsOf(0), e1 = labelsOf(1);
    EXPECT_NE(e0, e1);
    std::sort(e0.begin(), e0.end());
    std::sort(e1.begin(), e1.end());
    EXPECT_EQ(e0, e1);
    // Restarting at iteration 7 (mid-epoch 1) gives the same batches as the straight run.
    threaded.start(7);
    for (int i = 7; i < 12; ++i)
        EXPECT_TRUE(torch::equal(threaded.next().images, straight[i].images)) << "iteration " << i;
    threaded.stop();
    // Images are normalised crops; masks have the loader's grid.
    EXPECT_EQ(straight[0].images.sizes(), (std::vector<int64_t>{8, 3, 32, 32}));
    EXPECT_LT(straight[0].masks.enc.max().item<int64_t>(), 64);
}

TEST(DataLoader, SkipsAndNamesUnreadableFiles)
{
    TempDir dir;
    makeFolder(dir);
    auto o = smallLoader(2);
    o.batchSize = 5; // every one of the 15 files is visited each epoch
    DataLoader loader(openImageFolder(dir.path.string()), o, smallMasks());
    ASSERT_EQ(loader.batchesPerEpoch(), 3);
    loader.start(0);
    std::vector<std::string> skipped;
    for (int i = 0; i < 6; ++i) {
        const Batch b = loader.next();
        EXPECT_EQ(b.images.size(0), 5);
        EXPECT_TRUE(torch::isfinite(b.images).all().item<bool>());
        for (auto& s : loader.takeSkipped())
            skipped.push_back(s);
    }
    EXPECT_EQ(loader.skippedCount(), 3);
    ASSERT_EQ(skipped.size(), 3u); // each named once, though two epochs visited them
    std::sort(skipped.begin(), skipped.end());
    EXPECT_NE(skipped[0].find("cat/zz-fake.jpg"), std::string::npos);
    EXPECT_NE(skipped[1].find("dog/zz-empty.bmp"), std::string::npos);
    EXPECT_NE(skipped[2].find("zz-truncated.png"), std::string::npos);
}

TEST(DataLoader, BatchLargerThanTheDataIsAConfigError)
{
    auto o = smallLoader(0);
    o.batchSize = 64;
    try {
        DataLoader loader(limitSource(openFashionMnist("test"), 50), o, smallMasks());
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("data.batch_size"), std::string::npos);
    }
}

// Descriptions a person reads count in words: "1 image, 1 class", never "1 images" or "0 classes".
TEST(DataDescription, CountsReadAsWords)
{
    EXPECT_EQ(countOf(1, "image", "images"), "1 image");
    EXPECT_EQ(countOf(0, "image", "images"), "0 images");
    EXPECT_EQ(countOf(236, "image", "images"), "236 images");
    EXPECT_EQ(labelsPhrase(0), "unlabelled");
    EXPECT_EQ(labelsPhrase(1), "1 class");
    EXPECT_EQ(labelsPhrase(10), "10 classes");
}
