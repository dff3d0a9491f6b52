-- Helpers shared by the Lua examples (uas.lua, hold.lua, transfer.lua):
-- SDP bodies, names for log lines, one-shot timers and a bounded loop.
-- They are part of the examples, not of the sipsess module;
-- examples/c/common.[ch] and examples/python/common.py are the same helpers.
--
-- The library never reads SDP, so the examples do, just enough for hold:
-- one audio stream whose a= direction attribute is all that changes.
local sipsess = require "sipsess"

local M = {}

M.SDP_TYPE = "application/sdp"

local DIRECTIONS = { sendrecv = true, sendonly = true, recvonly = true, inactive = true }
local MIRROR = { sendonly = "recvonly", recvonly = "sendonly", inactive = "inactive" }

-- One PCMU audio stream on loopback with an a=<direction> line.
function M.sdp(version, direction, port)
  return table.concat({
    "v=0",
    ("o=- 4242 %d IN IP4 127.0.0.1"):format(version),
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    ("m=audio %d RTP/AVP 0"):format(port or 4000),
    "a=rtpmap:0 PCMU/8000",
    "a=" .. (direction or "sendrecv"),
    "" }, "\r\n")
end

-- The direction an SDP body asks for ("none" without a body).
function M.direction(body)
  if not body or body == "" then return "none" end
  for line in body:gmatch("[^\r\n]+") do
    local a = line:match("^a=(%a+)%s*$")
    if a and DIRECTIONS[a] then return a end
  end
  return "sendrecv"
end

-- RFC 3264 §6.1: the answer's direction for an offer's.
function M.mirror(d)
  return MIRROR[d] or "sendrecv"
end

-- '<sip:carol@host;transport=udp?Replaces=...>;p=1' -> 'sip:carol@host;transport=udp'
function M.refer_target(value)
  local v = value:match("<([^>]*)>") or value:match("^%s*([^;]*)")
  return (v:gsub("%?.*$", ""))
end

function M.state_name(s) return sipsess.names.state[s] or tostring(s) end
function M.cause_name(c) return sipsess.names.cause[c] or tostring(c) end

-- '200 OK' for a response, 'no response' for a timeout (nil).
function M.status_text(resp)
  if not resp then return "no response" end
  return ("%d %s"):format(resp.status, resp.reason or "")
end

function M.first_line(body)
  return (body or ""):match("^[^\r\n]*")
end

-- log("text") prints "prog(lua): text", a line at a time.
function M.logger(prog)
  io.stdout:setvbuf("line")
  return function(text) io.stdout:write(prog, "(lua): ", text, "\n") end
end

-- One-shot timers on the UA's clock, and a loop that steps the UA until
-- done() or max_s seconds passed. Timers also serve to act after a
-- callback returned (loop:later(0, fn)) rather than inside it.
local Loop = {}
Loop.__index = Loop

function M.loop(ua)
  return setmetatable({ ua = ua, timers = {} }, Loop)
end

function Loop:later(ms, fn, ...)
  local t = { at = self.ua.now + ms, fn = fn, args = table.pack(...) }
  local i = #self.timers + 1
  while i > 1 and self.timers[i - 1].at > t.at do i = i - 1 end
  table.insert(self.timers, i, t)
end

-- true when done() became true, false after max_s seconds. A callback
-- error (the UA has raise_errors) is raised from here.
function Loop:run(done, max_s)
  local ua = self.ua
  local stop_at = ua.now + max_s * 1000
  while true do
    while self.timers[1] and self.timers[1].at <= ua.now do
      local t = table.remove(self.timers, 1)
      t.fn(table.unpack(t.args, 1, t.args.n))
    end
    if done() then return true end
    local now = ua.now
    if now >= stop_at then return false end
    local wait = math.min(stop_at - now, 50)
    if self.timers[1] then wait = math.min(wait, self.timers[1].at - now) end
    local ok, msg = ua:step(math.max(0, math.floor(wait)))
    if not ok then error(msg, 0) end
  end
end

-- Options: positional arguments in order, then "--name value" pairs.
-- spec = { positional = {"listen"}, defaults = { listen = "...", calls = 0 } }
function M.args(argv, prog, spec, usage)
  local opt, pos = {}, {}
  for k, v in pairs(spec.defaults or {}) do opt[k] = v end
  local i = 1
  while argv[i] do
    local a = argv[i]
    local name = a:match("^%-%-([%w-]+)$")
    if a == "-h" or a == "--help" then
      io.stdout:write(usage, "\n")
      os.exit(0)
    elseif name then
      local key = name:gsub("-", "_")
      if opt[key] == nil or argv[i + 1] == nil then
        io.stderr:write(prog, ": bad option ", a, "\n", usage, "\n")
        os.exit(2)
      end
      local v = argv[i + 1]
      if type(opt[key]) == "number" then v = tonumber(v) end
      if v == nil then
        io.stderr:write(prog, ": --", name, " wants a number\n")
        os.exit(2)
      end
      opt[key] = v
      i = i + 2
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  for k, name in ipairs(spec.positional or {}) do
    if pos[k] then opt[name] = pos[k] end
    if opt[name] == nil then
      io.stderr:write(prog, ": missing ", name:upper(), "\n", usage, "\n")
      os.exit(2)
    end
  end
  if #pos > #(spec.positional or {}) then
    io.stderr:write(prog, ": too many arguments\n", usage, "\n")
    os.exit(2)
  end
  return opt
end

return M
