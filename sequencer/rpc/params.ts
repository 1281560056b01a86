// Method parameters, decoded as CometBFT decodes them: from a JSON-RPC body (named object or
// positional array) or from a GET query string (`/block?height=5`, `/tx_search?query="tx.height=5"`).
//
// Kinds, and how each is written in JSON and in a URI:
//   int     JSON number or decimal string ("5")        URI 5 or "5"
//   bool    JSON true/false                            URI true / false
//   string  JSON string                                URI "quoted" (JSON), 0x-hex of its bytes, or bare
//   base64  bytes as a base64 string (CometBFT []byte) URI 0x-hex, or "quoted" for the string's own bytes
//   hex     bytes as a hex string (CometBFT HexBytes)  URI 0x-hex, or "quoted" for the string's own bytes
//   hash    32 bytes, hex (64 digits, 0x optional) or base64; in a URI the same, quoted or not
import { fromBase64, fromHex } from "../../cometbft/hash.ts";

export type ParamKind = "int" | "bool" | "string" | "base64" | "hex" | "hash";

interface KindValue {
  int: number;
  bool: boolean;
  string: string;
  base64: Uint8Array;
  hex: Uint8Array;
  hash: Uint8Array;
}

export type ParamSpecs = Readonly<Record<string, ParamKind>>;

/** Decoded parameters: every one is optional, as in CometBFT (absent means the default). */
export type Args<S extends ParamSpecs> = { -readonly [K in keyof S]?: KindValue[S[K]] };

/** A parameter that cannot be decoded; answered as -32602 Invalid params. */
export class ParamError extends Error {
  override name = "ParamError";
}

const DECIMAL = /^-?\d+$/;
const HASH_BYTES = 32;

function fail(name: string, expected: string, got: unknown): never {
  const shown = typeof got === "string" ? JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}...` : got) : JSON.stringify(got);
  throw new ParamError(`${name}: expected ${expected}, got ${shown}`);
}

function toInt(name: string, value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) fail(name, "an integer", value);
  return n;
}

function hexBytes(name: string, text: string): Uint8Array {
  try {
    return fromHex(text.replace(/^0x/i, ""));
  } catch {
    return fail(name, "hex", text);
  }
}

function toHash(name: string, value: unknown): Uint8Array {
  if (typeof value !== "string") fail(name, "a 32-byte hash as hex or base64", value);
  // 64 hex digits can also parse as base64 (of 48 bytes), so the length decides.
  let bytes: Uint8Array | undefined;
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(value)) bytes = hexBytes(name, value);
  else {
    try {
      bytes = fromBase64(value);
    } catch {
      bytes = undefined;
    }
  }
  if (bytes?.length !== HASH_BYTES) fail(name, "a 32-byte hash as hex or base64", value);
  return bytes;
}

function fromJson(name: string, kind: ParamKind, value: unknown): KindValue[ParamKind] {
  switch (kind) {
    case "int":
      return toInt(name, value);
    case "bool":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return fail(name, "true or false", value);
    case "string":
      if (typeof value !== "string") fail(name, "a string", value);
      return value;
    case "base64":
      if (typeof value !== "string") fail(name, "base64", value);
      try {
        return fromBase64(value);
      } catch {
        return fail(name, "base64", value);
      }
    case "hex":
      if (typeof value !== "string") fail(name, "hex", value);
      return hexBytes(name, value);
    case "hash":
      return toHash(name, value);
  }
}

function unquote(name: string, text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "string") return value;
  } catch {
    // fall through
  }
  return fail(name, "a quoted string", text);
}

const isQuoted = (text: string) => text.length >= 2 && text.startsWith('"') && text.endsWith('"');
const isHexLiteral = (text: string) => /^0x/i.test(text);

function fromUri(name: string, kind: ParamKind, text: string): KindValue[ParamKind] {
  switch (kind) {
    case "int":
      return toInt(name, isQuoted(text) ? unquote(name, text) : text);
    case "bool":
      return fromJson(name, kind, text);
    case "string":
      if (isQuoted(text)) return unquote(name, text);
      return isHexLiteral(text) ? new TextDecoder().decode(hexBytes(name, text)) : text;
    case "base64":
    case "hex":
      if (isHexLiteral(text)) return hexBytes(name, text);
      if (isQuoted(text)) return new TextEncoder().encode(unquote(name, text));
      return fail(name, "0x-prefixed hex or a quoted string", text);
    case "hash":
      return toHash(name, isQuoted(text) ? unquote(name, text) : text);
  }
}

/** Named (object) or positional (array) parameters; null or absent values take the default. */
export function decodeJsonParams<S extends ParamSpecs>(specs: S, params: unknown): Args<S> {
  const names = Object.keys(specs);
  let named: Record<string, unknown>;
  if (params === undefined || params === null) named = {};
  else if (Array.isArray(params)) {
    if (params.length > names.length) throw new ParamError(`expected at most ${names.length} parameters (${names.join(", ")}), got ${params.length}`);
    named = Object.fromEntries(params.map((value, i) => [names[i], value]));
  } else if (typeof params === "object") named = params as Record<string, unknown>;
  else throw new ParamError("params must be an object or an array");
  const args: Record<string, unknown> = {};
  for (const name of names) {
    const value = named[name];
    if (value !== undefined && value !== null) args[name] = fromJson(name, specs[name], value);
  }
  return args as Args<S>;
}

export function decodeUriParams<S extends ParamSpecs>(specs: S, query: URLSearchParams): Args<S> {
  const args: Record<string, unknown> = {};
  for (const name of Object.keys(specs)) {
    const text = query.get(name);
    if (text !== null && text !== "") args[name] = fromUri(name, specs[name], text);
  }
  return args as Args<S>;
}
