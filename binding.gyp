{
  "targets": [
    {
      "target_name": "threadmill_native",
      "sources": ["native/deflate.c"],
      "libraries": ["-ldeflate", "-lz"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
