// Every project of the Nx graph can be linted and unit-tested on its own (`nx run <project>:lint`, `nx affected -t
// test`), and every app built; the commands are nx.json's target defaults, so they are written once.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const projects = ['apps', 'libs']
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(dir, name)))
  .concat('k8s');

describe('Nx targets', () => {
  const defaults = (
    JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as {
      targetDefaults: Record<string, { options?: { command?: string }; cache?: boolean }>;
    }
  ).targetDefaults;

  it('defines lint, test and build once, in nx.json; lint and test are cached', () => {
    expect(defaults['lint'].options?.command).toBe(
      'prettier --check {projectRoot} && eslint --max-warnings=0 {projectRoot}',
    );
    expect(defaults['test'].options?.command).toBe('jest --selectProjects unit --passWithNoTests {projectRoot}/');
    expect(defaults['build'].options?.command).toBe('node tools/build/build.mjs');
    expect([defaults['lint'].cache, defaults['test'].cache]).toEqual([true, true]);
  });

  it.each(projects)('%s has lint and test (an app also build), with no command of its own', (dir) => {
    const project = JSON.parse(readFileSync(join(root, dir, 'project.json'), 'utf8')) as {
      projectType: string;
      targets?: Record<string, object>;
    };
    const expected =
      project.projectType === 'application' && dir.startsWith('apps/') ? ['build', 'lint', 'test'] : ['lint', 'test'];
    expect(Object.keys(project.targets ?? {}).sort()).toEqual(expected);
    for (const target of Object.values(project.targets ?? {})) expect(target).toEqual({});
  });
});

describe('module boundary scopes', () => {
  it("constrain every service's scope: eslint.config.mjs lists each app's scope tag but the lab's", () => {
    const config = readFileSync(join(root, 'eslint.config.mjs'), 'utf8');
    const listed = /const SERVICE_SCOPES = \[([^\]]*)\]/
      .exec(config)?.[1]
      .match(/'([^']+)'/g)
      ?.map((s) => s.slice(1, -1));
    const scopes = readdirSync(join(root, 'apps'))
      .map(
        (app) => (JSON.parse(readFileSync(join(root, 'apps', app, 'project.json'), 'utf8')) as { tags: string[] }).tags,
      )
      .map((tags) => tags.find((t) => t.startsWith('scope:'))?.slice('scope:'.length))
      .filter((scope) => scope !== 'lab');
    expect([...(listed ?? [])].sort()).toEqual([...scopes].sort());
  });
});
