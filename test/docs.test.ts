/**
 * The documentation against the code: every variable of src/config.ts's schema has a row in
 * docs/configuration.md, and every relative link of README.md and docs/*.md leads to a file that
 * exists (and, for a link to a heading, to a heading of that file).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configVariables } from '../src/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(path, 'utf8');
const docs = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(root, 'docs', n)),
];

/** Markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
const prose = (md: string) => md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = (md: string) =>
  new Set(
    md
      .replace(/^```[\s\S]*?^```/gm, '')
      .split('\n')
      .flatMap((line) => {
        const m = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
        return m ? [slug(m[1]!)] : [];
      }),
  );

/** Every link target of a file that is neither a URL with a scheme nor a mail address. */
function relativeLinks(md: string): string[] {
  const targets = [...prose(md).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('docs', () => {
  it('docs/configuration.md has a row for every variable src/config.ts reads', () => {
    const config = read(join(root, 'docs/configuration.md'));
    const rows = new Set([...config.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]!));
    expect(configVariables.length).toBeGreaterThan(30);
    expect(configVariables.filter((name) => !rows.has(name))).toEqual([]);
  });

  it('finds the links it checks (README.md links into docs/)', () => {
    const readme = relativeLinks(read(join(root, 'README.md')));
    expect(readme).toEqual(expect.arrayContaining(['docs/configuration.md', 'docs/api.md']));
  });

  it('every relative link in README.md and docs/*.md points to a file (and heading) that exists', () => {
    const broken: string[] = [];
    for (const file of docs) {
      const md = read(file);
      for (const target of relativeLinks(md)) {
        const [path = '', anchor] = target.split('#');
        const to = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(root, file)} → ${target}`;
        if (!existsSync(to)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor && to.endsWith('.md') && !anchorsOf(read(to)).has(anchor))
          broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });
});
