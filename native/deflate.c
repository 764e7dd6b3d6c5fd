/*
 * Optional native inflate for BGZF blocks: libdeflate (the library htslib and samtools use)
 * behind Node-API. Why: node:zlib inflated this project's BAM benchmark at 250-350 MB/s and was
 * 40% of a worker's time; libdeflate does 420 MB/s on the same blocks here, and it inflates into
 * a buffer we give it, so the worker's window is filled in place (no Buffer per block, no copy).
 * Everything works without it (src/engine/native.ts falls back to node:zlib).
 */
#include <node_api.h>
#include <libdeflate.h>

static void free_decompressor(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  libdeflate_free_decompressor((struct libdeflate_decompressor *)data);
}

static int bytes_of(napi_env env, napi_value v, uint8_t **p, size_t *n) {
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *p = (uint8_t *)data;
  *n = length;
  return 1;
}

/* inflateRaw(src, dst): bytes written to dst; -1 for bad deflate data, -2 when dst is too small. */
static napi_value inflate_raw(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  uint8_t *src, *dst;
  size_t sn, dn, got = 0;
  struct libdeflate_decompressor *d;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !bytes_of(env, argv[0], &src, &sn) || !bytes_of(env, argv[1], &dst, &dn)) {
    napi_throw_type_error(env, NULL, "inflateRaw(src: Uint8Array, dst: Uint8Array)");
    return NULL;
  }
  napi_get_instance_data(env, (void **)&d);
  enum libdeflate_result r = libdeflate_deflate_decompress(d, src, sn, dst, dn, &got);
  napi_create_double(env, r == LIBDEFLATE_SUCCESS ? (double)got : r == LIBDEFLATE_INSUFFICIENT_SPACE ? -2 : -1, &out);
  return out;
}

/* crc32(data): the gzip CRC-32 of data. */
static napi_value crc32(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  uint8_t *src;
  size_t sn;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !bytes_of(env, argv[0], &src, &sn)) {
    napi_throw_type_error(env, NULL, "crc32(data: Uint8Array)");
    return NULL;
  }
  napi_create_uint32(env, libdeflate_crc32(0, src, sn), &out);
  return out;
}

/* One decompressor per module instance, i.e. per worker thread (it is not thread-safe). */
NAPI_MODULE_INIT() {
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  napi_value f;
  if (d == NULL) {
    napi_throw_error(env, NULL, "libdeflate_alloc_decompressor failed");
    return NULL;
  }
  napi_set_instance_data(env, d, free_decompressor, NULL);
  napi_create_function(env, "inflateRaw", NAPI_AUTO_LENGTH, inflate_raw, NULL, &f);
  napi_set_named_property(env, exports, "inflateRaw", f);
  napi_create_function(env, "crc32", NAPI_AUTO_LENGTH, crc32, NULL, &f);
  napi_set_named_property(env, exports, "crc32", f);
  return exports;
}
