// The repository explains itself: no file points a reader at a document outside it (only the official schemas the
// static tests validate against live beside the repository, in the shared schemas folder), and every relative link
// of the docs lands on a file of the repository (and, with a #fragment, on a heading of that file).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** The spec documents the project was started from, which a clone does not have. */
const OUTSIDE_DOCUMENT = /\b(?:DESIGN|STACK)(?:\.md\b| §)/;
/** Anything in the folder beside the repository but its official schemas. */
const OUTSIDE_FOLDER = /\.\.\/shared\/(?!schemas(?:\/|\b))/;

/** `file:line: text` for every line of `text` that points outside the repository. */
function outsideReferences(file: string, text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, i) =>
      OUTSIDE_DOCUMENT.test(line) || OUTSIDE_FOLDER.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
    );
}

/** Files git tracks, plus new ones it would track (not ignored), relative to the root. */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0').filter(Boolean))].filter(
    (file) => existsSync(join(root, file)) && statSync(join(root, file)).isFile(),
  );
}

const blank = (s: string) => s.replace(/[^\n]/g, ' ');
/** Markdown with fenced code blocks blanked out (same length, same newlines), so every position keeps its line. */
const withoutFences = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank);
/** ... and code spans too: a link inside code is an example, not a link. */
const withoutCode = (markdown: string) => withoutFences(markdown).replace(/`+[^`\n]*`+/g, blank);

/** GitHub's anchor for each heading: lower case, punctuation dropped, spaces as dashes; repeats get -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, title] of withoutFences(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const slug = title
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** `file:line: target (why)` for every relative link of a Markdown file that does not resolve inside the repository. */
function brokenLinks(file: string, markdown: string, read: (path: string) => string | undefined): string[] {
  const text = withoutCode(markdown);
  const links = [
    ...[...text.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({
      target: m[1],
      at: m.index,
    })),
    ...[...text.matchAll(/^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)>?/gm)].map((m) => ({ target: m[1], at: m.index })),
  ];
  const problems: string[] = [];
  for (const { target, at } of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …: not a file of ours
    const line = text.slice(0, at).split('\n').length;
    const [pathPart, fragment] = target.split('#', 2);
    const path = decodeURIComponent(pathPart.split('?')[0]);
    const resolved =
      path === '' ? file : relative(root, path.startsWith('/') ? join(root, path) : resolve(root, dirname(file), path));
    const fail = (why: string) => problems.push(`${file}:${line}: ${target} (${why})`);
    if (resolved === '..' || resolved.startsWith('../')) {
      fail('outside the repository');
      continue;
    }
    const content = resolved === file ? markdown : read(resolved);
    if (content === undefined) {
      fail(`no file ${resolved}`);
      continue;
    }
    if (fragment && resolved.endsWith('.md') && !anchorsOf(content).has(fragment.toLowerCase()))
      fail(`no heading #${fragment} in ${resolved}`);
  }
  return problems;
}

const readRepoFile = (path: string): string | undefined => {
  const full = join(root, path);
  return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
};

const markdownIn = (dir: string) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join(dir, f))
    : [];

describe('the repository stands on its own', () => {
  it('no tracked file points at the spec documents or the shared folder (its schemas excepted)', () => {
    const found = repositoryFiles().flatMap((file) => {
      const bytes = readFileSync(join(root, file));
      if (bytes.includes(0)) return []; // binary
      return outsideReferences(file, bytes.toString('utf8'));
    });
    expect(found).toEqual([]);
  });

  it('every relative link in README.md, docs/*.md and docs/decisions/*.md resolves to a file of the repository', () => {
    const files = ['README.md', ...markdownIn('docs'), ...markdownIn(join('docs', 'decisions'))];
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/architecture.md']));
    expect(files.flatMap((file) => brokenLinks(file, readFileSync(join(root, file), 'utf8'), readRepoFile))).toEqual(
      [],
    );
  });
});

describe('the checks themselves', () => {
  // Each can fail: a matcher that found nothing in these would let the repository drift back unnoticed.
  const spec = (name: string) => `${name}.md`;
  const shared = (rest: string) => ['..', 'shared', rest].join('/');

  it('flag a spec document or a shared path other than the schemas, with file and line', () => {
    const text = [
      'ok line',
      `see ${spec('DESIGN')} §2`,
      `(${spec('STACK')}, "Kafka")`,
      `[d](${shared('DESIGN.txt')})`,
      `read ${shared('schemas/chaos-mesh-v2.8.3')}`,
      `${shared('schemas')}`,
    ].join('\n');
    expect(outsideReferences('x.ts', text)).toEqual([
      `x.ts:2: see ${spec('DESIGN')} §2`,
      `x.ts:3: (${spec('STACK')}, "Kafka")`,
      `x.ts:4: [d](${shared('DESIGN.txt')})`,
    ]);
    expect(outsideReferences('x.ts', `${shared('schemasX/a')}`)).toHaveLength(1);
    // A section of a spec document named without its file name.
    expect(outsideReferences('x.ts', `limits (${'DESIGN'} §2)`)).toHaveLength(1);
  });

  it('flag links to missing files, missing headings and paths outside the repository; skip code and URLs', () => {
    const files: Record<string, string> = { 'docs/a.md': '# Title\n## Saga, outbox and inbox\n', 'README.md': '# R\n' };
    const read = (path: string) => files[path];
    const markdown = [
      '# Here',
      '[ok](a.md) [ok](a.md#saga-outbox-and-inbox) [ok](../README.md#r) [self](#here) [web](https://x.org/y.md)',
      '[gone](missing.md) and [no heading](a.md#nope)',
      '[out](../../elsewhere.md)',
      '`[code](missing-too.md)`',
      '```',
      '[fenced](missing-three.md)',
      '```',
      '[ref]: ./b.md',
    ].join('\n');
    expect(brokenLinks('docs/x.md', markdown, read)).toEqual([
      'docs/x.md:3: missing.md (no file docs/missing.md)',
      'docs/x.md:3: a.md#nope (no heading #nope in docs/a.md)',
      'docs/x.md:4: ../../elsewhere.md (outside the repository)',
      'docs/x.md:9: ./b.md (no file docs/b.md)',
    ]);
  });
});
