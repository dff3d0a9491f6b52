-- transfer.lua — call B, then transfer B to C (blind transfer, RFC 3515).
--
-- Shows: the referrer side of a REFER: once the call to B is answered it
-- sends REFER with Refer-To: TARGET, then follows the transfer through
-- the NOTIFYs B sends (on_notify; request.sipfrag_status is the status
-- line of their message/sipfrag body: 100 Trying, 180 Ringing, 200 OK).
-- When the sipfrag says 2xx the transfer worked: it hangs up its own
-- call (BYE).
--
--   lua5.4 examples/lua/transfer.lua sip:bob@127.0.0.1:5070 sip:carol@127.0.0.1:5071 \
--       [--listen udp:127.0.0.1:0] [--max-time SEC]
--
-- The module is found through SIPSESS_LUA_CPATH (e.g. "build/lua/?.so")
-- or ../../build/lua/?.so relative to this script. Exits 0 after the BYE
-- that follows a 2xx sipfrag got its 2xx; 1 when the REFER is refused,
-- the sipfrag reports a failure, or --max-time (default 10 s) passes.
-- Run examples/*/uas.* as B and C. Same program in C
-- (examples/c/transfer.c) and Python (examples/python/transfer.py).
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.cpath = (os.getenv("SIPSESS_LUA_CPATH") or dir .. "/../../build/lua/?.so") .. ";" .. package.cpath
package.path = dir .. "/?.lua;" .. package.path
local sipsess = require "sipsess"
local common = require "common"

local USAGE = "usage: transfer.lua URI TARGET [--listen SPEC] [--max-time SEC]"
local opt = common.args(arg, "transfer.lua", {
  positional = { "uri", "target" },
  defaults = { listen = "udp:127.0.0.1:0", max_time = 10 },
}, USAGE)

local log = common.logger("transfer")
local status_text = common.status_text

local ua = sipsess.new_ua{ listen = opt.listen, identity = "sip:transfer@127.0.0.1",
                           raise_errors = true }
local loop = common.loop(ua)
local t = { final = 0 } -- result: 0 success, 1 failure; final: the final sipfrag status

local function finish(code, text)
  if t.result == nil then
    t.result = code
    log(text)
  end
end

local function fail(text)
  finish(1, "FAIL: " .. text)
  local s = t.session
  if s and s.state == sipsess.SESSION_CONFIRMED then s:bye() end
end

local function on_bye_response(session, resp)
  if resp and resp.status < 200 then return end
  if not resp or resp.status >= 300 then return fail("BYE -> " .. status_text(resp)) end
  log("BYE -> " .. status_text(resp))
  finish(0, "PASS")
end

local function hangup()
  local ok, err = t.session:bye(nil, on_bye_response)
  if not ok then fail("BYE not sent: " .. err) end
end

local function on_refer_response(session, resp)
  if resp and resp.status < 200 then return end
  local label = ("REFER to %s -> %s"):format(opt.target, status_text(resp))
  if not resp or resp.status >= 300 then return fail(label) end
  log(label)
end

local function refer()
  local ok, err = t.session:refer(opt.target, nil, on_refer_response)
  if not ok then fail("REFER not sent: " .. err) end
end

local function on_invite_response(session, resp)
  if resp and resp.status < 200 then return end
  if not resp or resp.status >= 300 then return fail("INVITE -> " .. status_text(resp)) end
  log("INVITE -> " .. status_text(resp))
  loop:later(0, refer)
end

-- the session delegate
local delegate = {}

-- The progress of the transfer (RFC 3515 §2.4.5).
function delegate:on_notify(session, request)
  local status = request.sipfrag_status
  local ended = request.subscription_terminated
  assert(request:accept())
  log(('NOTIFY sipfrag "%s"%s'):format(common.first_line(request.body),
                                        ended and " (subscription terminated)" or ""))
  if status >= 200 and t.final == 0 then
    t.final = status
    if status < 300 then
      loop:later(0, hangup)
    else
      fail(("the transfer failed: %d"):format(status))
    end
  elseif ended and t.final == 0 then
    fail("the subscription ended without a final status")
  end
end

function delegate:on_terminated(session, cause)
  log("call ended: " .. common.cause_name(cause))
  if t.result == nil and cause ~= sipsess.TERM_LOCAL_BYE then
    fail(("the call ended early (%s)"):format(common.cause_name(cause)))
  end
end

log("calling " .. opt.uri)
local session, err = ua:invite(opt.uri, common.sdp(1), common.SDP_TYPE, nil, delegate,
                               on_invite_response)
if not session then
  log(("FAIL: cannot call %s: %s"):format(opt.uri, err))
  ua:close()
  os.exit(1)
end
t.session = session

local status
if loop:run(function() return t.result ~= nil end, opt.max_time) then
  status = t.result
else
  finish(1, ("FAIL: timeout after %g s"):format(opt.max_time))
  status = 1
end
ua:close()
os.exit(status)
