-- Shared helpers of the busted specs in tests/lua/ (not a spec itself).
--
--   local H = require "helper"
--   local sipsess = H.sipsess
--
-- The module comes from SIPSESS_LUA_CPATH ("<build>/lua/?.so", set by
-- `make test-lua`), else from ../../build/lua next to this file, so the
-- suite also runs as plain `cd tests/lua && busted .` after `make lua`.
local H = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local function abspath(p)
  if p:sub(1, 1) == "/" then return p end
  local pwd = io.popen("pwd"):read("l")
  p = p:gsub("^%./?", "")
  return p == "" and pwd or (pwd .. "/" .. p)
end
H.dir = abspath(here)
H.build = os.getenv("SIPSESS_BUILD") or (H.dir .. "/../../build")
local cpath = os.getenv("SIPSESS_LUA_CPATH") or (H.build .. "/lua/?.so")
if not package.cpath:find(cpath, 1, true) then
  package.cpath = cpath .. ";" .. package.cpath
end
-- Under the sanitizers (make test-bindings-asan preloads the ASan
-- runtime): no valgrind, and RSS figures mean nothing.
H.sanitized = (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true) ~= nil
H.HOST = os.getenv("SIPSESS_LUA_HOST") or (H.build .. "/bin/sipsess-lua")
H.UA = os.getenv("SIPSESS_UA") or (H.build .. "/bin/sipsess-ua")

local sipsess = require "sipsess"
local system = require "system"
H.sipsess = sipsess
H.system = system

H.SDP = table.concat({
  "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
  "m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "" }, "\r\n")
H.SDP2 = H.SDP:gsub("o=%- 1 1", "o=- 1 2"):gsub("4000", "4002")
H.CT = "application/sdp"

function H.now() return system.monotime() end

-- "sip:user@127.0.0.1:PORT" for listener idx of ua (with ;transport=).
function H.uri(ua, user, transport, idx)
  local u = ("sip:%s@127.0.0.1:%d"):format(user or "x", ua:port(idx or 0))
  if transport then u = u .. ";transport=" .. transport end
  return u
end

-- Errors raised in callbacks (an assert in a delegate) only reach the UA's
-- error handler: the UAs made here record them, and every spec checks
-- after each test that there were none (H.check_errors).
H.cb_errors = {}
function H.record_error(traceback, name)
  H.cb_errors[#H.cb_errors + 1] = tostring(name) .. ": " .. tostring(traceback)
end
function H.check_errors()
  local e = H.cb_errors
  H.cb_errors = {}
  if #e > 0 then error("errors in callbacks:\n" .. table.concat(e, "\n"), 2) end
end

-- Cleanups of the running test (busted keeps only the last finally()):
-- H.defer(fn) adds one, every spawned process adds its kill, and
-- H.after_test, every spec's after_each, runs them (last first), then
-- checks that no callback raised.
H.cleanups = {}
function H.defer(fn) H.cleanups[#H.cleanups + 1] = fn end
function H.after_test()
  local c = H.cleanups
  H.cleanups = {}
  local failed
  for i = #c, 1, -1 do
    local ok, err = pcall(c[i])
    if not ok then failed = failed or err end
  end
  H.check_errors()
  if failed then error("cleanup: " .. tostring(failed), 2) end
end

-- sipsess.new_ua with the recording error handler (unless opts has one).
function H.new_ua(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.error_handler == nil then o.error_handler = H.record_error end
  return sipsess.new_ua(o)
end

-- A UA on the memnet `net` with the virtual clock; opts as for new_ua.
function H.mem_ua(net, opts)
  local o = { listen = "mem:0", memnet = net, virtual_clock = true }
  for k, v in pairs(opts or {}) do o[k] = v end
  return H.new_ua(o)
end

-- Virtual clock: advance every UA by `tick` ms (default 5) until pred()
-- is true or max_ms of virtual time passed. Returns pred()'s last value.
function H.pump(uas, pred, max_ms, tick)
  tick, max_ms = tick or 5, max_ms or 5000
  local t = 0
  while true do
    local v = pred()
    if v or t >= max_ms then return v end
    for _, ua in ipairs(uas) do
      local ok, msg = ua:advance(tick)
      if not ok then error("advance: " .. tostring(msg), 2) end
    end
    t = t + tick
  end
end

-- Advance every UA by `ms` in `tick` steps, whatever happens.
function H.run_for(uas, ms, tick)
  H.pump(uas, function() return false end, ms, tick)
end

-- Real sockets: step every UA until pred() or timeout_s of wall time.
function H.spin(uas, pred, timeout_s)
  local deadline = H.now() + (timeout_s or 5)
  local slice = #uas > 1 and 1 or 10
  while true do
    local v = pred()
    if v or H.now() > deadline then return v end
    for _, ua in ipairs(uas) do
      local ok, msg = ua:step(slice)
      if not ok then error("step: " .. tostring(msg), 2) end
    end
  end
end

-- A UA delegate answering every INVITE with 200 + SDP answer and the
-- session delegate made by make_delegate(session, request) (may be nil).
-- Sessions answered are appended to the returned `calls` list.
function H.answerer(make_delegate, answer)
  local calls = {}
  local d = {}
  function d:on_invite(session, request)
    calls[#calls + 1] = session
    if make_delegate then
      local del = make_delegate(session, request)
      if del then assert(session:set_delegate(del)) end
    end
    if answer ~= false then
      assert(request:accept(H.SDP2, H.CT))
    end
  end
  return d, calls
end

-- A memnet pair: caller `a` and callee `b` (b's UA delegate is `bdel`).
function H.mem_pair(bdel, aopts, bopts)
  local net = sipsess.Memnet()
  local b = H.mem_ua(net, bopts)
  if bdel then assert(b:set_delegate(bdel)) end
  local a = H.mem_ua(net, aopts)
  return net, a, b
end

-- Place a call a -> b on a memnet pair and pump until Confirmed on both
-- sides; returns the caller's session and the callee's (from calls).
function H.connect(a, b, calls, adel, handler)
  local n0 = #calls
  local s = assert(a:invite(H.uri(b, "b"), H.SDP, H.CT, nil, adel, handler))
  assert(H.pump({ a, b }, function()
    return s.state == sipsess.SESSION_CONFIRMED and calls[n0 + 1]
      and calls[n0 + 1].state == sipsess.SESSION_CONFIRMED
  end, 2000), "call not confirmed")
  return s, calls[n0 + 1]
end

-- Send an in-dialog request with `send(session, handler)` and pump until
-- its final response; returns the response's status (nil: none came).
function H.final_status(uas, send)
  local status
  local function handler(_, resp)
    if resp and resp.status >= 200 then status = resp.status end
    if not resp then status = 0 end
  end
  assert(send(handler))
  H.pump(uas, function() return status end, 5000)
  return status
end

-- Collect garbage until nothing more goes (finalizers can free more).
function H.full_gc()
  for _ = 1, 4 do collectgarbage("collect") end
end

-- Number of live values in a weak table.
function H.count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- ---------------------------------------------------------------- --
-- Subprocesses: always under `timeout`, output in files, killed after
-- the test (H.after_test) if still running.

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
H.sh_quote = sh_quote

local function read_file(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end
H.read_file = read_file

local Proc = {}
Proc.__index = Proc

-- Start argv (a list) in the background, bounded by `limit_s` seconds
-- (SIGTERM, then SIGKILL 2 s later). stdout is line buffered.
function H.spawn(argv, limit_s)
  local dir = io.popen("mktemp -d /tmp/sipsess-lua-spec.XXXXXX"):read("l")
  assert(dir and #dir > 0, "mktemp failed")
  local words = {}
  for i, a in ipairs(argv) do words[i] = sh_quote(a) end
  local cmd = ("timeout -k 2 %d stdbuf -oL -eL %s"):format(limit_s or 20, table.concat(words, " "))
  -- the subshell records the pid of `timeout` and, at the end, the status
  local script = ("(%s >%s/out 2>%s/err </dev/null & echo $! >%s/pid; wait $!; echo $? >%s/rc.tmp; mv %s/rc.tmp %s/rc) >/dev/null 2>&1 &")
    :format(cmd, dir, dir, dir, dir, dir, dir)
  assert(os.execute(script))
  local self = setmetatable({ dir = dir, argv = argv }, Proc)
  local deadline = H.now() + 5
  while not read_file(dir .. "/pid") or read_file(dir .. "/pid") == "" do
    assert(H.now() < deadline, "spawn: no pid")
    system.sleep(0.005)
  end
  self.pid = tonumber(read_file(dir .. "/pid"):match("%d+"))
  H.defer(function() self:kill() end)
  return self
end

function Proc:stdout() return read_file(self.dir .. "/out") or "" end
function Proc:stderr() return read_file(self.dir .. "/err") or "" end

-- The exit status once it ended, else nil.
function Proc:status()
  if self.rc then return self.rc end
  local t = read_file(self.dir .. "/rc")
  if t and t:match("%d") then self.rc = tonumber(t:match("%d+")) end
  return self.rc
end

-- Wait (running `tick()` meanwhile, else sleeping) until the process ends
-- or timeout_s passes; returns the status or nil.
function Proc:wait(timeout_s, tick)
  local deadline = H.now() + (timeout_s or 20)
  while not self:status() and H.now() < deadline do
    if tick then tick() else system.sleep(0.01) end
  end
  return self:status()
end

-- Wait until stdout matches `pattern` (capture returned) or the process
-- ends / timeout_s passes (nil).
function Proc:wait_output(pattern, timeout_s, tick)
  local deadline = H.now() + (timeout_s or 10)
  while H.now() < deadline do
    local m = self:stdout():match(pattern)
    if m then return m end
    if self:status() then return self:stdout():match(pattern) end
    if tick then tick() else system.sleep(0.01) end
  end
end

-- A listening sipsess-ua (--print-ports): the port of its listener.
function Proc:port(proto)
  return tonumber(self:wait_output("listening " .. (proto or "udp") .. ":127%.0%.0%.1:(%d+)", 10))
end

function Proc:kill()
  if self.killed then return end
  if not self:status() and self.pid then
    os.execute(("kill %d 2>/dev/null"):format(self.pid))
    if not self:wait(5) then os.execute(("kill -KILL %d 2>/dev/null"):format(self.pid)) end
  end
  self.killed = true
  os.execute("rm -rf " .. sh_quote(self.dir))
end

function Proc:describe()
  return ("%s\nstatus %s\n--- stdout\n%s--- stderr\n%s"):format(
    table.concat(self.argv, " "), tostring(self:status()), self:stdout(), self:stderr())
end

-- Run a script under the embeddable host (SIPSESS_LUA_HOST).
function H.host(script, args, opts)
  opts = opts or {}
  local argv = { H.HOST }
  if opts.timeout then
    argv[#argv + 1] = "--timeout"
    argv[#argv + 1] = tostring(opts.timeout)
  end
  argv[#argv + 1] = H.dir .. "/host/" .. script
  for _, a in ipairs(args or {}) do argv[#argv + 1] = tostring(a) end
  return H.spawn(argv, opts.limit or 20)
end

-- Run a Lua snippet under stock lua5.4 with the module path set.
function H.lua(code, limit_s)
  local prelude = ("package.cpath = %q .. ';' .. package.cpath\n"):format(cpath)
  return H.spawn({ "lua5.4", "-e", prelude .. code }, limit_s or 20)
end

return H
