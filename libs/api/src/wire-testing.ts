// For tests: Kiln requests as raw protobuf bytes, to send what Kiln's own clients (int64 read as JS numbers) cannot.

/** A protobuf varint of a 64-bit two's complement value. */
export function varint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v ? low | 0x80 : low);
  } while (v);
  return Buffer.from(bytes);
}

/** GetModelVersionRequest { model = 1; version = 2 } as bytes (a model name under 128 bytes). */
export function getModelVersionRequestBytes(model: string, version: bigint): Buffer {
  const name = Buffer.from(model);
  return Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x10]), varint(version)]);
}
