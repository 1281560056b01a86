// Parsers for command-line values that say what was wrong and what to do.
import { InvalidArgumentError } from "commander";

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function decimal(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a decimal number such as 0.004, got ${JSON.stringify(value)}`);
  return n;
}

export function powerOfTwo(max: number) {
  return (value: string): number => {
    const n = integer(1, max)(value);
    if ((n & (n - 1)) !== 0) throw new InvalidArgumentError(`expected a power of two up to ${max}, got ${n}`);
    return n;
  };
}
