// A CPU allocator that keeps freed large blocks for reuse, installed when the addon loads.
#include "dl.h"
#include <c10/core/CPUAllocator.h>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <unistd.h>

namespace dl {

// libtorch's default CPU allocator is posix_memalign/free. glibc serves blocks above its mmap
// threshold (at most 32 MiB) with fresh mmap()s and trims freed heap memory back to the OS, so a
// training step that frees and re-allocates the same large activations and gradients every
// iteration page-faults all of them again (measured: ~10,000 minor faults and tens of ms of system
// time per step of the small CNN at batch 128). Like PyTorch's CUDA caching allocator, this one
// keeps freed blocks of 256 KiB and more, by exact page-rounded size, up to a byte limit
// (DLTHEORY_CPU_CACHE_MB, default min(1024, RAM/8); 0 turns caching off). Smaller blocks go straight
// to posix_memalign/free. Contents are not zeroed, as with the default allocator.
namespace {
struct CachingCPUAllocator final : at::Allocator {
  static constexpr size_t kAlign = 64;         // c10's gAlignment
  static constexpr size_t kMinCached = 256 << 10;
  std::mutex mu;
  std::unordered_map<void*, size_t> large;     // every live or cached large block → its size
  std::unordered_map<size_t, std::vector<void*>> cache;
  size_t cached = 0;
  size_t limit = 0;

  static size_t roundUp(size_t n) { return (n + 4095) & ~size_t(4095); }

  void flushLocked() {
    for (auto& [size, blocks] : cache)
      for (void* p : blocks) {
        large.erase(p);
        std::free(p);
      }
    cache.clear();
    cached = 0;
  }
  void* take(size_t n) {
    if (n == 0) return nullptr;
    bool big = n >= kMinCached;
    size_t size = big ? roundUp(n) : n;
    if (big && limit > 0) {
      std::lock_guard<std::mutex> lock(mu);
      auto it = cache.find(size);
      if (it != cache.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached -= size;
        return p;
      }
    }
    void* p = nullptr;
    if (posix_memalign(&p, kAlign, size) != 0) {
      {
        std::lock_guard<std::mutex> lock(mu);
        flushLocked();
      }
      if (posix_memalign(&p, kAlign, size) != 0)
        TORCH_CHECK(false, "DefaultCPUAllocator: not enough memory: you tried to allocate ", n, " bytes.");
    }
    if (big) {
      std::lock_guard<std::mutex> lock(mu);
      large.emplace(p, size);
    }
    return p;
  }
  void give(void* p) {
    if (!p) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = large.find(p);
      if (it != large.end()) {
        size_t size = it->second;
        if (size <= limit) {
          if (cached + size > limit) flushLocked();
          cache[size].push_back(p);
          cached += size;
          return;
        }
        large.erase(it);
      }
    }
    std::free(p);  // small blocks, blocks over the limit, and any block allocated before this one was installed
  }

  static void deleter(void* p);
  at::DataPtr allocate(size_t n) const override {
    void* p = const_cast<CachingCPUAllocator*>(this)->take(n);
    return {p, p, &deleter, at::Device(at::kCPU)};
  }
  at::DeleterFnPtr raw_deleter() const override { return &deleter; }
};
// Never destroyed: tensors may be freed by other static destructors at exit.
CachingCPUAllocator* const cpuAllocator = new CachingCPUAllocator();
void CachingCPUAllocator::deleter(void* p) { cpuAllocator->give(p); }
}  // namespace

void installCpuAllocator() {
  size_t limitMb = 1024;
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && pageSize > 0) limitMb = std::min<size_t>(limitMb, size_t(pages) * size_t(pageSize) / 8 / (1 << 20));
  if (const char* env = std::getenv("DLTHEORY_CPU_CACHE_MB")) limitMb = std::strtoull(env, nullptr, 10);
  cpuAllocator->limit = limitMb << 20;
  if (cpuAllocator->limit > 0) c10::SetCPUAllocator(cpuAllocator, /*priority=*/10);
}

}  // namespace dl
