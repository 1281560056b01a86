{
  "targets": [
    {
      "target_name": "nmt_hash",
      "sources": ["nmt_hash.c", "jmt_hash.c", "sha256_pair.c"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_SUPPRESS_DEPRECATED"]
    }
  ]
}
