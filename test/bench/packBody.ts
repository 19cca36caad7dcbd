/**
 * The msgpack body of a record the codec wrote: after the format byte and, in formats 3 and 4,
 * before the CRC-32 trailer. The raw baselines decode just that, without checking the checksum,
 * as a plain LRANGE + unpack would; troupe's own reads do check it (that cost is in the ratio).
 */
export function packBody(bytes: Buffer): Buffer {
  return bytes[0]! >= 3 ? bytes.subarray(1, bytes.length - 4) : bytes.subarray(1);
}
