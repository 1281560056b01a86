{
  "targets": [
    {
      "target_name": "nmt_hash",
      "sources": ["nmt_hash.c"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_SUPPRESS_DEPRECATED"],
      "cflags": ["-O3"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
    }
  ]
}
