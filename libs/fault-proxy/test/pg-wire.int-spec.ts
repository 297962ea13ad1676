// The Postgres statement counter against the test lab's real Postgres, through the real proxy: what node-postgres
// sends on the wire (startup, simple and extended queries, a transaction) is counted statement by statement.
import { Client } from 'pg';
import { FaultProxy, PgStatementCounter, PgStatementTally } from '../src';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'];
if (!pgUrl) throw new Error('FAULTLINE_TEST_PG_URL is not set: run with --selectProjects integration');
const target = new URL(pgUrl);

let proxy: FaultProxy;
let tally: PgStatementTally;

beforeEach(async () => {
  tally = new PgStatementTally();
  proxy = new FaultProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: target.hostname, port: Number(target.port) },
    observe: tally.observe,
  });
  await proxy.start();
});

afterEach(async () => {
  await proxy.stop();
});

const through = () => {
  const url = new URL(pgUrl);
  url.port = String(proxy.address().port);
  url.pathname = '/postgres';
  return new Client({ connectionString: url.toString() });
};

it('counts each simple and each parameterised statement once, on every connection, and nothing for the startup', async () => {
  const a = through();
  const b = through();
  await a.connect();
  await b.connect();
  expect(tally.statements).toBe(0);
  await a.query('SELECT 1');
  await a.query('SELECT $1::int AS n', [2]);
  await b.query('BEGIN');
  for (let i = 0; i < 5; i++) await b.query('SELECT $1::text', [`row ${i}`]);
  await b.query('COMMIT');
  await a.query({ name: 'named', text: 'SELECT $1::int', values: [1] });
  await a.query({ name: 'named', text: 'SELECT $1::int', values: [2] });
  await a.end();
  await b.end();
  // a: SELECT 1, one parameterised, a named statement executed twice (parsed once); b: BEGIN, 5, COMMIT.
  expect(tally.statements).toBe(4 + 7);
});

it('finds message boundaries wherever the chunks split them', () => {
  const message = (type: string, body: Buffer) => {
    const header = Buffer.alloc(5);
    header.write(type, 0);
    header.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([header, body]);
  };
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8, 0);
  startup.writeInt32BE(196608, 4);
  const stream = Buffer.concat([
    startup,
    message('Q', Buffer.from('SELECT 1\0')),
    message('P', Buffer.from('\0SELECT 2\0\0\0')),
    message('E', Buffer.from('\0\0\0\0\0')),
    message('S', Buffer.alloc(0)),
  ]);
  for (const size of [1, 3, 7, stream.length]) {
    const counter = new PgStatementCounter();
    for (let at = 0; at < stream.length; at += size) counter.push(stream.subarray(at, at + size));
    expect(counter.statements).toBe(2);
  }
});
