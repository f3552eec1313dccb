// DTMI syntax per DTDL version, reasons for refusal, and the models-repository path convention.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dtmiToRepositoryPath, isUserDtmi } from '../../../nodes/lib/dtdl';
import { whyNotUserDtmi } from '../../../nodes/lib/dtdl/dtmi';

describe('DTMI syntax', () => {
  test('user DTMIs of DTDL v3/v4: version optional, one or two parts', () => {
    for (const ok of ['dtmi:com:example:Thermostat;1', 'dtmi:a', 'dtmi:foo_bar:baz33:qux;12', 'dtmi:ex:A;999999999', 'dtmi:ex:A;1.999999', 'dtmi:ex:A;7.1']) {
      assert.equal(isUserDtmi(ok, 3), true, ok);
      assert.equal(isUserDtmi(ok, 4), true, ok);
    }
  });

  test('DTDL v2 requires a one-part version', () => {
    assert.equal(isUserDtmi('dtmi:com:example:Thermostat;1', 2), true);
    assert.equal(isUserDtmi('dtmi:com:example:Thermostat', 2), false);
    assert.equal(isUserDtmi('dtmi:com:example:Thermostat;1.2', 2), false);
  });

  test('each refusal says why', () => {
    const cases: Array<[string, RegExp]> = [
      ['urn:ex:A;1', /starts with "dtmi:"/],
      ['dtmi:foo_bar:_16:baz33:qux;12', /"_16" is a system segment/],
      ['dtmi:ex:9lives;1', /"9lives" starts with a digit/],
      ['dtmi:ex:a-b;1', /only letters, digits and underscores/],
      ['dtmi:ex:ab_;1', /ends with an underscore/],
      ['dtmi:ex::b;1', /must not be empty/],
      ['dtmi:ex:A;01', /without a leading zero/],
      ['dtmi:ex:A;1234567890', /1 to 9 digits/],
      ['dtmi:ex:A;1.0', /minor version "0"/],
      ['dtmi:ex:A;1.1234567', /1 to 6 digits/],
      ['dtmi:ex:A;1.2.3', /too many parts/],
      [`dtmi:ex:${'a'.repeat(2040)};1`, /longer than 2048/],
    ];
    for (const [dtmi, reason] of cases) {
      assert.equal(isUserDtmi(dtmi, 3), false, dtmi);
      assert.match(whyNotUserDtmi(dtmi, 3) ?? '', reason, dtmi);
    }
    assert.equal(whyNotUserDtmi('dtmi:ex:A;1', 3), undefined);
  });

  test('models-repository path: lower case, colons to folders, version suffix', () => {
    assert.equal(dtmiToRepositoryPath('dtmi:com:example:Thermostat;1'), 'dtmi/com/example/thermostat-1.json');
    assert.equal(dtmiToRepositoryPath('dtmi:twinflow:cnc:CNCMachine;1'), 'dtmi/twinflow/cnc/cncmachine-1.json');
  });
});
