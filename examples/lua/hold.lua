-- hold.lua — call, put the call on hold and take it back, hang up.
--
-- Shows: placing a call with an SDP offer, then in-dialog requests one
-- after the other, each sent when the previous one got its final
-- response: re-INVITE with a=sendonly (hold: the answer must say recvonly
-- or inactive), INFO, MESSAGE, re-INVITE with a=sendrecv (unhold: the
-- answer must say sendrecv), UPDATE without a body, BYE. Each 200 to a
-- re-INVITE must carry an SDP answer.
--
--   lua5.4 examples/lua/hold.lua sip:bob@127.0.0.1:5070 \
--       [--listen udp:127.0.0.1:0] [--max-time SEC]
--
-- The module is found through SIPSESS_LUA_CPATH (e.g. "build/lua/?.so")
-- or ../../build/lua/?.so relative to this script. Exits 0 when every
-- step got its 2xx, 1 on the first failure or after --max-time (default
-- 10 s). Run examples/*/uas.* as the peer. Same program in C
-- (examples/c/hold.c) and Python (examples/python/hold.py).
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.cpath = (os.getenv("SIPSESS_LUA_CPATH") or dir .. "/../../build/lua/?.so") .. ";" .. package.cpath
package.path = dir .. "/?.lua;" .. package.path
local sipsess = require "sipsess"
local common = require "common"

local USAGE = "usage: hold.lua URI [--listen SPEC] [--max-time SEC]"
local opt = common.args(arg, "hold.lua", {
  positional = { "uri" },
  defaults = { listen = "udp:127.0.0.1:0", max_time = 10 },
}, USAGE)

local log = common.logger("hold")
local SDP_TYPE, direction, status_text = common.SDP_TYPE, common.direction, common.status_text

-- what, request, direction of our offer, directions accepted in the answer
local STEPS = {
  { "hold", "INVITE", "sendonly", { recvonly = true, inactive = true } },
  { "dtmf", "INFO" },
  { "text", "MESSAGE" },
  { "unhold", "INVITE", "sendrecv", { sendrecv = true } },
  { "refresh", "UPDATE" },
  { "hangup", "BYE" },
}

local ua = sipsess.new_ua{ listen = opt.listen, identity = "sip:hold@127.0.0.1", raise_errors = true }
local loop = common.loop(ua)
local h = { version = 0, step = 0 } -- result: 0 success, 1 failure

local function finish(code, text)
  if h.result == nil then
    h.result = code
    log(text)
  end
end

local function fail(text)
  finish(1, "FAIL: " .. text)
  local s = h.session
  if s and s.state == sipsess.SESSION_CONFIRMED then s:bye() end
end

local function keys(t)
  local k = {}
  for name in pairs(t) do k[#k + 1] = name end
  table.sort(k)
  return table.concat(k, " or ")
end

local next_step

local function on_step_response(session, resp)
  if resp and resp.status < 200 then return end
  local what, method, offer_dir, want = table.unpack(STEPS[h.step])
  local label = what .. ": " .. method .. (offer_dir and " " .. offer_dir or "")
  if not resp or resp.status >= 300 then
    return fail(("%s -> %s"):format(label, status_text(resp)))
  end
  if want then
    local got = direction(resp.body)
    log(("%s -> %s answer %s"):format(label, status_text(resp), got))
    if resp.body == "" then return fail(label .. ": the 200 carries no SDP answer") end
    if not want[got] then
      return fail(("%s: answer %s, expected %s"):format(label, got, keys(want)))
    end
  else
    log(("%s -> %s"):format(label, status_text(resp)))
  end
  if method == "BYE" then
    finish(0, "PASS")
  else
    loop:later(0, next_step)
  end
end

function next_step()
  h.step = h.step + 1
  local what, method, offer_dir = table.unpack(STEPS[h.step])
  local s, hd = h.session, on_step_response
  local ok, err
  if method == "INVITE" then
    h.version = h.version + 1
    ok, err = s:invite(common.sdp(h.version, offer_dir), SDP_TYPE, nil, hd)
  elseif method == "INFO" then
    ok, err = s:info("Signal=5\r\nDuration=160\r\n", "application/dtmf-relay", nil, hd)
  elseif method == "MESSAGE" then
    ok, err = s:message("on hold for a moment", "text/plain", nil, hd)
  elseif method == "UPDATE" then
    ok, err = s:update(nil, nil, nil, hd)
  else
    ok, err = s:bye(nil, hd)
  end
  if not ok then fail(("%s: %s not sent: %s"):format(what, method, err)) end
end

local function on_invite_response(session, resp)
  if resp and resp.status < 200 then return log(status_text(resp)) end
  if not resp or resp.status >= 300 then
    return fail("INVITE -> " .. status_text(resp))
  end
  log(("INVITE -> %s sdp %s"):format(status_text(resp), direction(resp.body)))
  if resp.body == "" then return fail("the 200 carries no SDP answer") end
  loop:later(0, next_step)
end

-- the session delegate
local delegate = {}
function delegate:on_terminated(session, cause)
  log("call ended: " .. common.cause_name(cause))
  if h.result == nil and cause ~= sipsess.TERM_LOCAL_BYE then
    fail(("the call ended early (%s)"):format(common.cause_name(cause)))
  end
end

log("calling " .. opt.uri)
h.version = 1
local session, err = ua:invite(opt.uri, common.sdp(h.version), SDP_TYPE, nil, delegate,
                               on_invite_response)
if not session then
  log(("FAIL: cannot call %s: %s"):format(opt.uri, err))
  ua:close()
  os.exit(1)
end
h.session = session

local status
if loop:run(function() return h.result ~= nil end, opt.max_time) then
  status = h.result
else
  finish(1, ("FAIL: timeout after %g s (step %d)"):format(opt.max_time, h.step))
  status = 1
end
ua:close()
os.exit(status)
