// Bounds on what the reader accepts: every header value may come from an attacker (an app reachable
// without the edge), so sizes and counts are capped before anything is decoded.

/** One header value, in characters. A URL-encoded PEM chain of 10 certificates fits comfortably. */
export const MAX_HEADER_VALUE_CHARS = 64 * 1024;
/** Copies of one header name the reader looks at (RFC 9440 allows Client-Cert-Chain to be split). */
export const MAX_HEADER_COPIES = 16;
/** Certificates in total, leaf included. */
export const MAX_CERTIFICATES = 10;
/** Elements of an Envoy XFCC header and pairs of one element. */
export const MAX_XFCC_ELEMENTS = 32;
export const MAX_XFCC_PAIRS = 64;
/** Characters of a reason taken from a header (nginx FAILED:reason). */
export const MAX_REASON_CHARS = 200;
/**
 * Subject alternative names of the client certificate (of every kind). A client certificate names
 * one identity; more is refused (unreadable) rather than shortened, so an allow-list by SAN never
 * decides on part of the list.
 */
export const MAX_SANS = 256;
