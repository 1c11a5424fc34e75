import { describe, expect, it } from 'vitest';
import { malformedSiteRequest } from './request-checks.ts';

describe('malformedSiteRequest', () => {
  it('refuses paths that do not percent-decode', () => {
    expect(malformedSiteRequest('/%ZZ')).toBe('the path "/%ZZ" is not valid percent-encoding');
    expect(malformedSiteRequest('/a/%')).toMatch(/not valid percent-encoding/);
    expect(malformedSiteRequest('/%C0?x=1')).toMatch(/not valid percent-encoding/);
    expect(malformedSiteRequest('/caf%C3%A9?q=%ZZ')).toBeUndefined(); // a page's own query is the app's business
  });

  it('checks /_next/image parameters as the image optimizer needs them', () => {
    expect(malformedSiteRequest('/_next/image?url=%2Flogo.png&w=64&q=75')).toBeUndefined();
    expect(malformedSiteRequest('/_next/image?url=https%3A%2F%2Fcdn.example.com%2Fa.png&w=640&q=100')).toBeUndefined();
    expect(malformedSiteRequest('/_next/image?w=64&q=75')).toBe('`url` is required');
    expect(malformedSiteRequest('/_next/image?url=%ZZ&w=64&q=75')).toBe('`url` is not valid percent-encoding');
    expect(malformedSiteRequest('/_next/image?url=%2F%2Fevil.example%2Fa.png&w=64')).toBe('`url` cannot be protocol-relative');
    expect(malformedSiteRequest('/_next/image?url=file%3A%2F%2F%2Fetc%2Fpasswd&w=64')).toMatch(/must be a path starting with \//);
    expect(malformedSiteRequest('/_next/image?url=logo.png&w=64')).toMatch(/must be a path starting with \//);
    expect(malformedSiteRequest('/_next/image?url=%2Fa.png&w=-1')).toBe('`w` must be a positive whole number');
    expect(malformedSiteRequest('/_next/image?url=%2Fa.png&w=abc')).toBe('`w` must be a positive whole number');
    expect(malformedSiteRequest('/_next/image?url=%2Fa.png&w=64&q=0')).toBe('`q` must be a whole number from 1 to 100');
    expect(malformedSiteRequest('/_next/image?url=%2Fa.png&w=64&q=101')).toBe('`q` must be a whole number from 1 to 100');
  });
});
