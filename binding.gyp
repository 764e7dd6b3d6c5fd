{
  "targets": [
    {
      "target_name": "threadmill_native",
      "sources": ["native/deflate.c"],
      "libraries": ["-ldeflate"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
