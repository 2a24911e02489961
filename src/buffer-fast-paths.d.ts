// Node's Buffer has a fast method per encoding (what Buffer#write and #toString call after parsing
// their arguments); @types/node leaves them out. The log encoder and the id maker use them on the
// request path, where that argument parsing is measurable.
declare global {
  interface Buffer {
    latin1Write(text: string, offset: number): number;
    utf8Write(text: string, offset: number): number;
    latin1Slice(start: number, end: number): string;
  }
}

export {};
