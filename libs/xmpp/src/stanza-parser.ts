// One complete element from a string (a stanza carried in an interlink frame), with the same
// result as ltx.parse but one reusable tokenizer: ltx.parse builds a parser, a tokenizer and
// their listeners for every call, which showed in the profile of a receiving router. Throws,
// as ltx.parse does, on malformed XML, and (stricter) on text that is not exactly one element;
// the tokenizer is replaced after any failure, so one bad frame leaves nothing for the next.
import { Element } from 'ltx';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SaxLtx = require('ltx/lib/parsers/ltx.js') as new () => Tokenizer;

interface Tokenizer {
  write(data: string): void;
  on(event: 'startElement', listener: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', listener: (name: string) => void): void;
  on(event: 'text', listener: (text: string) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

export class StanzaParser {
  private tokenizer: Tokenizer = this.newTokenizer();
  private current: Element | null = null;
  private done: Element | null = null;
  private error: Error | null = null;
  private extra = false;

  parse(text: string): Element {
    this.current = null;
    this.done = null;
    this.error = null;
    this.extra = false;
    try {
      this.tokenizer.write(text);
    } catch (error) {
      // ltx's tokenizer throws (instead of emitting) on a bad entity.
      this.error ??= error instanceof Error ? error : new Error(String(error));
    }
    const result = this.done as Element | null;
    if (this.error || this.extra || !result || this.current) {
      const failure =
        this.error ?? new Error(result ? 'more than one element' : 'Incomplete document');
      this.tokenizer = this.newTokenizer();
      throw failure;
    }
    return result;
  }

  private newTokenizer(): Tokenizer {
    const tokenizer = new SaxLtx();
    tokenizer.on('startElement', (name, attrs) => {
      if (this.done) {
        this.extra = true;
        return;
      }
      const child = new Element(name, attrs);
      this.current = this.current ? this.current.cnode(child) : child;
    });
    tokenizer.on('endElement', (name) => {
      const current = this.current;
      if (!current) {
        this.extra = true;
        return;
      }
      if (name !== current.name) {
        this.error ??= new Error(`unexpected end tag </${name}>`);
        return;
      }
      if (current.parent) this.current = current.parent as Element;
      else {
        this.done = current;
        this.current = null;
      }
    });
    tokenizer.on('text', (text) => {
      if (this.current) this.current.t(text);
      else if (text.trim() !== '') this.extra = true;
    });
    tokenizer.on('error', (error) => {
      this.error ??= error;
    });
    return tokenizer;
  }
}
