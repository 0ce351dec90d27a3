#include "cpu_isa.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#endif

namespace retinanet {

CpuIsa cpu_isa_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
    return CpuIsa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::kAvx2;
#endif
  return CpuIsa::kBaseline;
}

CpuIsa cpu_isa() {
  static const CpuIsa isa = [] {
    const CpuIsa best = cpu_isa_supported();
    const char* want = std::getenv("RETINANET_CPU_ISA");
    CpuIsa asked = best;
    if (want != nullptr && std::strcmp(want, "avx2") == 0) asked = CpuIsa::kAvx2;
    if (want != nullptr && std::strcmp(want, "baseline") == 0) asked = CpuIsa::kBaseline;
    return static_cast<int>(asked) < static_cast<int>(best) ? asked : best;
  }();
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512: return "avx512";
    case CpuIsa::kAvx2: return "avx2";
    default: return "baseline";
  }
}

long long l2_cache_bytes() {
  static const long long bytes = [] {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (v > 0) return static_cast<long long>(v);
#endif
    return 1LL << 20;
  }();
  return bytes;
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::string t;
  for (char c : text) if (!std::isspace(static_cast<unsigned char>(c))) t += c;
  if (t.empty()) return cpus;
  std::stringstream parts(t);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const size_t dash = part.find('-');
    const std::string lo_s = part.substr(0, dash), hi_s = dash == std::string::npos ? lo_s : part.substr(dash + 1);
    const auto number = [](const std::string& s) {
      if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
      return std::atoi(s.c_str());
    };
    const int lo = number(lo_s), hi = number(hi_s);
    if (lo < 0 || hi < lo) return {};
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

int most_sharing(const std::vector<int>& allowed, const std::function<std::string(int cpu)>& sharers_of) {
  int most = 1;
  for (int cpu : allowed) {
    int n = 0;
    for (int other : parse_cpu_list(sharers_of(cpu))) n += std::count(allowed.begin(), allowed.end(), other) > 0 ? 1 : 0;
    most = std::max(most, n);
  }
  return most;
}

namespace {

std::string first_line(const std::string& path) {
  std::ifstream f(path);
  std::string text;
  std::getline(f, text);
  return text;
}

// The CPUs sharing cpu's level-2 cache as sysfs lists them; where it lists no caches (some VMs),
// the core's SMT siblings, which share its L2 on every x86-64 and Arm core with SMT; "" when
// neither is there.
std::string l2_sharers(int cpu) {
  const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/";
  for (int index = 0; index < 8; ++index) {
    const std::string dir = base + "cache/index" + std::to_string(index) + "/";
    const std::string level = first_line(dir + "level");
    if (level.empty()) break;
    if (level == "2") return first_line(dir + "shared_cpu_list");
  }
  return first_line(base + "topology/thread_siblings_list");
}

}  // namespace

int l2_sharing_cpus() {
  static const int n = [] {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    std::vector<int> allowed;
    for (int c = 0; c < CPU_SETSIZE; ++c) if (CPU_ISSET(c, &set)) allowed.push_back(c);
    return most_sharing(allowed, l2_sharers);
#else
    return 1;
#endif
  }();
  return n;
}

}  // namespace retinanet
