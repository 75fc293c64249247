/**
 * What a scan yields: the source text and the offsets of its elements, attributes and comments. Kept
 * apart from the scanner so that the modules that only read a scanned document (the model, the edits,
 * lint) need not know how it was scanned or stored.
 */
import type { LineColumn } from './line-column.js';

/** An attribute as written: decoded value plus the offsets of its bytes. */
export interface XmlAttribute {
  readonly name: string;
  /** The value with references decoded. */
  readonly value: string;
  /** Offset of the attribute's name. */
  readonly start: number;
  /** Offset just after the closing quote. */
  readonly end: number;
  /** Offset just after the opening quote. */
  readonly valueStart: number;
  /** Offset of the closing quote. */
  readonly valueEnd: number;
  readonly quote: "'" | '"';
}

/** An element as written. For `<x/>`, `openEnd === closeStart === end`. */
export interface XmlElement {
  readonly name: string;
  /** Offset of `<`. */
  readonly start: number;
  /** Offset just after the element's name in the start tag. */
  readonly nameEnd: number;
  /** Offset of the `/>` or `>` that ends the start tag. */
  readonly tagClose: number;
  /** Offset just after the start tag's `>`. */
  readonly openEnd: number;
  readonly selfClosing: boolean;
  /** Offset of the end tag's `</` (equal to `end` for a self-closing element). */
  readonly closeStart: number;
  /** Offset just after the element's last `>`. */
  readonly end: number;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
}

/** A comment as written; `text` is what stands between `<!--` and `-->`. */
export interface XmlComment {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The result of a scan: the source and what was found in it. */
export interface XmlDocument {
  readonly source: string;
  readonly root: XmlElement;
  readonly comments: readonly XmlComment[];
  /**
   * The 1-based line and column of an offset in `source`, from one line index per document (built on
   * first use), so that positions of many elements cost a binary search each.
   */
  lineColumnAt(offset: number): LineColumn;
  /** How many elements and attributes the document has, and the most attributes on one element. */
  readonly counts: XmlCounts;
}

/**
 * The size of a document in what costs a validator time: elements, attributes, and the most
 * attributes one element carries.
 *
 * @example
 * scanXml("<domain a='1' b='2'><name/></domain>").counts // { elements: 2, attributes: 2, mostAttributes: 2 }
 */
export interface XmlCounts {
  readonly elements: number;
  readonly attributes: number;
  readonly mostAttributes: number;
}
