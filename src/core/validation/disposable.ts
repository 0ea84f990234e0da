import { createRequire } from 'node:module';
import { z } from 'zod';

const domainList = z.array(z.string());

let lists: { exact: ReadonlySet<string>; wildcard: ReadonlySet<string> } | undefined;

/**
 * The `disposable-email-domains` package (a maintained list of throwaway-mail domains, ~120k):
 * `index.json` names domains, `wildcard.json` domains whose every subdomain is disposable too.
 * Loaded on first use (a few MB), then kept.
 */
function load(): NonNullable<typeof lists> {
  if (!lists) {
    const require = createRequire(import.meta.url);
    lists = {
      exact: new Set(domainList.parse(require('disposable-email-domains/index.json'))),
      wildcard: new Set(domainList.parse(require('disposable-email-domains/wildcard.json'))),
    };
  }
  return lists;
}

/** True when the (lower-case) domain is a throwaway-mail domain or a subdomain of a wildcard one. */
export function isDisposableDomain(domain: string): boolean {
  const { exact, wildcard } = load();
  if (exact.has(domain)) return true;
  for (let d = domain; d.includes('.'); d = d.slice(d.indexOf('.') + 1)) {
    if (wildcard.has(d)) return true;
  }
  return false;
}
