import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers.js';

let holder: Server | undefined;
afterEach(() => holder?.close());

describe('a port already in use', () => {
  it('refuses to start with what to do, instead of crashing on the missing address', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    const app = buildApp(testConfig({ PORT: String(taken) }), { scheduler: false });
    await expect(app.start()).rejects.toThrow(
      `port ${taken} on 127.0.0.1 is already in use: stop the other process or set PORT to a free port.`,
    );
    await app.stop();
  });
});
