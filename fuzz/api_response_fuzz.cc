// Fuzzes what the API client does with a server's answer: the Status body (ParseApiStatus), the
// Error built from a non-2xx response with its Retry-After header (ErrorFromResponse), and the
// Lease timestamps (ParseTime). Input: first line = Retry-After value, second line = timestamp,
// the rest = body; the status is derived from the input's length.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kube/client.h"
#include "kube/deployment_target.h"

namespace ka = kafka_autoscaler;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl1 = input.find('\n');
  const std::string retry_after = input.substr(0, nl1);
  const std::string rest = nl1 == std::string::npos ? "" : input.substr(nl1 + 1);
  const size_t nl2 = rest.find('\n');
  const std::string timestamp = rest.substr(0, nl2);
  const std::string body = nl2 == std::string::npos ? rest : rest.substr(nl2 + 1);

  (void)ka::kube::ParseApiStatus(body);
  static const long kStatuses[] = {400, 401, 403, 404, 409, 422, 429, 500, 503, 504};
  ka::kube::HttpResponse response{
      .status = kStatuses[size % 10], .body = body, .headers = {{"retry-after", retry_after}}};
  const ka::Error e = ka::kube::ErrorFromResponse(response, {.verb = "patch",
                                                             .resource = "deployments/scale",
                                                             .namespace_name = "default",
                                                             .name = "workers"});
  (void)e.ToString();
  auto t = ka::kube::ParseTime(timestamp);
  if (t) (void)ka::kube::FormatMicroTime(*t);
  return 0;
}
