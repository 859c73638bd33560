// One core's peak multiply-add rate in fp32 (VFMADD231PS) and in bf16 (VDPBF16PS, AVX512_BF16),
// from independent register-only chains: the ceiling of any matrix-product kernel on this CPU.
// The CPU bf16 path pays only where the bf16 ceiling is well above the fp32 one (docs/research/cpu-speed.md, "bf16 on
// CPU"). AMX is not measured (LibTorch's oneDNN uses it where the kernel grants it). Where the CPU
// has AVX512-FP16 it also times fp16 multiply-adds (VFMADD231PH, accumulating in fp16), the one
// other format that could double the products; LibTorch 1.13 has no CPU fp16 product to use it.
//
// Build and run (x86-64, GCC 12 or newer as in Debian 12, a CPU with avx512_bf16):
//   cc -O2 -mavx512f -mavx512bf16 bench/cpu_peak.c -o /tmp/cpu_peak && /tmp/cpu_peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { kIterations = 20000000 };

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// CHAINS independent accumulators (enough to hide the instruction's latency, few enough to stay
// in registers); returns GFLOP/s, counting a multiply-add as 2.
#define PEAK(NAME, CHAINS, INIT, STEP, FLOPS_PER_INSTRUCTION)                                                      \
    static double NAME(void)                                                                                     \
    {                                                                                                            \
        __m512 acc[CHAINS];                                                                                      \
        for (int i = 0; i < CHAINS; ++i)                                                                         \
            acc[i] = _mm512_set1_ps(i * 1e-3f);                                                                  \
        INIT;                                                                                                    \
        const double start = seconds();                                                                          \
        for (long k = 0; k < kIterations; ++k) {                                                                 \
            _Pragma("GCC unroll 16") for (int i = 0; i < CHAINS; ++i) acc[i] = STEP;                            \
        }                                                                                                        \
        const double s = seconds() - start;                                                                      \
        float sink = 0;                                                                                          \
        for (int i = 0; i < CHAINS; ++i)                                                                         \
            sink += _mm512_reduce_add_ps(acc[i]);                                                                \
        if (sink == 42.0f)                                                                                       \
            puts("");                                                                                            \
        return (double)kIterations * CHAINS * FLOPS_PER_INSTRUCTION / s / 1e9;                                   \
    }

#define FP32_INIT const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-6f)
#define BF16_INIT const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3c00)
PEAK(fp32_4, 4, FP32_INIT, _mm512_fmadd_ps(a, acc[i], b), 32)
PEAK(fp32_12, 12, FP32_INIT, _mm512_fmadd_ps(a, acc[i], b), 32)
PEAK(bf16_4, 4, BF16_INIT, _mm512_dpbf16_ps(acc[i], x, y), 64)
PEAK(bf16_12, 12, BF16_INIT, _mm512_dpbf16_ps(acc[i], x, y), 64)

#define FP16_INIT const __m512h a = _mm512_set1_ph((_Float16)0.999f), b = _mm512_set1_ph((_Float16)1e-4f)
#define FP16_PEAK(NAME, CHAINS)                                                                                   \
    __attribute__((target("avx512fp16,avx512bw,avx512vl"))) static double NAME(void)                              \
    {                                                                                                            \
        __m512h acc[CHAINS];                                                                                     \
        for (int i = 0; i < CHAINS; ++i)                                                                         \
            acc[i] = _mm512_set1_ph((_Float16)(i * 1e-3f));                                                      \
        FP16_INIT;                                                                                               \
        const double start = seconds();                                                                          \
        for (long k = 0; k < kIterations; ++k) {                                                                 \
            _Pragma("GCC unroll 16") for (int i = 0; i < CHAINS; ++i) acc[i] = _mm512_fmadd_ph(a, acc[i], b);   \
        }                                                                                                        \
        const double s = seconds() - start;                                                                      \
        _Float16 sink = 0;                                                                                       \
        for (int i = 0; i < CHAINS; ++i)                                                                         \
            sink += _mm512_reduce_add_ph(acc[i]);                                                                \
        if (sink == (_Float16)42.0f)                                                                             \
            puts("");                                                                                            \
        return (double)kIterations * CHAINS * 64 / s / 1e9;                                                      \
    }
FP16_PEAK(fp16_4, 4)
FP16_PEAK(fp16_12, 12)

static double best(double a, double b) { return a > b ? a : b; }

int main(void)
{
    const double fp32 = best(fp32_4(), fp32_12()), bf16 = best(bf16_4(), bf16_12());
    printf("one core's peak: fp32 %.0f GFLOP/s (VFMADD231PS zmm), bf16 %.0f GFLOP/s (VDPBF16PS zmm): bf16 / fp32 %.2f\n",
           fp32, bf16, bf16 / fp32);
    if (__builtin_cpu_supports("avx512fp16")) {
        const double fp16 = best(fp16_4(), fp16_12());
        printf("fp16 (VFMADD231PH zmm, AVX512-FP16) %.0f GFLOP/s: fp16 / fp32 %.2f\n", fp16, fp16 / fp32);
    }
    return 0;
}
