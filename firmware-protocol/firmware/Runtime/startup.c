// Vector table, reset handler, the millisecond clock, sleeping between interrupts, and the few C
// runtime symbols Embedded Swift needs on bare metal (no libc here). Compiled with the Swift
// toolchain's clang:
//   clang --target=armv7em-none-eabi -mcpu=cortex-m4 -mthumb -Os -ffreestanding
#include <stddef.h>
#include <stdint.h>

extern uint32_t __stack_top, __stack_size, __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern void stedi_firmware_main(void);  // Swift, Board/Main.swift (@_cdecl)

#define REG(address) (*(volatile uint32_t *)(address))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define NVIC_ISER0 REG(0xE000E100u)
#define SCB_CPACR REG(0xE000ED88u)
#define TIMER0_CTRL REG(0x40000000u)
#define TIMER0_VALUE REG(0x40000004u)
#define TIMER0_RELOAD REG(0x40000008u)
#define UART0_DATA REG(0x40004000u)
#define UART0_STATE REG(0x40004004u)
#define UART0_CTRL REG(0x40004008u)
#define UART0_INTCLEAR REG(0x4000400Cu)
#define UART0_BAUDDIV REG(0x40004010u)

// QEMU's mps2-an386 clocks the CPU (and so SysTick with CLKSOURCE = processor) and the APB
// peripherals (the CMSDK timers) at 25 MHz.
#define CORE_CLOCK_HZ 25000000u
#define TICKS_PER_MS (CORE_CLOCK_HZ / 1000u)
// UART0's receive interrupt is IRQ 0 on mps2-an385/an386 (hw/arm/mps2.c: uartirq[0], TX is 1).
#define UART0_RX_IRQ 0u

// ---- The millisecond clock ----------------------------------------------------------------
// Time comes from CMSDK APB timer 0 running free (32-bit down-counter at 25 MHz, reload
// 0xFFFFFFFF: one wrap every 171.8 s), not from counting SysTick interrupts. QEMU computes a timer's
// value from its virtual clock, which follows the host's clock, so a read is right even when the
// emulator was starved and delivered fewer interrupts than periods went by (counting SysTick
// interrupts ran 18 % slow on a loaded host). QEMU does not model the DWT cycle counter (it reads 0).
//
// Each read adds the ticks since the previous read, so 32-bit hardware division is enough. Only
// the main loop calls it (never an interrupt handler), and it runs at least once per SysTick
// wake-up: far more often than once per wrap.
static uint32_t clock_last_up;    // the timer as an up-count at the previous read
static uint32_t clock_sub_ms;     // ticks since the last whole millisecond
static uint64_t clock_ms;         // whole milliseconds since the clock started

uint64_t stedi_milliseconds(void) {
  uint32_t up = ~TIMER0_VALUE;  // 0xFFFFFFFF - value: counts up, wraps to 0 with the timer
  uint32_t delta = up - clock_last_up;  // modulo 2^32: right while reads are < 171 s apart
  clock_last_up = up;
  clock_ms += delta / TICKS_PER_MS;
  clock_sub_ms += delta % TICKS_PER_MS;
  if (clock_sub_ms >= TICKS_PER_MS) {
    clock_sub_ms -= TICKS_PER_MS;
    clock_ms += 1;
  }
  return clock_ms;
}

// The SysTick down-counter (24 bits, 25 MHz): sub-millisecond jitter for entropy mixing.
uint32_t stedi_systick_value(void) { return SYST_CVR; }

// SysTick is the alarm that ends a sleep (stedi_sleep_until reprograms it each time); it keeps
// no time, so its handler has nothing to do.
void SysTick_Handler(void) {}

// A received byte wakes the core; the main loop reads it from UART0's DATA register. The
// interrupt is latched in INTSTATUS, so it is cleared here or it would fire again at once.
void UART0_RX_Handler(void) { UART0_INTCLEAR = 0x2u; }

void stedi_clock_start(void) {
  TIMER0_CTRL = 0;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 0x1u;  // enable, no interrupt
  clock_last_up = ~TIMER0_VALUE;
  SYST_RVR = TICKS_PER_MS - 1u;  // 1 ms until the first sleep sets its own period
  SYST_CVR = 0;
  SYST_CSR = 0x7;  // ENABLE | TICKINT | CLKSOURCE = processor clock
  // UART0's own RX interrupt enable is set by the board (CMSDKUART.start); this lets it through.
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

// The longest SysTick period: 2^24 ticks at 25 MHz, 671 ms. A longer sleep wakes, finds nothing
// due and sleeps again (which also keeps the clock's reads far less than a timer wrap apart).
#define SYSTICK_MAX_TICKS 0x1000000u

// Sleeps until the clock reaches `due_ms` or a byte arrives on UART0, whichever comes first;
// returns at once if either already happened. SysTick is set to fire at `due_ms` (tickless: an
// idle device wakes for its samples and timers only, not every millisecond). Interrupts are masked
// around the checks so an interrupt between them and the WFI still ends the WFI (a pending
// interrupt wakes the core even while masked); its handler runs once they are unmasked.
void stedi_sleep_until(uint64_t due_ms) {
  __asm volatile("cpsid i" ::: "memory");
  uint64_t now = stedi_milliseconds();
  if (due_ms > now && !(UART0_STATE & 0x2u)) {
    uint64_t wait_ms = due_ms - now;
    // `now` is clock_sub_ms ticks into its millisecond: due_ms begins that much sooner.
    uint32_t ticks = wait_ms >= SYSTICK_MAX_TICKS / TICKS_PER_MS ? SYSTICK_MAX_TICKS
                                                                  : (uint32_t)wait_ms * TICKS_PER_MS - clock_sub_ms;
    SYST_RVR = ticks - 1u;  // fires `ticks` ticks after the counter restarts
    SYST_CVR = 0;           // restart now (a write clears it without firing)
    __asm volatile("dsb\n wfi" ::: "memory");
  }
  __asm volatile("cpsie i\n isb" ::: "memory");
}

// A last word on the UART before stopping, so a trap (Swift precondition, bad access) is visible.
static void fault_say(const char *text) {
  UART0_CTRL = 0x3;
  for (; *text; ++text) {
    while (UART0_STATE & 1u) {}
    UART0_DATA = (uint8_t)*text;
  }
}

void HardFault_Handler(void) {
  fault_say("\r\n[stedi-fw] HardFault (Swift trap or bad access)\r\n");
  for (;;) __asm volatile("wfi");
}

void Default_Handler(void) {
  fault_say("\r\n[stedi-fw] unexpected exception\r\n");
  for (;;) __asm volatile("wfi");
}

void Reset_Handler(void) {
  // Copy .data from flash, zero .bss (Swift globals with static initialisers live there).
  uint32_t *src = &__data_load, *dst = &__data_start;
  while (dst < &__data_end) *dst++ = *src++;
  for (dst = &__bss_start; dst < &__bss_end; ++dst) *dst = 0;
  // Paint the lowest __stack_size bytes of the stack (up to just below this frame) so a debugger
  // or QEMU's monitor can read the high-water mark (tools/handshake.py does).
  uint32_t *sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (dst = (uint32_t *)((uintptr_t)&__stack_top - (uintptr_t)&__stack_size); dst < sp - 16; ++dst)
    *dst = 0xA5A5A5A5u;
  // Full access to CP10/CP11 (the FPU), in case the compiler uses VFP registers.
  SCB_CPACR |= 0xFu << 20;
  __asm volatile("dsb\n isb");
  stedi_firmware_main();
  for (;;) __asm volatile("wfi");
}

// Cortex-M vector table: initial stack pointer, the 15 system exceptions, then external
// interrupts 0 (UART0 RX, a wake-up) and 1 (UART0 TX, never enabled).
__attribute__((section(".vectors"), used)) void (*const vector_table[18])(void) = {
    (void (*)(void))(&__stack_top),
    Reset_Handler,
    Default_Handler,    // NMI
    HardFault_Handler,  // HardFault
    HardFault_Handler,  // MemManage
    HardFault_Handler,  // BusFault
    HardFault_Handler,  // UsageFault (udf from a Swift trap)
    0, 0, 0, 0,
    Default_Handler,  // SVCall
    Default_Handler,  // DebugMon
    0,
    Default_Handler,  // PendSV
    SysTick_Handler,
    UART0_RX_Handler,  // IRQ 0
    Default_Handler,   // IRQ 1
};

// ---- C runtime symbols (no libc) -----------------------------------------------------------
// Volatile stores keep clang from turning the loops back into calls to themselves.
void *memset(void *dest, int value, size_t count) {
  volatile uint8_t *d = dest;
  while (count--) *d++ = (uint8_t)value;
  return dest;
}

void *memcpy(void *restrict dest, const void *restrict src, size_t count) {
  volatile uint8_t *d = dest;
  const uint8_t *s = src;
  while (count--) *d++ = *s++;
  return dest;
}

void *memmove(void *dest, const void *src, size_t count) {
  volatile uint8_t *d = dest;
  const uint8_t *s = src;
  if (d < s) {
    while (count--) *d++ = *s++;
  } else {
    d += count;
    s += count;
    while (count--) *--d = *--s;
  }
  return dest;
}

int memcmp(const void *a, const void *b, size_t count) {
  const uint8_t *x = a, *y = b;
  for (; count; --count, ++x, ++y)
    if (*x != *y) return *x - *y;
  return 0;
}

// ARM EABI aliases LLVM emits for memory intrinsics.
void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memset4(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memset8(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }

// ---- 64-bit integer helpers (compiler-rt builtins are not shipped for ARM in this toolchain) --
// Only 32-bit operations inside, so clang does not call these helpers from themselves.
typedef union {
  uint64_t all;
  struct {
    uint32_t low, high;
  } s;
} u64_parts;

uint64_t __aeabi_llsr(uint64_t value, int shift) {
  u64_parts in = {.all = value}, out;
  if (shift >= 64) return 0;
  if (shift >= 32) {
    out.s.high = 0;
    out.s.low = in.s.high >> (shift - 32);
  } else if (shift == 0) {
    return value;
  } else {
    out.s.high = in.s.high >> shift;
    out.s.low = (in.s.low >> shift) | (in.s.high << (32 - shift));
  }
  return out.all;
}

uint64_t __aeabi_llsl(uint64_t value, int shift) {
  u64_parts in = {.all = value}, out;
  if (shift >= 64) return 0;
  if (shift >= 32) {
    out.s.low = 0;
    out.s.high = in.s.low << (shift - 32);
  } else if (shift == 0) {
    return value;
  } else {
    out.s.low = in.s.low << shift;
    out.s.high = (in.s.high << shift) | (in.s.low >> (32 - shift));
  }
  return out.all;
}

// Unsigned 64-bit division by shift and subtract on 32-bit halves (hardware udiv when both fit).
uint64_t stedi_udivmod64(uint64_t numerator, uint64_t denominator, uint64_t *remainder) {
  u64_parts n = {.all = numerator}, d = {.all = denominator};
  if (n.s.high == 0 && d.s.high == 0) {
    u64_parts q = {.s = {d.s.low ? n.s.low / d.s.low : 0, 0}};
    u64_parts r = {.s = {d.s.low ? n.s.low % d.s.low : 0, 0}};
    *remainder = r.all;
    return q.all;
  }
  u64_parts q = {.all = 0}, r = {.all = 0};
  if (d.s.low == 0 && d.s.high == 0) {  // division by zero: Swift traps before calling
    *remainder = 0;
    return 0;
  }
  for (int bit = 63; bit >= 0; --bit) {
    // r = (r << 1) | bit of n
    r.s.high = (r.s.high << 1) | (r.s.low >> 31);
    uint32_t nbit = bit >= 32 ? (n.s.high >> (bit - 32)) & 1u : (n.s.low >> bit) & 1u;
    r.s.low = (r.s.low << 1) | nbit;
    if (r.s.high > d.s.high || (r.s.high == d.s.high && r.s.low >= d.s.low)) {
      uint32_t borrow = r.s.low < d.s.low;
      r.s.low -= d.s.low;
      r.s.high -= d.s.high + borrow;
      if (bit >= 32) q.s.high |= 1u << (bit - 32); else q.s.low |= 1u << bit;
    }
  }
  *remainder = r.all;
  return q.all;
}

int64_t stedi_divmod64(int64_t numerator, int64_t denominator, int64_t *remainder) {
  int negative_n = numerator < 0, negative_d = denominator < 0;
  uint64_t un = negative_n ? 0 - (uint64_t)numerator : (uint64_t)numerator;
  uint64_t ud = negative_d ? 0 - (uint64_t)denominator : (uint64_t)denominator;
  uint64_t ur;
  uint64_t uq = stedi_udivmod64(un, ud, &ur);
  *remainder = negative_n ? -(int64_t)ur : (int64_t)ur;  // remainder takes the numerator's sign
  return (negative_n != negative_d) ? -(int64_t)uq : (int64_t)uq;
}

// EABI: quotient in r0:r1, remainder in r2:r3.
__attribute__((naked)) void __aeabi_uldivmod(void) {
  __asm volatile(
      "push {r4, lr}\n"
      "sub sp, sp, #16\n"
      "add r4, sp, #8\n"
      "str r4, [sp]\n"
      "bl stedi_udivmod64\n"
      "ldr r2, [sp, #8]\n"
      "ldr r3, [sp, #12]\n"
      "add sp, sp, #16\n"
      "pop {r4, pc}\n");
}

__attribute__((naked)) void __aeabi_ldivmod(void) {
  __asm volatile(
      "push {r4, lr}\n"
      "sub sp, sp, #16\n"
      "add r4, sp, #8\n"
      "str r4, [sp]\n"
      "bl stedi_divmod64\n"
      "ldr r2, [sp, #8]\n"
      "ldr r3, [sp, #12]\n"
      "add sp, sp, #16\n"
      "pop {r4, pc}\n");
}
