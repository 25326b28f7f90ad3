// UTF-8 bookkeeping for byte input. Decoding itself is TextDecoder's (fast, exact WHATWG
// semantics); these helpers only recover byte positions for error reports.

/**
 * Number of bytes at the end of `bytes` that form an incomplete but still valid UTF-8 sequence,
 * which a streaming TextDecoder holds back until the next chunk.
 */
export function incompleteTailLength(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const lead = bytes[n - k];
    if ((lead & 0xc0) === 0x80) continue;
    const need =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 1;
    if (need <= k) return 0;
    let lower = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    let upper = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let j = 1; j < k; j++) {
      const b = bytes[n - k + j];
      if (b < lower || b > upper) return 0;
      lower = 0x80;
      upper = 0xbf;
    }
    return k;
  }
  return 0;
}

/**
 * Byte index in `bytes` where the UTF-16 code unit `unitIndex` of its WHATWG decoding starts
 * (invalid sequences decode to one U+FFFD per maximal subpart, as TextDecoder does).
 */
export function byteIndexOfUnit(bytes: Uint8Array, unitIndex: number): number {
  let i = 0;
  let units = 0;
  while (i < bytes.length && units < unitIndex) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      units++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else {
      i++;
      units++;
      continue;
    }
    let j = 1;
    for (; j <= need; j++) {
      const c = bytes[i + j];
      if (c === undefined || c < lower || c > upper) break;
      lower = 0x80;
      upper = 0xbf;
    }
    if (j <= need) {
      // A maximal subpart becomes one U+FFFD; the byte that broke it starts the next character.
      i += j;
      units++;
    } else {
      i += need + 1;
      units += need === 3 ? 2 : 1;
    }
  }
  return i;
}
