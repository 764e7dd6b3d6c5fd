/*
 * Optional native deflate/inflate: libdeflate (the library htslib and samtools use) behind
 * Node-API. Why: node:zlib inflated this project's BAM benchmark at 250-350 MB/s and was 40% of a
 * worker's time; libdeflate does 420 MB/s on the same blocks here, and it inflates into a buffer
 * we give it, so the worker's window is filled in place (no Buffer per block, no copy). For nostr's
 * day files, libdeflate at level 6 compressed the same segments 2.0-2.7x faster than node:zlib.
 * Everything works without it (src/engine/native.ts falls back to node:zlib).
 */
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <libdeflate.h>
#include <zlib.h>

/* Per module instance, i.e. per worker thread: libdeflate's (de)compressors are not thread-safe. */
struct instance {
  struct libdeflate_decompressor *decompressor;
  struct libdeflate_compressor *compressors[13];
};

static void free_instance(napi_env env, void *data, void *hint) {
  struct instance *in = (struct instance *)data;
  (void)env;
  (void)hint;
  libdeflate_free_decompressor(in->decompressor);
  for (int i = 0; i < 13; i++) if (in->compressors[i]) libdeflate_free_compressor(in->compressors[i]);
  free(in);
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
  struct instance *in;
  napi_get_instance_data(env, (void **)&in);
  d = in->decompressor;
  enum libdeflate_result r = libdeflate_deflate_decompress(d, src, sn, dst, dn, &got);
  napi_create_double(env, r == LIBDEFLATE_SUCCESS ? (double)got : r == LIBDEFLATE_INSUFFICIENT_SPACE ? -2 : -1, &out);
  return out;
}

/* crc32(data, crc = 0): the gzip CRC-32 of data, continuing from crc. */
static napi_value crc32_of(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  uint8_t *src;
  size_t sn;
  uint32_t init = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !bytes_of(env, argv[0], &src, &sn)) {
    napi_throw_type_error(env, NULL, "crc32(data: Uint8Array, crc?: number)");
    return NULL;
  }
  if (argc >= 2) napi_get_value_uint32(env, argv[1], &init);
  napi_create_uint32(env, libdeflate_crc32(init, src, sn), &out);
  return out;
}

/*
 * Makes a complete raw deflate stream (what libdeflate writes) end the way zlib's Z_SYNC_FLUSH
 * does, so streams compressed apart concatenate into one (pigz's method): the last block's BFINAL
 * bit is cleared and an empty stored block (3 zero bits, byte alignment, 00 00 FF FF) follows its
 * end-of-block code. libdeflate has no flush modes, so the bit positions come from zlib's inflate
 * with Z_BLOCK, which stops at every block boundary and reports the unused bits of the last byte
 * (zlib's examples/gzjoin.c uses the same). Returns the new length, or 0 on bad data.
 */
static size_t end_with_sync_flush(uint8_t *buf, size_t n) {
  z_stream z;
  unsigned char scratch[65536];
  size_t header = 0, end = 0;
  int found = 0;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -15) != Z_OK) return 0;
  z.next_in = buf;
  z.avail_in = (uInt)n;
  for (;;) {
    z.next_out = scratch;
    z.avail_out = sizeof scratch;
    int r = inflate(&z, Z_BLOCK);
    if (r != Z_OK && r != Z_BUF_ERROR) break;
    if (z.data_type & 128) {
      size_t at = (size_t)z.total_in * 8 - (size_t)(z.data_type & 7);
      if (z.data_type & 64) {
        end = at;
        found = 1;
        break;
      }
      header = at;
    }
    if (r == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (!found) return 0;
  buf[header >> 3] &= (uint8_t)~(1u << (header & 7));
  size_t len = (end + 7) >> 3;
  if (end & 7) buf[len - 1] &= (uint8_t)((1u << (end & 7)) - 1);
  /* The stored block's 3 header bits: in the last byte's free bits, or in one more zero byte. */
  if ((end & 7) == 0 || 8 - (end & 7) < 3) buf[len++] = 0;
  buf[len++] = 0x00;
  buf[len++] = 0x00;
  buf[len++] = 0xff;
  buf[len++] = 0xff;
  return len;
}

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* deflateSyncFlush(data, level): raw deflate of data ending in a sync flush (see above). */
static napi_value deflate_sync_flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], ab, out;
  uint8_t *src;
  size_t sn;
  int32_t level = 6;
  struct instance *in;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !bytes_of(env, argv[0], &src, &sn) || napi_get_value_int32(env, argv[1], &level) != napi_ok || level < 0 || level > 12) {
    napi_throw_type_error(env, NULL, "deflateSyncFlush(data: Uint8Array, level: 0..12)");
    return NULL;
  }
  napi_get_instance_data(env, (void **)&in);
  if (!in->compressors[level]) in->compressors[level] = libdeflate_alloc_compressor(level);
  struct libdeflate_compressor *c = in->compressors[level];
  size_t bound = libdeflate_deflate_compress_bound(c, sn) + 8;
  uint8_t *dst = malloc(bound);
  if (c == NULL || dst == NULL) {
    free(dst);
    napi_throw_error(env, NULL, "deflateSyncFlush: out of memory");
    return NULL;
  }
  size_t got = libdeflate_deflate_compress(c, src, sn, dst, bound - 8);
  got = got == 0 ? 0 : end_with_sync_flush(dst, got);
  if (got == 0) {
    free(dst);
    napi_throw_error(env, NULL, "deflateSyncFlush: libdeflate's output could not be re-ended");
    return NULL;
  }
  napi_create_external_arraybuffer(env, dst, got, free_buffer, NULL, &ab);
  napi_create_typedarray(env, napi_uint8_array, got, ab, 0, &out);
  return out;
}

/* One decompressor per module instance, i.e. per worker thread (it is not thread-safe). */
NAPI_MODULE_INIT() {
  struct instance *in = calloc(1, sizeof *in);
  napi_value f;
  if (in == NULL || (in->decompressor = libdeflate_alloc_decompressor()) == NULL) {
    free(in);
    napi_throw_error(env, NULL, "libdeflate_alloc_decompressor failed");
    return NULL;
  }
  napi_set_instance_data(env, in, free_instance, NULL);
  napi_create_function(env, "deflateSyncFlush", NAPI_AUTO_LENGTH, deflate_sync_flush, NULL, &f);
  napi_set_named_property(env, exports, "deflateSyncFlush", f);
  napi_create_function(env, "inflateRaw", NAPI_AUTO_LENGTH, inflate_raw, NULL, &f);
  napi_set_named_property(env, exports, "inflateRaw", f);
  napi_create_function(env, "crc32", NAPI_AUTO_LENGTH, crc32_of, NULL, &f);
  napi_set_named_property(env, exports, "crc32", f);
  return exports;
}
