import { describe, expect, it } from 'vitest';
import { isPublicAddress, webhookUrlProblem } from '../../src/domain/webhook-target';

/**
 * Which webhook targets Herald refuses as written. Every way of spelling a loopback or private
 * address must be refused: IPv6 forms that embed an IPv4 address are judged by the address they
 * embed, and a host name's trailing dot (the DNS root) does not hide `localhost`.
 */
const refused = [
  // IPv4 spelt the usual way and the WHATWG URL parser's other ways (all become 127.0.0.1).
  'http://127.0.0.1/',
  'http://127.1/',
  'http://0x7f.1/',
  'http://2130706433/',
  'http://0177.0.0.1/',
  'http://10.1.2.3/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data',
  'http://0.0.0.0/',
  'http://192.0.2.10/',
  // IPv4-compatible IPv6 (::/96, deprecated): never a reachable host.
  'http://[::7f00:1]/',
  'http://[::127.0.0.1]/',
  'http://[::a01:203]/',
  'http://[::5db8:d822]/',
  // IPv4-mapped (::ffff:0:0/96), in every spelling.
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[0:0:0:0:0:ffff:127.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/',
  // IPv4-translated (::ffff:0:0:0/96, RFC 2765/6145).
  'http://[::ffff:0:7f00:1]/',
  'http://[::ffff:0:a00:1]/',
  // NAT64: the well-known prefix (64:ff9b::/96) with a private IPv4, and the local-use prefix.
  'http://[64:ff9b::7f00:1]/',
  'http://[64:ff9b::127.0.0.1]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[64:ff9b:1::7f00:1]/',
  'http://[64:ff9b:1::5db8:d822]/',
  // 6to4 (2002::/16) around a private IPv4.
  'http://[2002:7f00:1::1]/',
  'http://[2002:a00:1::]/',
  'http://[2002:c0a8:101::1]/',
  // Teredo (2001::/32): a private server, or a private client (stored inverted).
  'http://[2001:0:7f00:1:0:0:a2ff:fefe]/',
  'http://[2001:0:5db8:d822:0:0:80ff:fffe]/',
  // Other IPv6 outside the global unicast space, or reserved inside it.
  'http://[::1]/',
  'http://[::]/',
  'http://[fc00::1]/',
  'http://[fd12:3456::1]/',
  'http://[fe80::1]/',
  'http://[fec0::1]/',
  'http://[ff02::1]/',
  'http://[100::1]/',
  'http://[2001:db8::1]/',
  'http://[5f00::1]/',
  // localhost, with or without the root's trailing dot, in any case.
  'http://localhost/',
  'http://localhost./',
  'http://LOCALHOST./',
  'http://LocalHost:8080/x',
  'http://foo.localhost/',
  'http://foo.localhost./',
  'http://localhost../',
];

const accepted = [
  'https://example.com/herald',
  'https://example.com./herald',
  'https://hooks.example.com:8443/x?y=1',
  'http://93.184.216.34/',
  'http://[2606:4700::1111]/',
  'http://[2a00:1450:4001:80b::200e]/',
  // Embedded IPv4 addresses that are public are judged as such.
  'http://[::ffff:93.184.216.34]/',
  'http://[64:ff9b::5db8:d822]/',
  'http://[2002:5db8:d822::1]/',
  'https://notlocalhost.example/',
  'https://localhost.example.com/',
];

describe('webhook targets as written', () => {
  it.each(refused)('refuses %s', (url) => {
    const problem = webhookUrlProblem(url, false);
    expect(problem).toBeDefined();
    expect(problem).toContain('HERALD_WEBHOOKS_ALLOW_PRIVATE');
    // Allowed for tests and closed networks.
    expect(webhookUrlProblem(url, true)).toBeUndefined();
  });

  it.each(accepted)('accepts %s', (url) => {
    expect(webhookUrlProblem(url, false)).toBeUndefined();
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.1', false],
    ['::7f00:1', false],
    ['::127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['0:0:0:0:0:ffff:127.0.0.1', false],
    ['::ffff:0:7f00:1', false],
    ['64:ff9b::7f00:1', false],
    ['64:ff9b:1::7f00:1', false],
    ['2002:7f00:1::1', false],
    ['2002:a9fe:a9fe::1', false],
    ['2001:0:7f00:1::a2ff:fefe', false],
    ['2001:0:5db8:d822::80ff:fffe', false],
    ['fe80::1%eth0', false],
    ['not-an-address', false],
    ['localhost', false],
    ['93.184.216.34', true],
    ['2606:4700::1111', true],
    ['::ffff:93.184.216.34', true],
    ['64:ff9b::93.184.216.34', true],
    ['2002:5db8:d822::1', true],
    ['2001:0:5db8:d822::a247:2dcb', true],
  ])('%s: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
