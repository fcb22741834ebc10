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
  // A password holding "@": URL parsers split the user info at the last "@" of the authority.
  assert.equal(withoutPassword('postgresql://app:hun@ter2@db:5432/orders'), 'postgresql://db:5432/orders');
  // Oracle's user/password@ form, and spaces around "=".
  assert.equal(
    withoutPassword('jdbc:oracle:thin:scott/tiger@db.internal:1521:ORCL'),
    'jdbc:oracle:thin:@db.internal:1521:ORCL',
  );
  assert.equal(
    withoutPassword('Server=db;User Id=sa;Password = hunter2;Pwd="a b";'),
    'Server=db;User Id=sa;Password=****;Pwd=****;',
  );
});

test('URLs lose their user info and keep the rest', () => {
  assert.equal(withoutUserInfo('https://bob:pw@example.com/a?b=c'), 'https://example.com/a?b=c');
  assert.equal(withoutUserInfo('https://example.com/@handle'), 'https://example.com/@handle');
  assert.equal(withoutUserInfo('https://alice:p@ssw0rd@api.example.com/x@y'), 'https://api.example.com/x@y');
});
