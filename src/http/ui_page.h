// The status page (GET /ui): src/http/ui/index.html, embedded at build time by
// src/http/embed_ui.cmake, and the SHA-256 digests of its inline <script> and <style> for the
// Content-Security-Policy that lets exactly those run and nothing else. Constants; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace kafka_autoscaler::http {

std::string_view UiPageHtml();
std::string_view UiScriptSha256Hex();  // 64 hex digits
std::string_view UiStyleSha256Hex();

// The Content-Security-Policy of GET /ui: no source but the page's own hashed script and style,
// fetches to this origin only, no frames, forms or base URI.
std::string UiContentSecurityPolicy();

}  // namespace kafka_autoscaler::http
