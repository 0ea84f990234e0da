/** Escapes LIKE's wildcards (with `ESCAPE '\\'`) so user text is matched literally; the same on both databases. */
export const escapeLike = (q: string): string => q.replace(/[\\%_]/g, (c) => `\\${c}`);
