/** Helpers of the NPY tests (test/io.test.ts, test/npy.test.ts). */
/** A .npy file of format `version` (1, 2 or 3) with this header text, as is (no padding), and data. */
export function npyFile(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Buffer {
  const text = Buffer.from(header, version === 3 ? 'utf8' : 'latin1');
  const prefix = Buffer.from(`\x93NUMPY${String.fromCharCode(version)}\x00`, 'latin1');
  const length = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) length.writeUInt16LE(text.length);
  else length.writeUInt32LE(text.length);
  return Buffer.concat([prefix, length, text, data]);
}
