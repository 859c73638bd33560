// One core's peak multiply-add rate in fp32 (VFMADD231PS) and in bf16 (VDPBF16PS, AVX512_BF16),
// from independent register-only chains: the ceiling of any matrix-product kernel on this CPU.
// The CPU bf16 path pays only where the bf16 ceiling is well above the fp32 one (README, "bf16 on
// CPU"). AMX is not measured (LibTorch's oneDNN uses it where the kernel grants it).
//
// Build and run (x86-64, GCC 10 or newer, a CPU with avx512_bf16):
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

static double best(double a, double b) { return a > b ? a : b; }

int main(void)
{
    const double fp32 = best(fp32_4(), fp32_12()), bf16 = best(bf16_4(), bf16_12());
    printf("one core's peak: fp32 %.0f GFLOP/s (VFMADD231PS zmm), bf16 %.0f GFLOP/s (VDPBF16PS zmm): bf16 / fp32 %.2f\n",
           fp32, bf16, bf16 / fp32);
    return 0;
}
