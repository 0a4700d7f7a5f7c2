/**
 * ISO 6346 container numbers: 3-letter owner code, category letter (U, J, Z), 6-digit
 * serial and a check digit computed from the first ten characters.
 */
const letterValues: Record<string, number> = {};
{
  let value = 10;
  for (const letter of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
    if (value % 11 === 0) value += 1; // multiples of 11 are skipped
    letterValues[letter] = value;
    value += 1;
  }
}

export function iso6346CheckDigit(firstTen: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    const ch = firstTen[i] as string;
    const value = /[0-9]/.test(ch) ? Number(ch) : letterValues[ch];
    if (value === undefined) throw new Error(`'${ch}' is not allowed in a container number`);
    sum += value * 2 ** i;
  }
  return (sum % 11) % 10;
}

/** Why a container number is not valid, or undefined when it is. */
export function containerNumberProblem(number: string): string | undefined {
  if (!/^[A-Z]{3}[UJZ][0-9]{7}$/.test(number)) return 'must be 3 letters, U/J/Z, 6 digits and a check digit (ISO 6346)';
  const expected = iso6346CheckDigit(number.slice(0, 10));
  return Number(number[10]) === expected ? undefined : `check digit is ${number[10]}, ISO 6346 gives ${expected}`;
}
