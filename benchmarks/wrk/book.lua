-- opening_day.py's booking round for wrk: every request books the next person of this
-- thread's list (each line "token<TAB>reference id", in people-<thread>.tsv), on the hot
-- session (the first line of sessions.tsv) or, with "spread", on a session drawn at random
-- from the others. Statuses are counted per thread; done() prints one RESULT line.
-- Arguments (after --): the folder of the files, "one" or "spread".
local threads, made = {}, 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  local dir = args[1]
  spread = args[2] == "spread"
  people, sessions = {}, {}
  for line in io.lines(dir .. "/people-" .. id .. ".tsv") do
    local token, ref = line:match("^([^\t]+)\t([^\t]+)$")
    people[#people + 1] = {token, ref}
  end
  for line in io.lines(dir .. "/sessions.tsv") do
    local sid, slot = line:match("^([^\t]+)\t([^\t]+)$")
    sessions[#sessions + 1] = {sid, slot}
  end
  math.randomseed(id + 1)
  nxt, ok, refused, other = 0, 0, 0, 0
end

function request()
  nxt = nxt + 1
  local p = people[(nxt - 1) % #people + 1]  -- past the end: refused (already booked)
  local s = spread and sessions[math.random(2, #sessions)] or sessions[1]
  local body = string.format(
    '{"dose":1,"session_id":"%s","slot":"%s","beneficiaries":["%s"]}', s[1], s[2], p[2])
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. p[1],
                                   ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 409 then refused = refused + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local o, r, e = 0, 0, 0
  for _, t in ipairs(threads) do
    o, r, e = o + t:get("ok"), r + t:get("refused"), e + t:get("other")
  end
  local s = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n", o, r, e,
    s.connect + s.read + s.write + s.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
