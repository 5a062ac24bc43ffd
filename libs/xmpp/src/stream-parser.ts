// The incoming side of an XMPP stream (RFC 6120 §4, §11; RFC 7395 for WebSocket framing),
// bounded on every axis: bytes per top-level element (`policy-violation`), nesting depth,
// attributes per element and their size. Malformed XML, a mismatched end tag, a bad entity,
// a DOCTYPE, a comment or a processing instruction end the stream with the matching stream
// error instead of an exception. Built on ltx's SAX tokenizer; the element tree is built
// here so end tags can be checked.
import { Element } from 'ltx';
// ltx's tokenizer has no typings of its own; its surface is three events and write().
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SaxLtx = require('ltx/lib/parsers/ltx.js') as new () => SaxTokenizer;

interface SaxTokenizer {
  write(data: string): void;
  on(event: 'startElement', listener: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', listener: (name: string) => void): void;
  on(event: 'text', listener: (text: string) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

export interface StreamLimits {
  /** Bytes of one top-level element (a stanza, or a nonza such as <auth/>). */
  readonly maxStanzaBytes: number;
  readonly maxDepth: number;
  readonly maxAttributes: number;
  readonly maxAttributeBytes: number;
}

export type StreamCondition =
  'not-well-formed' | 'policy-violation' | 'restricted-xml' | 'invalid-namespace' | 'bad-format';

export class StreamError extends Error {
  constructor(
    readonly condition: StreamCondition,
    message: string,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

export type StreamEvent =
  | { readonly kind: 'open'; readonly attrs: Readonly<Record<string, string>> }
  | { readonly kind: 'element'; readonly element: Element }
  | { readonly kind: 'close' };

export const STREAM_NS = 'http://etherx.jabber.org/streams';
/**
 * Size of the slices input is tokenized in. Unfinished input (text the tokenizer has not
 * emitted yet) is bounded by the element limit plus one slice.
 */
const PIECE = 4096;
export const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';
/** XML white space only (or nothing). */
const BLANKS = /^[ \t\r\n]*$/;

/**
 * `stream`: TCP, one long document `<stream:stream>` with top-level elements at depth 1.
 * `websocket`: RFC 7395, every frame one complete element; `<open/>` and `<close/>` frame it.
 */
export type Framing = 'stream' | 'websocket';

export class XmppStreamParser {
  private tokenizer!: SaxTokenizer;
  private stack: Element[] = [];
  private events: StreamEvent[] = [];
  private failure: StreamError | null = null;
  private streamOpen = false;
  /** Bytes written since the last top-level element ended: bounds what the tokenizer buffers. */
  private pendingBytes = 0;
  /** Size of the top-level element being built (names, attributes and text as received). */
  private elementBytes = 0;
  private tail = '';
  /** Input held until the optional XML declaration of a TCP stream is complete. */
  private preamble: string | null = '';
  /** The last event opened the stream or ended a top-level element. */
  private endedTopLevel = false;
  /**
   * Input so far ends between top-level elements (after the last one's `>` only blanks): a
   * chunk of blanks now is a whitespace keepalive (RFC 6120 §4.6.1).
   */
  private betweenElements = false;

  constructor(
    private limits: StreamLimits,
    private readonly framing: Framing,
  ) {
    this.reset();
  }

  /** A smaller bound before authentication, the configured one after. */
  setLimits(limits: StreamLimits): void {
    this.limits = limits;
  }

  /** A new stream on the same transport (after STARTTLS or SASL success). */
  reset(): void {
    this.tokenizer = new SaxLtx();
    this.stack = [];
    this.streamOpen = false;
    this.pendingBytes = 0;
    this.elementBytes = 0;
    this.tail = '';
    this.preamble = this.framing === 'stream' ? '' : null;
    this.endedTopLevel = false;
    this.betweenElements = false;
    this.tokenizer.on('startElement', (name, attrs) => this.onStart(name, attrs));
    this.tokenizer.on('endElement', (name) => this.onEnd(name));
    this.tokenizer.on('text', (text) => this.onText(text));
    this.tokenizer.on('error', (error) => this.fail('not-well-formed', error.message));
  }

  /**
   * Feeds decoded text (a socket with setEncoding('utf8'), or one WebSocket frame) and returns
   * what it completed. Throws StreamError; after that the parser refuses further input.
   */
  write(input: string): StreamEvent[] {
    if (this.failure) throw this.failure;
    const chunk = this.afterDeclaration(input);
    if (chunk === '') return [];
    // Not given to the tokenizer, which would hold every blank until the next '<': keepalives
    // of an otherwise idle stream would add up to the element limit.
    if (this.betweenElements && BLANKS.test(chunk)) return [];
    this.checkRestricted(chunk);
    // In pieces, so a chunk holding many small stanzas is not mistaken for one big one: the
    // size of an element is known to within one piece, and so is what the tokenizer holds.
    for (let at = 0; at < chunk.length && !this.failure; at += PIECE) {
      if (this.pendingBytes > this.limits.maxStanzaBytes + PIECE) {
        this.fail('policy-violation', `element larger than ${this.limits.maxStanzaBytes} bytes`);
        break;
      }
      const piece = chunk.length <= PIECE ? chunk : chunk.slice(at, at + PIECE);
      this.pendingBytes += piece.length;
      try {
        this.tokenizer.write(piece);
      } catch (error) {
        // ltx throws on an unknown or malformed entity.
        this.fail('not-well-formed', error instanceof Error ? error.message : String(error));
      }
    }
    if (!this.failure && this.pendingBytes > this.limits.maxStanzaBytes + PIECE) {
      this.fail('policy-violation', `element larger than ${this.limits.maxStanzaBytes} bytes`);
    }
    if (this.failure) throw this.failure;
    // Blanks after the `>` that ended the last top-level element. A chunk with no `>` at all
    // is inside something (had it been blanks only, it was dropped above).
    const lastTagEnd = chunk.lastIndexOf('>');
    this.betweenElements =
      lastTagEnd !== -1 &&
      this.endedTopLevel &&
      this.stack.length === 0 &&
      BLANKS.test(chunk.slice(lastTagEnd + 1));
    const events = this.events;
    this.events = [];
    return events;
  }

  /**
   * Takes the `<?xml ...?>` declaration off the start of a TCP stream here: ltx's tokenizer
   * loses the rest of the stream when `?>` is split across two writes.
   */
  private afterDeclaration(chunk: string): string {
    if (this.preamble === null) return chunk;
    const held = (this.preamble + chunk).trimStart();
    if ('<?'.startsWith(held) && held.length < 2) {
      this.preamble = held;
      return '';
    }
    if (!held.startsWith('<?')) {
      this.preamble = null;
      return held;
    }
    const end = held.indexOf('?>');
    if (end === -1) {
      if (held.length > 1024) throw this.fail('not-well-formed', 'unterminated XML declaration');
      this.preamble = held;
      return '';
    }
    if (!/^<\?xml\s/.test(held))
      throw this.fail('restricted-xml', 'processing instructions are not allowed');
    this.preamble = null;
    return held.slice(end + 2);
  }

  private checkRestricted(chunk: string): void {
    // RFC 6120 §11.1: no DTD, comment, or processing instruction (the XML declaration of a
    // TCP stream is taken off before). The end of the previous chunk catches a split one.
    const text = this.tail + chunk;
    this.tail = text.slice(-4);
    if (text.includes('<!') && !/<!\[CDATA\[/.test(text)) {
      throw this.fail('restricted-xml', 'DTDs and comments are not allowed');
    }
    if (text.includes('<?'))
      throw this.fail('restricted-xml', 'processing instructions are not allowed');
  }

  private onStart(name: string, attrs: Record<string, string>): void {
    if (this.failure) return;
    const count = Object.keys(attrs).length;
    if (count > this.limits.maxAttributes) {
      this.fail(
        'policy-violation',
        `more than ${this.limits.maxAttributes} attributes on <${name}>`,
      );
      return;
    }
    for (const key in attrs) {
      if (key.length + attrs[key]!.length > this.limits.maxAttributeBytes) {
        this.fail('policy-violation', `attribute ${key} of <${name}> is too large`);
        return;
      }
    }
    if (this.framing === 'stream' && !this.streamOpen) {
      if (name !== 'stream:stream' && !(name === 'stream' && attrs.xmlns === STREAM_NS)) {
        this.fail('not-well-formed', `expected <stream:stream>, got <${name}>`);
        return;
      }
      if (name === 'stream:stream' && attrs['xmlns:stream'] !== STREAM_NS) {
        this.fail(
          'invalid-namespace',
          'the stream namespace must be http://etherx.jabber.org/streams',
        );
        return;
      }
      this.streamOpen = true;
      this.pendingBytes = 0;
      this.endedTopLevel = true;
      this.events.push({ kind: 'open', attrs });
      return;
    }
    const depth = this.stack.length + 1;
    if (depth > this.limits.maxDepth) {
      this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
      return;
    }
    if (depth === 1) this.elementBytes = 0;
    this.endedTopLevel = false;
    this.grow(name.length * 2 + 5);
    for (const key in attrs) this.grow(key.length + attrs[key]!.length + 4);
    if (this.failure) return;
    const element = new Element(name, attrs);
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.cnode(element);
    this.stack.push(element);
  }

  private onEnd(name: string): void {
    if (this.failure) return;
    const element = this.stack.pop();
    if (!element) {
      if (
        this.framing === 'stream' &&
        this.streamOpen &&
        (name === 'stream:stream' || name === 'stream')
      ) {
        this.events.push({ kind: 'close' });
        return;
      }
      this.fail('not-well-formed', `unexpected </${name}>`);
      return;
    }
    if (element.name !== name) {
      this.fail('not-well-formed', `</${name}> does not close <${element.name}>`);
      return;
    }
    if (this.stack.length > 0) return;
    this.pendingBytes = 0;
    this.endedTopLevel = true;
    if (this.framing === 'websocket' && element.attrs.xmlns === FRAMING_NS) {
      if (element.name === 'open') this.events.push({ kind: 'open', attrs: element.attrs });
      else if (element.name === 'close') this.events.push({ kind: 'close' });
      else this.fail('bad-format', `unknown framing element <${element.name}>`);
      return;
    }
    this.events.push({ kind: 'element', element });
  }

  private onText(text: string): void {
    if (this.failure) return;
    const current = this.stack[this.stack.length - 1];
    if (current) {
      this.grow(text.length);
      if (!this.failure) current.t(text);
    } else if (text.trim() !== '') this.fail('not-well-formed', 'text outside of any element');
  }

  private grow(bytes: number): void {
    this.elementBytes += bytes;
    if (this.elementBytes > this.limits.maxStanzaBytes) {
      this.fail('policy-violation', `element larger than ${this.limits.maxStanzaBytes} bytes`);
    }
  }

  private fail(condition: StreamCondition, message: string): StreamError {
    this.failure ??= new StreamError(condition, message);
    return this.failure;
  }
}
