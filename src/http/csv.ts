import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';

/** Streams CSV text as a download; the file name is built from checked ids only. */
export async function sendCsv(res: Response, fileName: string, csv: AsyncIterable<string>): Promise<void> {
  res.set('Content-Type', 'text/csv; charset=utf-8');
  res.set('Content-Disposition', `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`);
  await pipeline(Readable.from(csv), res);
}
