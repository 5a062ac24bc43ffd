// Type declarations for ltx 3 (it ships none), covering what Meridian uses.
declare module 'ltx' {
  export type Node = Element | string;

  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined>);
    name: string;
    attrs: Record<string, string>;
    children: Node[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string, xmlns?: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    root(): Element;
    up(): Element;
    c(name: string, attrs?: Record<string, string | number | undefined>): Element;
    cnode<T extends Node>(child: T): T;
    append(...nodes: Node[]): this;
    t(text: string): Element;
    remove(el: Element | string, xmlns?: string): this;
    attr(name: string, value?: string): string | this;
    toString(): string;
  }

  export interface ParserOptions {
    Element?: typeof Element;
  }

  export class Parser {
    constructor(options?: ParserOptions);
    write(data: string): void;
    end(data?: string): void;
    on(
      event: 'startElement',
      listener: (name: string, attrs: Record<string, string>) => void,
    ): this;
    on(event: 'endElement', listener: (name: string) => void): this;
    on(event: 'text', listener: (text: string) => void): this;
    on(event: 'element', listener: (element: Element) => void): this;
    on(event: 'tree', listener: (element: Element) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export function parse(xml: string): Element;
  /** Deep copy (Element has no clone method in ltx 3). */
  export function clone<T extends Node>(node: T): T;
  export function escapeXML(value: string): string;
  export function escapeXMLText(value: string): string;
  export function createElement(
    name: string,
    attrs?: Record<string, string>,
    ...children: Node[]
  ): Element;
}
