// CometBFT's event query language, as tx_search and subscribe take it:
//
//   query     = condition { "AND" condition }
//   condition = tag ( "EXISTS" | "CONTAINS" string | "=" operand | cmp ordered )
//   cmp       = "<" | "<=" | ">" | ">="
//   operand   = string | number | "TIME" rfc3339 | "DATE" yyyy-mm-dd;  ordered = operand without string
//
// A tag is `type.key` (letters, digits, `_` and `.`), a string is single-quoted with no escapes, a
// number is decimal (`5`, `2.5`). A query selects the events whose attributes satisfy every condition;
// a condition holds when at least one value of its key satisfies it.

export type Operator = "=" | "<" | "<=" | ">" | ">=" | "CONTAINS" | "EXISTS";

export type Operand =
  | { kind: "string"; text: string }
  | { kind: "number"; text: string }
  /** TIME and DATE operands, as milliseconds since the epoch. */
  | { kind: "time"; text: string; ms: number };

export interface Condition {
  key: string;
  op: Operator;
  /** Absent only for EXISTS. */
  operand?: Operand;
}

export type Query = readonly Condition[];

/** Attribute values by composite key (`type.key`), as an event exposes them to queries. */
export type EventAttributes = ReadonlyMap<string, readonly string[]>;

export const MAX_QUERY_LENGTH = 512;

export class QuerySyntaxError extends Error {
  override name = "QuerySyntaxError";
}

type Token =
  | { type: "tag"; text: string; at: number }
  | { type: "string" | "number"; text: string; at: number }
  | { type: "time"; text: string; ms: number; at: number }
  | { type: "op"; op: Operator | "AND"; at: number };

const TAG_CHAR = /[\p{L}\p{N}_.]/u;
const isDigit = (ch: string) => ch >= "0" && ch <= "9";
const TIME_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[-+]\d{2}:\d{2})$/;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

function fail(message: string): never {
  throw new QuerySyntaxError(message);
}

/** Parses a TIME or DATE literal into milliseconds; years outside 1900..2999 are refused, as CometBFT does. */
function parseStamp(label: "TIME" | "DATE", text: string, at: number): number {
  const shape = label === "TIME" ? TIME_TEXT : DATE_TEXT;
  const ms = shape.test(text) ? Date.parse(label === "DATE" ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(ms)) fail(`invalid ${label} value ${JSON.stringify(text)} at offset ${at}`);
  const year = Number(text.slice(0, 4));
  if (year < 1900 || year > 2999) fail(`${label} year ${year} out of range at offset ${at}`);
  return ms;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const takeWhile = (ok: (ch: string) => boolean) => {
    const start = i;
    while (i < input.length && ok(input[i])) i++;
    return input.slice(start, i);
  };
  while (i < input.length) {
    const ch = input[i];
    const at = i;
    if (/\s/.test(ch)) {
      i++;
    } else if (isDigit(ch)) {
      let text = takeWhile(isDigit);
      if (input[i] === ".") {
        i++;
        const fraction = takeWhile(isDigit);
        if (fraction === "") fail(`invalid number ${JSON.stringify(text + ".")} at offset ${at}`);
        text += `.${fraction}`;
      }
      tokens.push({ type: "number", text, at });
    } else if (TAG_CHAR.test(ch)) {
      const word = takeWhile((c) => TAG_CHAR.test(c));
      if ((word === "TIME" || word === "DATE") && input[i] === " ") {
        i++;
        const text = takeWhile((c) => /[-\d:+TZ]/.test(c));
        tokens.push({ type: "time", text, ms: parseStamp(word, text, at), at });
      } else if (word === "AND" || word === "CONTAINS" || word === "EXISTS") {
        tokens.push({ type: "op", op: word, at });
      } else {
        tokens.push({ type: "tag", text: word, at });
      }
    } else if (ch === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) fail(`unterminated string at offset ${at}`);
      tokens.push({ type: "string", text: input.slice(i + 1, end), at });
      i = end + 1;
    } else if (ch === "=") {
      i++;
      tokens.push({ type: "op", op: "=", at });
    } else if (ch === "<" || ch === ">") {
      const orEqual = input[i + 1] === "=";
      i += orEqual ? 2 : 1;
      tokens.push({ type: "op", op: orEqual ? `${ch}=` : ch, at });
    } else {
      fail(`invalid input ${JSON.stringify(ch)} at offset ${at}`);
    }
  }
  return tokens;
}

function describe(token: Token | undefined): string {
  if (!token) return "end of query";
  return token.type === "op" ? `${token.op} at offset ${token.at}` : `${token.type} ${JSON.stringify(token.text)} at offset ${token.at}`;
}

function operandOf(token: Token | undefined, allowString: boolean, after: string): Operand {
  if (token?.type === "number" || (allowString && token?.type === "string")) return { kind: token.type, text: token.text };
  if (token?.type === "time") return { kind: "time", text: token.text, ms: token.ms };
  return fail(`expected ${allowString ? "a string, number, TIME or DATE" : "a number, TIME or DATE"} after ${after}, got ${describe(token)}`);
}

export function parseQuery(input: string): Query {
  if (input.length > MAX_QUERY_LENGTH) fail(`query is ${input.length} characters; the maximum is ${MAX_QUERY_LENGTH}`);
  const tokens = tokenize(input);
  const conditions: Condition[] = [];
  let i = 0;
  for (;;) {
    const tag = tokens[i++];
    if (tag?.type !== "tag") fail(`expected a tag (such as tx.height), got ${describe(tag)}`);
    const op = tokens[i++];
    if (op?.type !== "op" || op.op === "AND") fail(`expected an operator after ${tag.text}, got ${describe(op)}`);
    if (op.op === "EXISTS") {
      conditions.push({ key: tag.text, op: "EXISTS" });
    } else if (op.op === "CONTAINS") {
      const value = tokens[i++];
      if (value?.type !== "string") fail(`expected a string after CONTAINS, got ${describe(value)}`);
      conditions.push({ key: tag.text, op: "CONTAINS", operand: { kind: "string", text: value.text } });
    } else {
      conditions.push({ key: tag.text, op: op.op, operand: operandOf(tokens[i++], op.op === "=", `${tag.text} ${op.op}`) });
    }
    if (i === tokens.length) return conditions;
    const and = tokens[i++];
    if (and.type !== "op" || and.op !== "AND") fail(`expected AND or the end of the query, got ${describe(and)}`);
  }
}

interface Decimal {
  digits: bigint;
  scale: number;
}

function parseDecimal(text: string): Decimal | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const fraction = match[3] ?? "";
  return { digits: BigInt(`${match[1]}${match[2]}${fraction}`), scale: fraction.length };
}

/** Exact comparison of two decimals (amounts can exceed 2^53). */
function compareDecimal(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = a.digits * 10n ** BigInt(scale - a.scale);
  const y = b.digits * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

function ordered(op: Operator, comparison: number): boolean {
  switch (op) {
    case "=":
      return comparison === 0;
    case "<":
      return comparison < 0;
    case "<=":
      return comparison <= 0;
    case ">":
      return comparison > 0;
    case ">=":
      return comparison >= 0;
    default:
      return false;
  }
}

/** True when one attribute value satisfies the condition (EXISTS is decided by the caller). */
export function valueMatches(c: Condition, value: string): boolean {
  const operand = c.operand;
  if (!operand) return true;
  if (c.op === "CONTAINS") return value.includes(operand.text);
  switch (operand.kind) {
    case "string":
      return value === operand.text;
    case "number": {
      const v = parseDecimal(value);
      return v !== undefined && ordered(c.op, compareDecimal(v, parseDecimal(operand.text)!));
    }
    case "time": {
      const ms = Date.parse(value);
      return !Number.isNaN(ms) && ordered(c.op, Math.sign(ms - operand.ms));
    }
  }
}

export function conditionMatches(c: Condition, values: readonly string[] | undefined): boolean {
  if (!values || values.length === 0) return false;
  return c.op === "EXISTS" || values.some((v) => valueMatches(c, v));
}

export function queryMatches(query: Query, attributes: EventAttributes): boolean {
  return query.every((c) => conditionMatches(c, attributes.get(c.key)));
}

/** Attribute map of ABCI-style events (`type.key` -> values), plus extra keys such as tm.event. */
export function eventAttributes(
  events: readonly { type: string; attributes: readonly { key: string; value: string }[] }[],
  extra: Record<string, string> = {},
): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const values = map.get(key);
    if (values) values.push(value);
    else map.set(key, [value]);
  };
  for (const [key, value] of Object.entries(extra)) add(key, value);
  for (const event of events) for (const a of event.attributes) add(`${event.type}.${a.key}`, a.value);
  return map;
}
