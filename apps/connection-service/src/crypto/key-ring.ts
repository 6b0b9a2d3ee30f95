/** One AES-256 key of the ring, named by the id stored next to every ciphertext it produced. */
export interface RingKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The parsed `TOKEN_ENCRYPTION_KEYS`: the first key encrypts, every key decrypts. */
export interface KeyRing {
  readonly primary: RingKey;
  readonly keys: ReadonlyMap<string, RingKey>;
}

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why a key ring is malformed. The message never contains key material. */
export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

/**
 * Parses `keyId:base64key,keyId:base64key,…` (standard base64 of exactly 32 bytes each, unique ids).
 * @throws KeyRingError naming the entry (by position and id) that is wrong
 */
export function parseKeyRing(text: string): KeyRing {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new KeyRingError('is required: a comma-separated list of keyId:base64key (32-byte keys)');
  }
  const keys = new Map<string, RingKey>();
  const ordered: RingKey[] = [];
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1}`;
    const separator = entry.indexOf(':');
    if (separator <= 0) throw new KeyRingError(`${position} is not keyId:base64key`);
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    if (!KEY_ID.test(id)) {
      throw new KeyRingError(`${position} has a key id that is not 1-32 letters, digits, _ or -`);
    }
    if (!BASE64.test(encoded)) throw new KeyRingError(`key "${id}" is not standard base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new KeyRingError(`key "${id}" is ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}`);
    }
    if (keys.has(id)) throw new KeyRingError(`key id "${id}" appears twice`);
    const ringKey = { id, key };
    keys.set(id, ringKey);
    ordered.push(ringKey);
  });
  const [primary] = ordered;
  if (!primary)
    throw new KeyRingError('is required: a comma-separated list of keyId:base64key (32-byte keys)');
  return { primary, keys };
}
