import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutUserInfo } from '../../../src/xray/http-block.js';
import { withoutPassword } from '../../../src/xray/sql-block.js';

test('connection strings lose their credentials in every common form', () => {
  assert.equal(withoutPassword('postgresql://app:hunter2@db:5432/orders'), 'postgresql://db:5432/orders');
  assert.equal(withoutPassword('postgres://app@db/orders'), 'postgres://db/orders');
  assert.equal(withoutPassword('jdbc:postgresql://app:pw@db/orders'), 'jdbc:postgresql://db/orders');
  assert.equal(
    withoutPassword('postgresql://db/orders?user=app&password=pw&ssl=true'),
    'postgresql://db/orders?user=app&password=****&ssl=true',
  );
  assert.equal(
    withoutPassword('Server=db;Database=orders;User Id=app;Password=pw;'),
    'Server=db;Database=orders;User Id=app;Password=****;',
  );
  assert.equal(withoutPassword('host=db dbname=orders pwd=pw'), 'host=db dbname=orders pwd=****');
  assert.equal(withoutPassword('postgresql://db:5432/orders'), 'postgresql://db:5432/orders');
});

test('URLs lose their user info and keep the rest', () => {
  assert.equal(withoutUserInfo('https://bob:pw@example.com/a?b=c'), 'https://example.com/a?b=c');
  assert.equal(withoutUserInfo('https://example.com/@handle'), 'https://example.com/@handle');
});
