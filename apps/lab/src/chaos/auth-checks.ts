// The auth-attack checks, over what the attacker recorded (attack.ts) and the databases: no other customer's data in
// any answer, nothing written by the attacker, every refusal the right status as problem+json, and no internal port
// reachable around the gateway. A refusal proves nothing when the token it refused was broken anyway, or a closed
// port when the service behind it is down: each check needs the attacker's controls to have held.
import { ATTACKS, type AttackFacts } from './attack';
import type { Judgement } from './judgement';
import type { RunEvidence } from './evidence';

const sample = (items: string[], n = 10) =>
  items.length > n ? [...items.slice(0, n), `… and ${items.length - n} more`] : items;
const PROBLEM_JSON = /^application\/problem\+json\b/;

function factsOf(ev: RunEvidence): AttackFacts | { unavailable: string } {
  const facts = ev.facts['attack'] as AttackFacts | undefined;
  if (!facts) return { unavailable: 'the attacker recorded nothing (no attack was made)' };
  const broken = facts.controls.filter((c) => !c.ok);
  if (broken.length)
    return {
      unavailable: `the attacker's controls did not hold, so its refusals prove nothing: ${broken.map((c) => `${c.what} (${c.detail})`).join('; ')}`,
    };
  return facts;
}

/** No answer to the attacker held a victim's data, and no attempt on another customer's order was answered 2xx. */
export function noUnauthorizedRead(ev: RunEvidence): Judgement {
  const facts = factsOf(ev);
  if ('unavailable' in facts) return facts;
  const reads = facts.attempts.filter((a) => a.method === 'GET');
  const leaked = facts.attempts.filter((a) => a.leaked.length > 0);
  const served = reads.filter((a) => a.attack === 'idor-read' && a.status >= 200 && a.status < 300);
  const idor = reads.filter((a) => a.attack === 'idor-read').length;
  return {
    population: reads.length,
    of: "the attacker's reads (its IDOR attempts on other customers' orders among them)",
    ok: leaked.length === 0 && served.length === 0,
    detail: `${reads.length} reads by the attacker (${idor} of them other customers' orders by id, ${facts.victims} distinct): ${served.length} answered 2xx, ${leaked.length} answers held a victim's data`,
    damage: sample([
      ...new Set(
        [...served, ...leaked].map(
          (a) =>
            `${a.attack}: ${a.method} ${a.path} → ${a.status}${a.leaked.length ? `, leaked ${a.leaked.slice(0, 3).join(', ')}` : ''}`,
        ),
      ),
    ]),
  };
}

/**
 * The databases hold nothing the attacker wrote: no order or idempotency key of its accounts, the attacked SKU's stock
 * never set.
 */
export async function noUnauthorizedWrite(ev: RunEvidence): Promise<Judgement> {
  const facts = factsOf(ev);
  if ('unavailable' in facts) return facts;
  const writes = facts.attempts.filter((a) => a.method !== 'GET');
  const book = await ev.stock();
  if (!book) return { unavailable: 'the stock was not read before the load (the attacked SKU cannot be compared)' };
  const orders = (await ev.orders()).filter((o) => o.customer.startsWith(facts.attackerPrefix));
  const keys = (await ev.keys()).filter((k) => k.customer.startsWith(facts.attackerPrefix));
  const [before, after] = [book.start[facts.sku], book.end[facts.sku]];
  const sentinel = Object.entries(book.end)
    .filter(([, n]) => n === facts.sentinel)
    .map(([sku]) => sku);
  const accepted = writes.filter((a) => a.status >= 200 && a.status < 300);
  return {
    population: writes.length,
    of: "the attacker's writes (orders placed, stock set)",
    ok: orders.length + keys.length + sentinel.length + accepted.length === 0 && before === after,
    detail: `${writes.length} writes by the attacker: ${accepted.length} answered 2xx; ${orders.length} orders and ${keys.length} idempotency keys of its accounts (${facts.attackerPrefix}…) in the orders database; ${facts.sku}'s stock ${before} before, ${after} after${sentinel.length ? `; stock ${facts.sentinel} on ${sentinel.join(', ')}` : ''}`,
    damage: sample([
      ...orders.map((o) => `order ${o.id} of ${o.customer}`),
      ...keys.map((k) => `idempotency key ${k.key} of ${k.customer}`),
      ...sentinel.map((sku) => `${sku}'s stock set to the attacker's ${facts.sentinel}`),
      ...accepted.map((a) => `${a.attack}: ${a.method} ${a.path} → ${a.status}`),
    ]),
  };
}

/** Every attempt refused with its expected status (401, 403, or 404 for another customer's order) as problem+json. */
export function refusalsProblemJson(ev: RunEvidence): Judgement {
  const facts = factsOf(ev);
  if ('unavailable' in facts) return facts;
  const wrong = facts.attempts.filter(
    (a) => !(ATTACKS[a.attack].expect as readonly number[]).includes(a.status) || !PROBLEM_JSON.test(a.contentType),
  );
  const kinds = new Map<string, number>();
  for (const a of facts.attempts) kinds.set(a.attack, (kinds.get(a.attack) ?? 0) + 1);
  const tried = Object.keys(ATTACKS).filter((k) => kinds.has(k));
  const untried = Object.keys(ATTACKS).filter(
    (k) => !kinds.has(k) && !facts.notTried.some((n) => n.startsWith(`${k}:`)),
  );
  return {
    population: facts.attempts.length,
    of: 'attack attempts',
    ok: wrong.length === 0 && untried.length === 0,
    detail: `${facts.attempts.length} attempts of ${tried.length} kinds (${tried.map((k) => `${k} ${kinds.get(k)}`).join(', ')}): ${wrong.length} not refused as expected${untried.length ? `; never tried: ${untried.join(', ')}` : ''}${facts.notTried.length ? `; not on this target: ${facts.notTried.join('; ')}` : ''}`,
    damage: sample([
      ...new Set(
        wrong.map(
          (a) =>
            `${a.attack}: ${a.method} ${a.path.replace(/[0-9a-f-]{36}/, '{id}')} → ${a.status || a.error} ${a.contentType.split(';')[0] || 'no content-type'} (expected ${ATTACKS[a.attack].expect.join('/')} problem+json)`,
        ),
      ),
    ]),
  };
}

/** No internal port answered from where it must not, while each answered from where it must (the controls). */
export function internalPortsClosed(ev: RunEvidence): Judgement {
  const facts = ev.facts['attack'] as AttackFacts | undefined;
  if (!facts) return { unavailable: 'the attacker recorded nothing (no attack was made)' };
  const controls = facts.bypass.filter((p) => p.control);
  const probes = facts.bypass.filter((p) => !p.control);
  const dead = controls.filter((p) => !p.reached);
  if (dead.length)
    return {
      unavailable: `a port did not answer from where it must, so a refusal elsewhere proves nothing: ${dead.map((p) => `${p.from} → ${p.to} (${p.detail})`).join('; ')}`,
    };
  const open = probes.filter((p) => p.reached);
  return {
    population: probes.length,
    of: 'connects to internal ports from where they must not be reachable',
    ok: open.length === 0,
    detail: `${probes.length} connects around the gateway: ${open.length} reached their port; ${controls.length} controls from where each port must answer all connected`,
    damage: sample(open.map((p) => `${p.from} reached ${p.to}: ${p.detail}`)),
  };
}
