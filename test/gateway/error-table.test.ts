// docs/API.md's error table and the code table in src/gateway/errors.ts are one table: every code
// has one row and one status in both, and every code the gateway can answer is listed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RejectCodes } from '../../src/core/types.js';
import { errorStatus, GatewayError, GatewayErrorCodes, type ReplyCode } from '../../src/gateway/errors.js';

/** The rows of the table under "## Errors": each code in the first column with the status of the second. */
function documentedStatuses(): Map<string, number | null> {
  const markdown = readFileSync(new URL('../../../docs/API.md', import.meta.url), 'utf8');
  const section = markdown.slice(markdown.indexOf('\n## Errors'));
  const rows = section.slice(0, section.indexOf('\n\n', section.indexOf('| code | HTTP |'))).split('\n');
  const statuses = new Map<string, number | null>();
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || !cells[1].startsWith('`')) continue;
    const status = cells[2] === '—' ? null : Number(cells[2]);
    assert.ok(status === null || Number.isInteger(status), `status of row ${row}`);
    for (const match of cells[1].matchAll(/`([A-Z_]+)`/g)) {
      assert.ok(!statuses.has(match[1]), `${match[1]} has two rows in docs/API.md`);
      statuses.set(match[1], status);
    }
  }
  return statuses;
}

describe('the error table', () => {
  it('docs/API.md lists exactly the codes of errors.ts, each with its one status', () => {
    const documented = documentedStatuses();
    assert.ok(documented.size > 40, 'the table was found');
    assert.deepEqual(
      [...documented].sort(([a], [b]) => a.localeCompare(b)),
      Object.entries(errorStatus).sort(([a], [b]) => a.localeCompare(b)),
    );
  });

  it('has a row for every gateway and engine code', () => {
    for (const code of [...GatewayErrorCodes, ...RejectCodes])
      assert.ok(Object.hasOwn(errorStatus, code), `${code} has no status`);
  });

  it('gives a thrown error the status of its code, never one chosen at the throw site', () => {
    for (const [code, status] of Object.entries(errorStatus)) {
      if (status === null) continue;
      assert.equal(new GatewayError(code as ReplyCode, 'x').statusCode, status);
    }
  });
});
