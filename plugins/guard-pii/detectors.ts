/**
 * Finds personal data and secrets in text. Each kind is a cheap regular expression for
 * candidates followed by the check that real values pass and look-alikes fail: Luhn and issuer
 * prefixes for cards, country length and mod-97 for IBANs, the SSA's never-issued ranges for
 * SSNs, grouping rules for phone numbers, known prefixes or character entropy for secrets.
 * Kinds are tried in a fixed order and a span claimed by one is not reported again by another
 * (a card number is not also a phone number).
 */

export type PiiKind = "secret" | "email" | "iban" | "card" | "national_id" | "phone";

export const PII_KINDS: readonly PiiKind[] = ["secret", "email", "iban", "card", "national_id", "phone"];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

type Finder = (text: string) => Iterable<{ start: number; end: number }>;

function* matchesOf(re: RegExp, text: string, accept: (m: RegExpExecArray) => boolean = () => true, group = 0) {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!accept(m)) continue;
    const value = m[group] ?? m[0];
    const start = m.index + (group === 0 ? 0 : m[0].indexOf(value));
    yield { start, end: start + value.length };
  }
}

// ---- secrets

const KNOWN_SECRETS: RegExp[] = [
  /\bsk-(?:proj-|ant-(?:api\d{2}-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, // OpenAI, Anthropic
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}\b/g, // Stripe
  /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, // JWTs
  /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z]+ )*PRIVATE KEY-----|$)/g,
];

/** The value of `password = …`, `api_key: …` and the like. */
const ASSIGNED_SECRET = /\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key)["']?\s*[:=]\s*["']?([^\s"'`,;]{8,})/gi;

/** A long run of token characters mixing cases and digits with high entropy: random, so likely a credential. */
const TOKEN_RUN = /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}(?![A-Za-z0-9+/_=-])/g;

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function looksRandom(token: string): boolean {
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/\d/.test(token)) return false;
  // Paths and identifiers break into words; a credential is one unbroken random run.
  if (token.split(/[/_-]/).some((part) => part.length >= 20 && shannonEntropy(part) >= 4)) return true;
  return shannonEntropy(token) >= 4.2;
}

const findSecrets: Finder = function* (text) {
  for (const re of KNOWN_SECRETS) yield* matchesOf(re, text);
  yield* matchesOf(ASSIGNED_SECRET, text, () => true, 1);
  yield* matchesOf(TOKEN_RUN, text, (m) => looksRandom(m[0]));
};

// ---- email

const EMAIL = /(?<![\w.+%-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])/g;
/** `icon@2x.png` is an asset name, not an address. */
const FILE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "ts", "json", "pdf", "txt", "md"]);

const findEmails: Finder = (text) => matchesOf(EMAIL, text, (m) => !FILE_EXTENSIONS.has((m[1] ?? "").toLowerCase()));

// ---- IBAN

/** IBAN length by country (ISO 13616 registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20,
};

export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder === 1;
}

const IBAN_START = /\b([A-Z]{2})\d{2}(?=[ A-Z0-9])/g;

const findIbans: Finder = function* (text) {
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const length = IBAN_LENGTHS[m[1] ?? ""];
    if (!length) continue;
    // Walk the (optionally space-grouped) characters until the country's length is reached.
    let compact = m[0];
    let i = m.index + m[0].length;
    while (compact.length < length && i < text.length) {
      const ch = text[i]!;
      if (/[A-Z0-9]/.test(ch)) compact += ch;
      else if (!(ch === " " && /[A-Z0-9]/.test(text[i + 1] ?? ""))) break;
      i++;
    }
    if (compact.length !== length || /[A-Za-z0-9]/.test(text[i] ?? "") || !ibanChecksumValid(compact)) continue;
    yield { start: m.index, end: i };
  }
};

// ---- payment cards

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths: Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro. */
function issuerKnown(d: string): boolean {
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  const n = d.length;
  if (d[0] === "4") return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (d.startsWith("6011") || d.startsWith("65") || (Number(d.slice(0, 3)) >= 644 && Number(d.slice(0, 3)) <= 649)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || (Number(d.slice(0, 3)) >= 300 && Number(d.slice(0, 3)) <= 305)) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  if (["50", "56", "57", "58", "63", "67"].includes(d.slice(0, 2))) return n >= 12 && n <= 19;
  return false;
}

const CARD = /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)/g;

const findCards: Finder = (text) =>
  matchesOf(CARD, text, (m) => {
    const seps = m[0].match(/[ -]/g) ?? [];
    if (new Set(seps).size > 1) return false; // one separator style throughout
    const digits = m[0].replace(/\D/g, "");
    return digits.length >= 13 && digits.length <= 19 && issuerKnown(digits) && luhnValid(digits) && !/^(\d)\1+$/.test(digits);
  });

// ---- national ids: US SSN, UK National Insurance number

const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g;
/** Numbers the SSA published as examples or that ads made famous, never a real person's. */
const PUBLISHED_SSNS = new Set(["078051120", "219099999", "123456789"]);

export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== "00" && serial !== "0000" && !PUBLISHED_SSNS.has(area + group + serial);
}

const NINO = /\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;

const findNationalIds: Finder = function* (text) {
  yield* matchesOf(SSN, text, (m) => ssnValid(m[1]!, m[3]!, m[4]!));
  yield* matchesOf(NINO, text);
};

// ---- phone numbers

const PHONE_CANDIDATE = /(?<![\w+.\/-])(?:\+|\()?\d[\d ().\/-]{6,20}\d(?![\w-]|\.\d)/g;
const NANP = /^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}$/;
const NATIONAL_TRUNK = /^\(?0\d{1,4}\)?(?:[ -]\d{2,4}){2,4}$/;
const INTERNATIONAL = /^\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?)(?:[ .-]?\d{1,4}){1,5}$/;

function phoneShaped(s: string): boolean {
  const digits = s.replace(/\D/g, "").length;
  if (s.startsWith("+")) return digits >= 8 && digits <= 15 && INTERNATIONAL.test(s);
  if (NANP.test(s)) return true;
  return digits >= 10 && digits <= 11 && NATIONAL_TRUNK.test(s);
}

const findPhones: Finder = (text) => matchesOf(PHONE_CANDIDATE, text, (m) => phoneShaped(m[0]));

const FINDERS: Record<PiiKind, Finder> = {
  secret: findSecrets,
  email: findEmails,
  iban: findIbans,
  card: findCards,
  national_id: findNationalIds,
  phone: findPhones,
};

/** Every match of the enabled kinds in `text`, in order, none overlapping another. */
export function detectPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiMatch[] {
  const found: PiiMatch[] = [];
  for (const kind of PII_KINDS) {
    if (!kinds.includes(kind)) continue;
    for (const { start, end } of FINDERS[kind](text)) {
      if (found.some((f) => start < f.end && f.start < end)) continue;
      found.push({ kind, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
