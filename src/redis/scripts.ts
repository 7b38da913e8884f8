// The Lua scripts that make each operation one atomic step on the server.
// Redis runs a script to the end without interleaving, but never rolls one
// back: a script that failed after a write would keep that write. So every
// script checks everything first and writes only when nothing can fail. Types
// and constraints are checked in TypeScript before a write is sent (the same
// specs every backend uses); the scripts check what only the server knows:
// existence, versions, the version limit, and that the variable is still the
// one the client validated against. Every committed change is appended to the
// session's stream in the same step, so watchers and near caches see writes in
// commit order. Keys: see keys.ts (every script receives them all, in order).
//
// Every number a script returns goes back as text: node-redis 6 decodes an
// integer reply of 2^53 - 1 as 2^53 (seen here), and a version must be exact.

const PRELUDE = `
local names, desc, val, ver, meta, ua, session, log = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local MAX_VERSION = 9007199254740991
-- An identifier resolves as an id first, then as a name.
local function resolve(e)
  if redis.call('HEXISTS', desc, e) == 1 then return e end
  local byName = redis.call('HGET', names, e)
  if byName then return byName end
  return nil
end
-- Server time in ms; never before a variable's last update.
local function clock(e)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if e then
    local last = tonumber(redis.call('HGET', ua, e) or '0')
    if last > now then now = last end
  end
  return now
end
-- The id of the feed's last entry ('0-0' when it has none).
local function lastId()
  local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  if #last == 0 then return '0-0' end
  return last[1][1]
end
-- An integer as text: Lua 5.1 would print 2^53 - 1 as 9.007199254741e+15.
local function int(n) return string.format('%d', n) end
-- One entry of the change feed; q numbers entries so a reader can tell a gap.
local function append(maxlen, ...)
  local q = redis.call('HINCRBY', session, 'seq', 1)
  return redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', 'q', q, ...)
end
`;

/** A script: its source, and how many KEYS it takes (always every session key). */
export interface Script {
  readonly name: string;
  readonly source: string;
}

/** Fields a batch script reads or writes per HMGET or HSET call. */
const BATCH_CHUNK = 1000;
/** Batch items per change-feed entry: bounds an entry's size (~100 bytes an item) for readers of the stream. */
export const BATCH_ENTRY_ITEMS = 1000;

function script(name: string, body: string): Script {
  return { name, source: `${PRELUDE}\n${body}` };
}

/** ARGV: encName, descriptor JSON, value JSON, metadata JSON, maxlen, max serial. → {'ok', serial, order, createdAt} | {'exists'} | {'serials'} */
export const REGISTER = script(
  'register',
  `
if redis.call('HEXISTS', names, ARGV[1]) == 1 then return {'exists'} end
local inner = string.sub(ARGV[1], 2, -2)
-- The next serial whose id is not a name, found before anything is written: a refusal changes nothing.
local serial = tonumber(redis.call('HGET', session, 'serial') or '0')
local e
repeat
  serial = serial + 1
  if serial > tonumber(ARGV[6]) then return {'serials'} end
  e = '"var_' .. inner .. '_' .. int(serial) .. '"'
until redis.call('HEXISTS', names, e) == 0
redis.call('HSET', session, 'serial', int(serial))
local order = redis.call('HINCRBY', session, 'order', 1)
local now = clock(nil)
redis.call('HSET', desc, e, int(order) .. '|' .. int(now) .. '|' .. ARGV[2])
redis.call('HSET', val, e, ARGV[3])
redis.call('HSET', ver, e, 0)
redis.call('HSET', meta, e, ARGV[4])
redis.call('HSET', ua, e, now)
redis.call('HSET', names, ARGV[1], e)
redis.call('HINCRBY', session, 'count', 1)
redis.call('HINCRBY', session, 'ops', 1)
append(ARGV[5], 'k', 'r', 'e', e)
return {'ok', int(serial), int(order), int(now)}
`,
);

/**
 * ARGV: encIdentifier, expected eid, value JSON, ifVersion|'', base version|'', metadata JSON|'', maxlen, hop,
 * writer, expected descriptor (the text of `desc`, which the client checked the value against: an id can
 * come back by import as another variable, with other rules). The hop is how many watch deliveries led to this write (0: none); the feed carries it to bound
 * loops. The writer is the writing client's token: the feed tells a client its own writes by it.
 * The base version is the version the client merged metadata against: if the variable moved on, the
 * client merges again. → {'ok', version, updatedAt} | {'not_found'} | {'stale', eid} | {'conflict', v} | {'moved', v} | {'limit'}
 */
export const SET = script(
  'set',
  `
local e = resolve(ARGV[1])
if not e then return {'not_found'} end
if e ~= ARGV[2] or redis.call('HGET', desc, e) ~= ARGV[10] then return {'stale', e} end
local v = tonumber(redis.call('HGET', ver, e))
if ARGV[4] ~= '' and v ~= tonumber(ARGV[4]) then return {'conflict', int(v)} end
if ARGV[5] ~= '' and v ~= tonumber(ARGV[5]) then return {'moved', int(v)} end
if v >= MAX_VERSION then return {'limit'} end
local old = redis.call('HGET', val, e)
local now = clock(e)
redis.call('HSET', val, e, ARGV[3])
local nv = redis.call('HINCRBY', ver, e, 1)
redis.call('HSET', ua, e, int(now))
local m = ARGV[6]
if m ~= '' then redis.call('HSET', meta, e, m) else m = redis.call('HGET', meta, e) end
redis.call('HINCRBY', session, 'ops', 1)
redis.call('HINCRBY', session, 'updates', 1)
append(ARGV[7], 'k', 's', 'e', e, 'o', old, 'v', ARGV[3], 'n', int(nv), 'm', m, 't', int(now), 'h', ARGV[8], 'c', ARGV[9])
return {'ok', int(nv), int(now)}
`,
);

/**
 * ARGV: n items, m guards, apply ('1'|'0'), maxlen, hop, writer (as SET), items, guards. `items` is a JSON
 * array of n × (encIdentifier, expected eid, value JSON, ifVersion|'', base version|'', metadata JSON|'',
 * expected descriptor (as SET)),
 * `guards` a JSON array of m × (encIdentifier, version), every element a string: one argument each rather
 * than six per item, which costs the client and the server a tenth as much to send and parse. An item
 * whose value failed the client's checks comes with value '': it is checked, and does not count towards
 * the version limit of a variable the batch names again (it would not be written).
 * Checks every item and guard; applies all items in order only if all pass (and apply is '1').
 * → {'ok', version…, updatedAt} | {'fail', status…} with one status per item then per guard:
 * 'ok' | 'not_found' | 'stale:<eid>' | 'conflict:<v>' | 'moved:<v>' | 'limit'.
 *
 * A batch reads and writes each hash with one call per BATCH_CHUNK fields (a command's arguments must fit
 * Lua's stack of 8,000 slots), and goes to the feed as one entry per BATCH_ENTRY_ITEMS items, the items
 * as one JSON array of 6 strings each (feed.ts reads it back).
 */
export const BATCH = script(
  'batch',
  `
local n, g, apply, maxlen, hop, writer = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local items, guards = cjson.decode(ARGV[7]), cjson.decode(ARGV[8])
local CHUNK, PER_ENTRY = ${BATCH_CHUNK}, ${BATCH_ENTRY_ITEMS}
-- field -> value of a hash, for a list of fields, one HMGET per chunk.
local function hmget(key, fields)
  local out = {}
  for first = 1, #fields, CHUNK do
    local last = math.min(#fields, first + CHUNK - 1)
    local got = redis.call('HMGET', key, unpack(fields, first, last))
    for j = first, last do out[fields[j]] = got[j - first + 1] end
  end
  return out
end
-- HSET of a flat field, value list, one call per chunk.
local function hset(key, flat)
  for first = 1, #flat, 2 * CHUNK do redis.call('HSET', key, unpack(flat, first, math.min(#flat, first + 2 * CHUNK - 1))) end
end
-- Every identifier, items then guards, resolved as an id first, then as a name.
local idents = {}
local STRIDE = 7
for i = 1, n do idents[i] = items[(i - 1) * STRIDE + 1] end
for j = 1, g do idents[n + j] = guards[(j - 1) * 2 + 1] end
local byId, byName = hmget(desc, idents), hmget(names, idents)
local eids, found = {}, {}
for k = 1, n + g do
  local x = idents[k]
  local e = false
  if byId[x] then e = x elseif byName[x] then e = byName[x] end
  eids[k] = e
  if e then found[#found + 1] = e end
end
local versions, descs = hmget(ver, found), hmget(desc, found)
for e, v in pairs(versions) do versions[e] = tonumber(v) end
local statuses, failed, pending = {}, false, {}
for i = 1, n do
  local a = (i - 1) * STRIDE
  local e = eids[i]
  local status = 'ok'
  if not e then status = 'not_found'
  elseif e ~= items[a + 2] or descs[e] ~= items[a + 7] then status = 'stale:' .. e
  else
    local v = versions[e]
    if items[a + 4] ~= '' and v ~= tonumber(items[a + 4]) then status = 'conflict:' .. int(v)
    elseif items[a + 5] ~= '' and v ~= tonumber(items[a + 5]) then status = 'moved:' .. int(v)
    elseif v + (pending[e] or 0) >= MAX_VERSION then status = 'limit'
    elseif items[a + 3] ~= '' then pending[e] = (pending[e] or 0) + 1 end
  end
  statuses[i] = status
  if status ~= 'ok' then failed = true end
end
for j = 1, g do
  local e = eids[n + j]
  local status = 'ok'
  if not e then status = 'not_found'
  elseif versions[e] ~= tonumber(guards[j * 2]) then status = 'conflict:' .. int(versions[e]) end
  statuses[n + j] = status
  if status ~= 'ok' then failed = true end
end
if failed or apply ~= '1' then
  table.insert(statuses, 1, 'fail')
  return statuses
end
-- Apply in item order; a variable named twice is written twice (the second sees the first).
local written, seen = {}, {}
for i = 1, n do
  local e = eids[i]
  if not seen[e] then seen[e] = true; written[#written + 1] = e end
end
local values, times, metas = hmget(val, written), hmget(ua, written), hmget(meta, written)
local metaSet = {}
local now = clock(nil)
local result = {'ok'}
local feed = {}
for i = 1, n do
  local a = (i - 1) * STRIDE
  local e = eids[i]
  local t = now
  local last = tonumber(times[e] or '0')
  if last > t then t = last end
  times[e] = int(t)
  local old = values[e]
  values[e] = items[a + 3]
  local nv = versions[e] + 1
  versions[e] = nv
  local m = items[a + 6]
  if m ~= '' then metas[e] = m; metaSet[e] = true else m = metas[e] end
  result[i + 1] = int(nv)
  local f = #feed
  feed[f + 1] = e; feed[f + 2] = old; feed[f + 3] = values[e]; feed[f + 4] = int(nv); feed[f + 5] = m; feed[f + 6] = int(t)
  if i % PER_ENTRY == 0 or i == n then
    local q = redis.call('HINCRBY', session, 'seq', 1)
    redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', 'q', q, 'k', 'b', 'h', hop, 'x', i == n and '0' or '1', 'c', writer, 'i', cjson.encode(feed))
    feed = {}
  end
end
local v, r, u, mm = {}, {}, {}, {}
for _, e in ipairs(written) do
  v[#v + 1] = e; v[#v + 1] = values[e]
  r[#r + 1] = e; r[#r + 1] = int(versions[e])
  u[#u + 1] = e; u[#u + 1] = times[e]
  if metaSet[e] then mm[#mm + 1] = e; mm[#mm + 1] = metas[e] end
end
hset(val, v)
hset(ver, r)
hset(ua, u)
hset(meta, mm)
redis.call('HINCRBY', session, 'ops', n)
redis.call('HINCRBY', session, 'updates', n)
result[n + 2] = int(now)
return result
`,
);

/** ARGV: encIdentifier, expected eid, encName, maxlen. → {'ok'} | {'not_found'} | {'stale', eid} */
export const DELETE = script(
  'delete',
  `
local e = resolve(ARGV[1])
if not e then return {'not_found'} end
if e ~= ARGV[2] then return {'stale', e} end
local old, v, m = redis.call('HGET', val, e), redis.call('HGET', ver, e), redis.call('HGET', meta, e)
for _, key in ipairs({desc, val, ver, meta, ua}) do redis.call('HDEL', key, e) end
if redis.call('HGET', names, ARGV[3]) == e then redis.call('HDEL', names, ARGV[3]) end
redis.call('HINCRBY', session, 'count', -1)
redis.call('HINCRBY', session, 'ops', 1)
append(ARGV[4], 'k', 'd', 'e', e, 'o', old, 'n', v, 'm', m)
return {'ok'}
`,
);

/**
 * ARGV: encIdentifier… → per identifier: eid, descriptor, value, version, metadata, updatedAt (or six
 * false), then the feed's last sequence number and entry id, so a watch can start exactly after the
 * state it saw.
 */
export const READ = script(
  'read',
  `
local out = {}
for i = 1, #ARGV do
  local e = resolve(ARGV[i])
  if e then
    out[#out + 1] = e
    out[#out + 1] = redis.call('HGET', desc, e)
    out[#out + 1] = redis.call('HGET', val, e)
    out[#out + 1] = redis.call('HGET', ver, e)
    out[#out + 1] = redis.call('HGET', meta, e)
    out[#out + 1] = redis.call('HGET', ua, e)
  else
    for _ = 1, 6 do out[#out + 1] = false end
  end
end
out[#out + 1] = redis.call('HGET', session, 'seq') or '0'
out[#out + 1] = lastId()
return out
`,
);

/**
 * ARGV: maxlen, lowest next serial, lastImport JSON, n, then n × (encName, eid, serial, descriptor JSON,
 * value JSON, version, metadata JSON, createdAt, lastUpdatedAt). All or nothing. → {'ok'} | {'exists', index, key}
 */
export const IMPORT = script(
  'import',
  `
local n = tonumber(ARGV[4])
local BASE, STRIDE, CHUNK = 4, 9, 500
-- Checked in chunks (one HMGET per hash per chunk, not one call per key): nothing may exist yet.
for first = 1, n, CHUNK do
  local last = math.min(n, first + CHUNK - 1)
  local keys = {}
  for i = first, last do
    local a = BASE + (i - 1) * STRIDE
    keys[#keys + 1] = ARGV[a + 1]
    keys[#keys + 1] = ARGV[a + 2]
  end
  local byName, byId = redis.call('HMGET', names, unpack(keys)), redis.call('HMGET', desc, unpack(keys))
  -- In item order, a name before an id, as every backend reports the first one taken.
  for k = 1, #keys do
    if byName[k] or byId[k] then return {'exists', int(first - 1 + math.floor((k - 1) / 2)), keys[k]} end
  end
end
local serial = tonumber(redis.call('HGET', session, 'serial') or '0')
-- The exporter's next serial: ids it may have generated (and deleted) are never generated here.
if tonumber(ARGV[2]) - 1 > serial then serial = tonumber(ARGV[2]) - 1 end
local order = tonumber(redis.call('HGET', session, 'order') or '0')
for first = 1, n, CHUNK do
  local last = math.min(n, first + CHUNK - 1)
  local d, v, r, m, u, nm = {}, {}, {}, {}, {}, {}
  for i = first, last do
    local a = BASE + (i - 1) * STRIDE
    local e = ARGV[a + 2]
    order = order + 1
    d[#d + 1] = e; d[#d + 1] = int(order) .. '|' .. ARGV[a + 8] .. '|' .. ARGV[a + 4]
    v[#v + 1] = e; v[#v + 1] = ARGV[a + 5]
    r[#r + 1] = e; r[#r + 1] = ARGV[a + 6]
    m[#m + 1] = e; m[#m + 1] = ARGV[a + 7]
    u[#u + 1] = e; u[#u + 1] = ARGV[a + 9]
    nm[#nm + 1] = ARGV[a + 1]; nm[#nm + 1] = e
    local s = tonumber(ARGV[a + 3])
    if s > serial then serial = s end
  end
  redis.call('HSET', desc, unpack(d))
  redis.call('HSET', val, unpack(v))
  redis.call('HSET', ver, unpack(r))
  redis.call('HSET', meta, unpack(m))
  redis.call('HSET', ua, unpack(u))
  redis.call('HSET', names, unpack(nm))
end
redis.call('HSET', session, 'serial', int(serial), 'order', int(order))
redis.call('HINCRBY', session, 'count', n)
redis.call('HSET', session, 'lastImport', ARGV[3])
append(ARGV[1], 'k', 'i')
return {'ok'}
`,
);

/** → {desc…, val…, ver…, meta…, ua… as HGETALL lists, then count, ops, updates, createdAt, lastImport, serial} */
export const DUMP = script(
  'dump',
  `
local out = {}
for _, key in ipairs({desc, val, ver, meta, ua}) do out[#out + 1] = redis.call('HGETALL', key) end
out[#out + 1] = redis.call('HMGET', session, 'count', 'ops', 'updates', 'createdAt', 'lastImport', 'serial')
return out
`,
);

/** ARGV: createdAt. Starts a session's counters if new. → {createdAt, seq, last entry id} */
export const OPEN = script(
  'open',
  `
redis.call('HSETNX', session, 'createdAt', ARGV[1])
return {redis.call('HGET', session, 'createdAt'), redis.call('HGET', session, 'seq') or '0', lastId()}
`,
);

export const SCRIPTS = [REGISTER, SET, BATCH, DELETE, READ, IMPORT, DUMP, OPEN] as const;
