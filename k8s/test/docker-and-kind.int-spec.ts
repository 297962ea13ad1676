import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { root, sharedSchema } from './support/repo';

/** The basics a Dockerfile review would reject, as a list of problems (empty = fine). */
function lintDockerfile(text: string): string[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const instructions = lines.map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
  const problems: string[] = [];
  // Parser directives are the `# key=value` lines before anything else. BuildKit resolves a `syntax` directive's
  // frontend image from its registry on every build: offline builds fail and every build waits on the network.
  for (const line of text.split(/\r?\n/)) {
    const directive = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(line);
    if (!directive) break;
    if (directive[1].toLowerCase() === 'syntax')
      problems.push(`"# syntax=${directive[2]}" makes every build pull a frontend image from a registry`);
  }
  const globalArgs: Record<string, string> = {};
  for (const i of instructions) {
    if (i.op === 'FROM') break;
    if (i.op === 'ARG') {
      const [name, value] = i.args.split('=');
      globalArgs[name] = value ?? '';
    }
  }
  const froms = instructions.filter((i) => i.op === 'FROM');
  const stages = froms.map((f) => / AS (\S+)$/i.exec(f.args)?.[1]).filter(Boolean);
  if (froms.length < 2) problems.push('not multi-stage: one FROM');
  for (const f of froms) {
    const image = f.args.split(/\s+/)[0].replace(/^\$\{?(\w+)\}?$/, (_, name: string) => globalArgs[name] ?? '');
    if (stages.includes(image)) continue;
    if (!/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/.test(image))
      problems.push(`base image "${image}" is not pinned to an exact version`);
    if (/:latest\b/.test(image)) problems.push(`base image "${image}" uses latest`);
  }
  const lastFrom = instructions.lastIndexOf(froms[froms.length - 1]);
  const final = instructions.slice(lastFrom);
  const user = final.filter((i) => i.op === 'USER').pop();
  if (!user) problems.push('the final stage sets no USER (runs as root)');
  else if (/^(root|0)(:|$)/.test(user.args)) problems.push(`the final stage runs as ${user.args}`);
  if (instructions.some((i) => i.op === 'HEALTHCHECK')) problems.push('HEALTHCHECK present: Kubernetes probes do that');
  for (const i of instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
    for (const m of i.args.matchAll(/(\w+)[= ]+(\S+)/g)) {
      if (/KEY|SECRET|PASSWORD|TOKEN/i.test(m[1]) && m[2]) problems.push(`${i.op} ${m[1]} carries a secret value`);
    }
  }
  for (const i of instructions.filter((x) => x.op === 'COPY' || x.op === 'ADD')) {
    if (/(^|\s|\/)\.lab\b|\.pem\b|\.key\b|secrets?\//.test(i.args))
      problems.push(`${i.op} ${i.args} copies local state or keys`);
  }
  return problems;
}

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');

  it('passes the basic lint: no registry lookup, pinned base, multi-stage, non-root final stage, no secrets, no HEALTHCHECK', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('builds one app chosen by ARG APP and reuses the repository build', () => {
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    for (const path of ['/src/dist/apps/${APP}', '/src/dist/libs', '/src/dist/node_modules'])
      expect(dockerfile).toContain(path);
  });

  it('keeps local state, keys and dependencies out of the build context', () => {
    const ignore = readFileSync(join(root, 'docker', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.lab', '**/node_modules', 'dist', '**/*.pem', '**/*.key', '.git'])
      expect(ignore).toContain(entry);
  });

  it('catches what it is meant to catch', () => {
    const bad = [
      '# syntax=docker/dockerfile:1',
      'FROM node:latest',
      'ENV API_TOKEN=abc',
      'COPY .lab/secrets /app/secrets',
      'HEALTHCHECK CMD curl -f localhost',
      'CMD ["node"]',
    ].join('\n');
    expect(lintDockerfile(bad)).toEqual([
      '"# syntax=docker/dockerfile:1" makes every build pull a frontend image from a registry',
      'not multi-stage: one FROM',
      'base image "node:latest" is not pinned to an exact version',
      'base image "node:latest" uses latest',
      'the final stage sets no USER (runs as root)',
      'HEALTHCHECK present: Kubernetes probes do that',
      'ENV API_TOKEN carries a secret value',
      'COPY .lab/secrets /app/secrets copies local state or keys',
    ]);
    // A `# syntax=` line after the first comment is an ordinary comment, not a directive.
    expect(
      lintDockerfile('# One image per app.\n# syntax=docker/dockerfile:1\nFROM node:24 AS a\nFROM a\nUSER root\n'),
    ).toEqual(['base image "node:24" is not pinned to an exact version', 'the final stage runs as root']);
  });
});

describe('files the deploy configuration cites', () => {
  // A comment that points at a file is how a reader finds the rest of the story; a path that does not exist (or a
  // document outside the repository) leaves them nowhere.
  it('exist: every file named in a comment under k8s/, docker/ and chaos/experiments/ is in the repository', () => {
    const tracked = execFileSync('git', ['-C', root, 'ls-files', 'k8s', 'docker', 'chaos/experiments'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => /\.(ya?ml|sql|sh|json)$|Dockerfile/.test(f));
    const all = new Set(
      execFileSync('git', ['-C', root, 'ls-files'], { encoding: 'utf8' })
        .split('\n')
        .map((f) => basename(f)),
    );
    const missing: string[] = [];
    for (const file of tracked) {
      const marker = file.endsWith('.sql') ? /(?:^|\s)--\s(.*)$/ : /(?:^|\s)#\s(.*)$/;
      const comments = readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line) => marker.exec(line)?.[1] ?? []);
      // Paths inside images (/opt/kafka/...) are not the repository's.
      for (const [cited] of comments
        .join('\n')
        .matchAll(/(?<![\w/.-])[\w.-][\w./-]*\.(?:ya?ml|ts|json|sql|md|sh|mjs)\b/g)) {
        const found = cited.includes('/')
          ? existsSync(join(root, cited)) || existsSync(join(root, dirname(file), cited))
          : all.has(cited);
        if (!found) missing.push(`${file}: ${cited}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('k8s/kind/cluster.yaml', () => {
  const validator = () => {
    const schema = JSON.parse(readFileSync(sharedSchema('kind-config-v1alpha4.schema.json'), 'utf8')) as object;
    return new Ajv({ allErrors: true, strict: false }).compile(schema);
  };

  it('validates against the kind v1alpha4 config schema', () => {
    const validate = validator();
    const config = parse(readFileSync(join(root, 'k8s', 'kind', 'cluster.yaml'), 'utf8')) as unknown;
    expect(validate(config) ? [] : validate.errors).toEqual([]);
  });

  it('maps the gateway to localhost:8080, as on the local target, and Grafana, Jaeger and Prometheus beside it', () => {
    const config = parse(readFileSync(join(root, 'k8s', 'kind', 'cluster.yaml'), 'utf8')) as {
      nodes: { extraPortMappings: { hostPort: number; listenAddress: string }[] }[];
    };
    const mappings = config.nodes.flatMap((n) => n.extraPortMappings);
    expect(mappings.map((m) => m.hostPort).sort((a, b) => a - b)).toEqual([3000, 8080, 9090, 16686]);
    expect(mappings.every((m) => m.listenAddress === '127.0.0.1')).toBe(true);
  });

  it('rejects a misspelled key (the schema is strict, like kind)', () => {
    const validate = validator();
    expect(
      validate({
        kind: 'Cluster',
        apiVersion: 'kind.x-k8s.io/v1alpha4',
        nodes: [{ role: 'control-plane', extraPortMapping: [] }],
      }),
    ).toBe(false);
  });
});
