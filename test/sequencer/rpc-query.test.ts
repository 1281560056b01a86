// CometBFT's event query language: parsing (and its errors) and matching against event attributes.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { eventAttributes, parseQuery, queryMatches, QuerySyntaxError, type Condition } from "../../sequencer/rpc/query.ts";

const attrs = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

describe("parseQuery", () => {
  it("reads every operator and operand kind", () => {
    expect(parseQuery("tm.event='Tx' AND tx.height>=5 AND tx.height<10.5 AND a.b CONTAINS 'x y' AND c.d EXISTS AND t.t > TIME 2024-01-02T03:04:05Z AND d.d<=DATE 2024-01-02")).toEqual([
      { key: "tm.event", op: "=", operand: { kind: "string", text: "Tx" } },
      { key: "tx.height", op: ">=", operand: { kind: "number", text: "5" } },
      { key: "tx.height", op: "<", operand: { kind: "number", text: "10.5" } },
      { key: "a.b", op: "CONTAINS", operand: { kind: "string", text: "x y" } },
      { key: "c.d", op: "EXISTS" },
      { key: "t.t", op: ">", operand: { kind: "time", text: "2024-01-02T03:04:05Z", ms: Date.parse("2024-01-02T03:04:05Z") } },
      { key: "d.d", op: "<=", operand: { kind: "time", text: "2024-01-02", ms: Date.parse("2024-01-02T00:00:00Z") } },
    ]);
  });

  it.each([
    ["", "expected a tag (such as tx.height), got end of query"],
    ["tx.height", "expected an operator after tx.height, got end of query"],
    ["tx.height < 'five'", `expected a number, TIME or DATE after tx.height <, got string "five" at offset 12`],
    ["a.b CONTAINS 5", "expected a string after CONTAINS, got number \"5\" at offset 13"],
    ["a.b='x' OR c.d='y'", `expected AND or the end of the query, got tag "OR" at offset 8`],
    ["a.b='x", "unterminated string at offset 4"],
    ["a.b=5.", `invalid number "5." at offset 4`],
    ["a.b!='x'", `invalid input "!" at offset 3`],
    ["t.t > TIME 2024-13-01T00:00:00Z", `invalid TIME value "2024-13-01T00:00:00Z" at offset 6`],
    ["t.t > DATE 1800-01-01", "DATE year 1800 out of range at offset 6"],
  ])("refuses %j", (query, message) => {
    expect(() => parseQuery(query)).toThrow(new QuerySyntaxError(message));
  });

  it("round-trips generated conditions", () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}(\.[a-z0-9_]{1,8}){0,2}$/);
    const condition: fc.Arbitrary<Condition> = fc.oneof(
      key.map((k): Condition => ({ key: k, op: "EXISTS" })),
      fc.tuple(key, fc.stringMatching(/^[^']{0,12}$/), fc.constantFrom("=", "CONTAINS") as fc.Arbitrary<"=" | "CONTAINS">).map(([k, text, op]): Condition => ({ key: k, op, operand: { kind: "string", text } })),
      fc.tuple(key, fc.stringMatching(/^\d{1,6}(\.\d{1,3})?$/), fc.constantFrom("=", "<", "<=", ">", ">=") as fc.Arbitrary<Condition["op"]>).map(([k, text, op]): Condition => ({ key: k, op, operand: { kind: "number", text } })),
    );
    const show = (c: Condition) => (c.op === "EXISTS" ? `${c.key} EXISTS` : `${c.key} ${c.op} ${c.operand!.kind === "string" ? `'${c.operand!.text}'` : c.operand!.text}`);
    fc.assert(fc.property(fc.array(condition, { minLength: 1, maxLength: 5 }), (conditions) => {
      expect(parseQuery(conditions.map(show).join(" AND "))).toEqual(conditions);
    }));
  });
});

describe("queryMatches", () => {
  const event = eventAttributes([{ type: "transfer", attributes: [{ key: "amount", value: "90071992547409930" }, { key: "recipient", value: "metro1abc" }] }], { "tx.height": "12" });

  it("compares numbers exactly and strings literally", () => {
    expect(queryMatches(parseQuery("transfer.amount > 90071992547409929"), event)).toBe(true);
    expect(queryMatches(parseQuery("transfer.amount = 90071992547409930.0"), event)).toBe(true);
    expect(queryMatches(parseQuery("transfer.amount < 90071992547409930"), event)).toBe(false);
    expect(queryMatches(parseQuery("tx.height = 12 AND tx.height >= 12 AND tx.height < 12.5"), event)).toBe(true);
    expect(queryMatches(parseQuery("tx.height = '12'"), event)).toBe(true);
    expect(queryMatches(parseQuery("transfer.recipient = 5"), event)).toBe(false);
  });

  it("needs every condition, each met by any value of its key", () => {
    const many = attrs({ "message.sender": ["metro1a", "metro1b"], "tx.height": ["3"] });
    expect(queryMatches(parseQuery("message.sender='metro1b' AND tx.height=3"), many)).toBe(true);
    expect(queryMatches(parseQuery("message.sender='metro1c' AND tx.height=3"), many)).toBe(false);
    expect(queryMatches(parseQuery("message.sender CONTAINS '1a' AND message.sender EXISTS"), many)).toBe(true);
    expect(queryMatches(parseQuery("transfer.amount EXISTS"), many)).toBe(false);
  });

  it("compares times", () => {
    const timed = attrs({ "x.at": ["2024-01-02T03:04:05Z"] });
    expect(queryMatches(parseQuery("x.at > TIME 2024-01-02T03:04:04Z AND x.at >= DATE 2024-01-02 AND x.at < DATE 2024-01-03"), timed)).toBe(true);
    expect(queryMatches(parseQuery("x.at = TIME 2024-01-02T03:04:05Z"), timed)).toBe(true);
  });
});
