// One complete element from a string (a stanza carried in an interlink frame), with the same
// result as ltx.parse but one reusable tokenizer: ltx.parse builds a parser, a tokenizer and
// their listeners for every call, which showed in the profile of a receiving router. Throws,
// as ltx.parse does, on malformed XML, and (stricter) on text that is not exactly one element;
// the tokenizer is replaced after any failure, so one bad frame leaves nothing for the next.
// Text after the element that the tokenizer would hold (an unfinished tag, a stray word) is
// found by a probe element written after it, which only a tokenizer at rest reads back whole.
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

/** Written after each stanza; nothing else uses this name. */
const PROBE = 'meridian-probe';
const PROBE_TAG = `<${PROBE}/>`;

type ProbeState = 'off' | 'written' | 'opened' | 'closed' | 'bad';

export class StanzaParser {
  private tokenizer: Tokenizer = this.newTokenizer();
  private probe: ProbeState = 'off';
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
    if (!this.atRest()) {
      this.tokenizer = this.newTokenizer();
      throw new Error('text after the element');
    }
    return result;
  }

  /** The tokenizer holds nothing after the element: the probe comes back as one element. */
  private atRest(): boolean {
    this.probe = 'written';
    try {
      this.tokenizer.write(PROBE_TAG);
    } catch {
      this.probe = 'bad';
    }
    // Set by the tokenizer's listeners during write(), which the compiler does not see.
    const rest = (this.probe as ProbeState) === 'closed';
    this.probe = 'off';
    return rest;
  }

  private newTokenizer(): Tokenizer {
    const tokenizer = new SaxLtx();
    tokenizer.on('startElement', (name, attrs) => {
      if (this.probe !== 'off') {
        const clean = this.probe === 'written' && name === PROBE && Object.keys(attrs).length === 0;
        this.probe = clean ? 'opened' : 'bad';
        return;
      }
      if (this.done) {
        this.extra = true;
        return;
      }
      const child = new Element(name, attrs);
      this.current = this.current ? this.current.cnode(child) : child;
    });
    tokenizer.on('endElement', (name) => {
      if (this.probe !== 'off') {
        this.probe = this.probe === 'opened' && name === PROBE ? 'closed' : 'bad';
        return;
      }
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
      if (this.probe !== 'off') {
        if (text.trim() !== '') this.probe = 'bad';
        return;
      }
      if (this.current) this.current.t(text);
      else if (text.trim() !== '') this.extra = true;
    });
    tokenizer.on('error', (error) => {
      if (this.probe !== 'off') this.probe = 'bad';
      this.error ??= error;
    });
    return tokenizer;
  }
}
