// Fuzzes kubeconfig parsing: kube::KubeconfigOptions on a file holding the input (the daemon
// reads KUBECONFIG from disk), with and without an explicit context.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "kube/kube_config.h"

namespace ka = kafka_autoscaler;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/ka-kubeconfig-fuzz-" + std::to_string(getpid());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto options = ka::kube::KubeconfigOptions(path);
  if (!options) (void)options.error().ToString();
  auto named = ka::kube::KubeconfigOptions(path, "test");
  if (!named) (void)named.error().ToString();
  std::remove(path.c_str());  // written anew for each input; none is left behind
  return 0;
}
